import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { startEmbeddedPostgres } from '../../src/stack/embeddedPostgres.ts';
import { freePort } from '../../src/stack/freePort.ts';

export { freePort };

export interface TestPostgres {
  url: (database: string) => string;
  /** A new, empty database; returns its URL. */
  createDatabase: (name: string) => Promise<string>;
  stop: () => Promise<void>;
}

/** A PostgreSQL server of this test file's own (DATABASE_URL is used instead when set: any server will do). */
export async function startTestPostgres(): Promise<TestPostgres> {
  const external = process.env.TEST_DATABASE_URL;
  let url: (database: string) => string;
  let stop: () => Promise<void>;
  if (external) {
    url = (database) => Object.assign(new URL(external), { pathname: `/${database}` }).toString();
    stop = async () => {};
  } else {
    const dir = await mkdtemp(join(tmpdir(), 'steadfast-pg-'));
    const server = await startEmbeddedPostgres({
      dataDir: join(dir, 'pg'),
      port: await freePort(),
      password: 'test',
    });
    url = server.url;
    stop = async () => {
      await server.stop();
      await rm(dir, { recursive: true, force: true });
    };
  }
  return {
    url,
    async createDatabase(name) {
      const admin = new pg.Client({ connectionString: url('postgres') });
      await admin.connect();
      try {
        await admin.query(`DROP DATABASE IF EXISTS ${pg.escapeIdentifier(name)}`);
        await admin.query(`CREATE DATABASE ${pg.escapeIdentifier(name)}`);
      } finally {
        await admin.end();
      }
      return url(name);
    },
    stop,
  };
}
