import { readdir } from 'node:fs/promises';
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

export async function listMigrations(dir: string): Promise<string[]> {
  const files = await readdir(dir);
  return files
    .filter((f) => f.endsWith('.sql'))
    .map((f) => f.slice(0, -'.sql'.length))
    .sort();
}

/** Runs every pending migration in one transaction, under node-pg-migrate's advisory lock. */
export async function migrate(
  url: string,
  dir: string,
  log: (msg: string) => void = () => {},
): Promise<string[]> {
  const ran = await runner({
    databaseUrl: url,
    dir,
    direction: 'up',
    migrationsTable: MIGRATIONS_TABLE,
    singleTransaction: true,
    checkOrder: true,
    log,
    advisoryLockMode: 'wait',
  } as Parameters<typeof runner>[0]);
  return ran.map((m) => m.name);
}

export async function migrationStatus(
  url: string,
  dir: string,
  connectTimeoutMs = 3000,
): Promise<MigrationStatus> {
  const known = await listMigrations(dir);
  const client = new pg.Client({
    connectionString: url,
    connectionTimeoutMillis: connectTimeoutMs,
    query_timeout: connectTimeoutMs,
  });
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
