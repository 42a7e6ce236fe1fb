import pg from 'pg';

/** Creates each database that does not exist yet. */
export async function ensureDatabases(adminUrl: string, names: readonly string[]): Promise<void> {
  const admin = new pg.Client({ connectionString: adminUrl });
  // A connection cut under a query (a failover) rejects the query; unheard, its 'error' event would also
  // end the process.
  admin.on('error', () => {});
  await admin.connect();
  try {
    for (const name of names) {
      const exists = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
      if (exists.rowCount === 0) await admin.query(`CREATE DATABASE ${pg.escapeIdentifier(name)}`);
    }
  } finally {
    await admin.end();
  }
}
