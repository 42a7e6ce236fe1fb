import { BulkheadRejectedError, bulkhead } from 'cockatiel';
import pg from 'pg';
import type { Static } from 'typebox';
import Type from 'typebox';
import { Dependencies } from '../../contract/services.ts';
import { databaseSettings } from '../config/settings.ts';
import { DependencyUnavailableError } from '../errors/DependencyUnavailableError.ts';
import { type CallRecorder, callOutcome } from '../metrics/PlatformMetrics.ts';

export interface DatabaseOptions {
  url: string;
  applicationName: string;
  poolMax: number;
  /** Requests that may wait for a pool connection; past this they fail fast instead of queueing. */
  queueMax: number;
  connectTimeoutMs: number;
  statementTimeoutMs: number;
  idleInTransactionTimeoutMs: number;
  /** Told the outcome and duration of every query and transaction, and of every call the full pool refused. */
  metrics?: CallRecorder;
}

export interface PoolStats {
  max: number;
  total: number;
  idle: number;
  active: number;
  waiting: number;
}

/**
 * A statement's text, or a named one: PostgreSQL parses and plans a named statement once per connection
 * and reuses the plan, which on the hot path is CPU it no longer spends.
 */
export type Statement = string | { name: string; text: string };

/** What a query needs: the database itself, or a client inside a transaction. */
export interface Queryable {
  query<R extends pg.QueryResultRow = pg.QueryResultRow>(
    statement: Statement,
    values?: unknown[],
  ): Promise<pg.QueryResult<R>>;
}

const DatabaseSettings = Type.Object(databaseSettings);
export type DatabaseSettings = Static<typeof DatabaseSettings>;

/** A Database configured from the platform's `DB_*` settings. */
export function databaseFromSettings(
  settings: DatabaseSettings,
  applicationName: string,
  metrics?: CallRecorder,
): Database {
  return new Database({
    metrics,
    url: settings.DATABASE_URL,
    applicationName,
    poolMax: settings.DB_POOL_MAX,
    queueMax: settings.DB_POOL_QUEUE_MAX,
    connectTimeoutMs: settings.DB_CONNECT_TIMEOUT_MS,
    statementTimeoutMs: settings.DB_STATEMENT_TIMEOUT_MS,
    idleInTransactionTimeoutMs: settings.DB_IDLE_IN_TRANSACTION_TIMEOUT_MS,
  });
}

/** What the database is called in logs, metrics and health bodies. */
export const DATABASE = Dependencies.database;

/**
 * A PostgreSQL pool that cannot hang: connecting and waiting for a free connection are both bounded by
 * the connect timeout, statements by the server-side statement timeout and, should the server stop
 * answering altogether, by a client-side read timeout just above it. Connection failures surface as
 * DependencyUnavailableError (503); SQL errors stay what they are (a bug: 500).
 */
export class Database {
  readonly pool: pg.Pool;
  readonly #options: DatabaseOptions;
  readonly #gate;

  constructor(options: DatabaseOptions) {
    this.#options = options;
    this.pool = new pg.Pool({
      connectionString: options.url,
      application_name: options.applicationName,
      max: options.poolMax,
      connectionTimeoutMillis: options.connectTimeoutMs,
      statement_timeout: options.statementTimeoutMs,
      idle_in_transaction_session_timeout: options.idleInTransactionTimeoutMs,
      // The server enforces statement_timeout; this catches a server that no longer answers at all.
      query_timeout: options.statementTimeoutMs + 1000,
      keepAlive: true,
      idleTimeoutMillis: 30000,
    });
    // An idle client whose server went away emits 'error' on the pool; it is removed, nothing to do.
    this.pool.on('error', () => {});
    this.#gate = bulkhead(options.poolMax, options.queueMax);
    options.metrics?.knowDependency(DATABASE);
  }

  get options(): Readonly<DatabaseOptions> {
    return this.#options;
  }

  async query<R extends pg.QueryResultRow = pg.QueryResultRow>(
    statement: Statement,
    values: unknown[] = [],
  ): Promise<pg.QueryResult<R>> {
    return this.#guard(() =>
      typeof statement === 'string'
        ? this.pool.query<R>(statement, values)
        : this.pool.query<R>({ ...statement, values }),
    );
  }

  /** Runs `work` in one transaction; rolls back and discards the connection on any error. */
  async transaction<T>(work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
    return this.#guard(async () => {
      const client = await this.pool.connect();
      // A checked-out client has no error listener: without one, a connection dropped between two
      // statements would crash the process. The next statement fails and is classified instead.
      const ignore = () => {};
      client.on('error', ignore);
      try {
        await client.query('BEGIN');
        const result = await work(client);
        await client.query('COMMIT');
        client.release();
        return result;
      } catch (error) {
        // A connection that broke or timed out may be half-dead: discard it rather than roll back on it.
        const broken = classifyDatabaseError(error) instanceof DependencyUnavailableError;
        const rolledBack =
          !broken &&
          (await client.query('ROLLBACK').then(
            () => true,
            () => false,
          ));
        client.release(rolledBack ? undefined : true);
        throw error;
      } finally {
        client.removeListener('error', ignore);
      }
    });
  }

  stats(): PoolStats {
    const { totalCount, idleCount, waitingCount } = this.pool;
    return {
      max: this.#options.poolMax,
      total: totalCount,
      idle: idleCount,
      active: totalCount - idleCount,
      waiting: waitingCount + this.#options.queueMax - this.#gate.queueSlots,
    };
  }

  async close(): Promise<void> {
    await this.pool.end();
  }

  async #guard<T>(work: () => Promise<T>): Promise<T> {
    const started = performance.now();
    const metrics = this.#options.metrics;
    try {
      const result = await this.#gate.execute(work);
      metrics?.recordCall(DATABASE, 'success', (performance.now() - started) / 1000);
      return result;
    } catch (error) {
      const classified = classifyDatabaseError(error);
      const outcome = callOutcome(classified);
      metrics?.recordCall(DATABASE, outcome, (performance.now() - started) / 1000);
      if (outcome === 'rejected_bulkhead') metrics?.recordPoolRejection();
      throw classified;
    }
  }
}

/**
 * SQLSTATE classes and client errors that mean "the database is not available", not "the SQL is wrong".
 * 25006 (read_only_sql_transaction): the connection is to a node that no longer takes writes, a standby
 * or a primary demoted by a failover. Nothing was written; the connection is discarded (pg's pool drops
 * a client whose query failed, and a transaction's broken connection is never reused) and the next one
 * is made to the address given, which a failover has moved to the new primary.
 */
const UNAVAILABLE_SQLSTATES = new Set(['57P01', '57P02', '57P03', '53300', '53400', '57014', '25006']);
const CONNECTION_ERROR_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'ENOTFOUND',
]);
const CONNECTION_MESSAGES = [
  'timeout exceeded when trying to connect',
  'Connection terminated',
  'Query read timeout',
  'Client has encountered a connection error',
  'Connection terminated unexpectedly',
];

export function classifyDatabaseError(error: unknown): unknown {
  if (error instanceof DependencyUnavailableError) return error;
  if (error instanceof BulkheadRejectedError) {
    return new DependencyUnavailableError(DATABASE, 'saturated', { retryAfterSeconds: 1, cause: error });
  }
  const code = (error as { code?: unknown })?.code;
  const message = error instanceof Error ? error.message : '';
  if (typeof code === 'string' && (UNAVAILABLE_SQLSTATES.has(code) || code.startsWith('08'))) {
    const reason = code === '57014' ? 'timeout' : 'unreachable';
    return new DependencyUnavailableError(DATABASE, reason, { retryAfterSeconds: 2, cause: error });
  }
  if (typeof code === 'string' && CONNECTION_ERROR_CODES.has(code)) {
    return new DependencyUnavailableError(DATABASE, 'unreachable', { retryAfterSeconds: 2, cause: error });
  }
  if (CONNECTION_MESSAGES.some((m) => message.includes(m))) {
    const reason = message.includes('timeout') ? 'timeout' : 'connection_lost';
    return new DependencyUnavailableError(DATABASE, reason, { retryAfterSeconds: 2, cause: error });
  }
  return error;
}
