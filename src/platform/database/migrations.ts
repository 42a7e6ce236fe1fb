import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { runner } from 'node-pg-migrate';
import pg from 'pg';

const MIGRATIONS_TABLE = 'pgmigrations';

export interface MigrationStatus {
  /** Migrations this build ships, in order. */
  known: string[];
  /** Migrations recorded as run in the database, in order. */
  applied: string[];
  pending: string[];
  /** The schema version: how many migrations the database has run. */
  version: number;
  /** The version this build expects: how many migrations it ships. */
  expected: number;
}

/**
 * The directories of a service's migrations: its own, and those of the platform pieces it uses (a piece
 * that needs a table ships its migration). They run as one list, in the order of their names.
 */
export type MigrationDirs = readonly string[];

export async function listMigrations(dirs: MigrationDirs): Promise<string[]> {
  const files = (await Promise.all(dirs.map((dir) => readdir(dir)))).flat();
  return files
    .filter((f) => f.endsWith('.sql'))
    .map((f) => f.slice(0, -'.sql'.length))
    .sort();
}

/** node-pg-migrate's options for reading migrations from several directories. */
export function migrationFiles(dirs: MigrationDirs): { dir: string[]; useGlob: true } {
  return { dir: dirs.map((dir) => join(dir, '*.sql')), useGlob: true };
}

/** Runs every pending migration in one transaction, under node-pg-migrate's advisory lock. */
export async function migrate(
  url: string,
  dirs: MigrationDirs,
  log: (msg: string) => void = () => {},
): Promise<string[]> {
  const client = new pg.Client({ connectionString: url });
  // node-pg-migrate's own client would have no listener: a connection cut under a migration (a
  // failover) would end the process rather than fail the migration.
  client.on('error', () => {});
  await client.connect();
  const ran = await runner({
    dbClient: client,
    ...migrationFiles(dirs),
    direction: 'up',
    migrationsTable: MIGRATIONS_TABLE,
    singleTransaction: true,
    checkOrder: true,
    log,
    advisoryLockMode: 'wait',
  } as Parameters<typeof runner>[0]).finally(() => client.end());
  return ran.map((m) => m.name);
}

export async function migrationStatus(
  url: string,
  dirs: MigrationDirs,
  connectTimeoutMs = 3000,
): Promise<MigrationStatus> {
  const known = await listMigrations(dirs);
  const client = new pg.Client({
    connectionString: url,
    connectionTimeoutMillis: connectTimeoutMs,
    query_timeout: connectTimeoutMs,
  });
  // A connection cut under a query (a failover) rejects the query; unheard, its 'error' event would also
  // end the process.
  client.on('error', () => {});
  await client.connect();
  try {
    const exists = await client.query<{ present: boolean }>('SELECT to_regclass($1) IS NOT NULL AS present', [
      MIGRATIONS_TABLE,
    ]);
    const applied = exists.rows[0]?.present
      ? (
          await client.query<{ name: string }>(`SELECT name FROM ${MIGRATIONS_TABLE} ORDER BY run_on, id`)
        ).rows.map((r) => r.name)
      : [];
    const pending = known.filter((name) => !applied.includes(name));
    return { known, applied, pending, version: applied.length, expected: known.length };
  } finally {
    await client.end();
  }
}
