/** DBOS's own database, on the same server as the checkout's: DBOS creates it at its launch. */
export const DBOS_SYSTEM_DATABASE = 'dbos_system';

/** The URL of DBOS's system database beside the database of `databaseUrl`. */
export function dbosSystemDatabaseUrl(databaseUrl: string): string {
  const url = new URL(databaseUrl);
  url.pathname = `/${DBOS_SYSTEM_DATABASE}`;
  return url.toString();
}
