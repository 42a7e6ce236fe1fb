import {
  BrokenCircuitError,
  BulkheadRejectedError,
  bulkhead,
  CircuitState,
  ConsecutiveBreaker,
  circuitBreaker,
  handleAll,
  IsolatedCircuitError,
  TaskCancelledError,
  TimeoutStrategy,
  timeout,
  wrap,
} from 'cockatiel';
import type { Logger } from 'pino';
import { Pool } from 'undici';
import { DependencyUnavailableError, type UnavailableReason } from '../errors/DependencyUnavailableError.ts';
import { type CallOutcome, type CallRecorder, callOutcome } from '../metrics/PlatformMetrics.ts';
import { outgoingTraceparent } from '../tracing/traceContext.ts';

export interface HttpDependencyOptions {
  /** The dependency's name in logs, metrics, health bodies and errors, e.g. `payment`. */
  name: string;
  baseUrl: string;
  /** Budget of one call, connect to last byte. */
  timeoutMs: number;
  /** Consecutive failures that open the breaker. */
  breakerThreshold: number;
  /** How long the breaker stays open before it lets one probe through. */
  halfOpenAfterMs: number;
  /** Calls in flight at once; `maxQueue` more may wait, the rest are refused at once. */
  maxConcurrent: number;
  maxQueue: number;
  headers?: Record<string, string>;
  logger?: Logger;
  /** Told the outcome and duration of every call. */
  metrics?: CallRecorder;
}

export interface DependencyResponse<T = unknown> {
  status: number;
  body: T;
}

export type BreakerState = 'CLOSED' | 'OPEN' | 'HALF_OPEN' | 'ISOLATED';

const STATE_NAMES: Record<CircuitState, BreakerState> = {
  [CircuitState.Closed]: 'CLOSED',
  [CircuitState.Open]: 'OPEN',
  [CircuitState.HalfOpen]: 'HALF_OPEN',
  [CircuitState.Isolated]: 'ISOLATED',
};

/** A 5xx answer: the dependency is sick. Thrown inside the policy so the breaker counts it. */
class ServerErrorResponse extends Error {
  readonly status: number;
  constructor(dependency: string, status: number) {
    super(`${dependency} answered ${status}`);
    this.status = status;
  }
}

/**
 * An HTTP dependency behind its own bulkhead, circuit breaker and timeout (never shared with another
 * dependency). Answers below 500 are returned for the caller to interpret: a declined card is an
 * answer, not a failure. Everything else (5xx, timeout, connection failure, open breaker, full
 * bulkhead) throws DependencyUnavailableError, which says whether the call may have taken effect.
 */
export class HttpDependency {
  readonly name: string;
  readonly #options: HttpDependencyOptions;
  readonly #pool: Pool;
  readonly #breaker;
  readonly #policy;
  #openedAt: number | undefined;
  #unhealthySince: number | undefined;

  constructor(options: HttpDependencyOptions) {
    this.name = options.name;
    this.#options = options;
    this.#pool = new Pool(options.baseUrl, {
      connections: options.maxConcurrent,
      connect: { timeout: options.timeoutMs },
      headersTimeout: options.timeoutMs,
      bodyTimeout: options.timeoutMs,
    });
    this.#breaker = circuitBreaker(handleAll, {
      halfOpenAfter: options.halfOpenAfterMs,
      breaker: new ConsecutiveBreaker(options.breakerThreshold),
    });
    this.#breaker.onBreak(() => {
      this.#openedAt = Date.now();
      this.#unhealthySince ??= this.#openedAt;
      options.logger?.warn({ dependency: this.name, breaker: 'OPEN' }, 'breaker_opened');
    });
    this.#breaker.onReset(() => {
      this.#openedAt = undefined;
      this.#unhealthySince = undefined;
      options.logger?.info({ dependency: this.name, breaker: 'CLOSED' }, 'breaker_closed');
    });
    this.#policy = wrap(
      bulkhead(options.maxConcurrent, options.maxQueue),
      this.#breaker,
      // A call that returned has read its whole answer: there is nothing left to abort, and aborting
      // anyway costs an AbortError with its stack trace on every call. A timeout still aborts the request.
      timeout(options.timeoutMs, { strategy: TimeoutStrategy.Aggressive, abortOnReturn: false }),
    );
  }

  get breakerState(): BreakerState {
    return STATE_NAMES[this.#breaker.state];
  }

  /** Since when the breaker has been away from CLOSED, across failed probes; undefined when closed. */
  get unhealthySince(): number | undefined {
    return this.#unhealthySince;
  }

  async request<T = unknown>(
    method: 'GET' | 'POST' | 'PUT' | 'DELETE',
    path: string,
    options: { body?: unknown; headers?: Record<string, string> } = {},
  ): Promise<DependencyResponse<T>> {
    const started = performance.now();
    const traceparent = outgoingTraceparent();
    try {
      const answer = await this.#policy.execute(async ({ signal }) => {
        const response = await this.#pool.request({
          method,
          path,
          signal,
          headers: {
            accept: 'application/json',
            ...(options.body === undefined ? {} : { 'content-type': 'application/json' }),
            ...(traceparent ? { traceparent } : {}),
            ...this.#options.headers,
            ...options.headers,
          },
          body: options.body === undefined ? undefined : JSON.stringify(options.body),
        });
        const text = await response.body.text();
        if (response.statusCode >= 500) throw new ServerErrorResponse(this.name, response.statusCode);
        return { status: response.statusCode, body: (text ? JSON.parse(text) : undefined) as T };
      });
      this.#record('success', started);
      return answer;
    } catch (error) {
      const unavailable = this.#unavailable(error);
      this.#record(callOutcome(unavailable), started);
      throw unavailable;
    }
  }

  #record(outcome: CallOutcome, started: number): void {
    this.#options.metrics?.recordCall(this.name, outcome, (performance.now() - started) / 1000);
  }

  async close(): Promise<void> {
    await this.#pool.close();
  }

  #unavailable(error: unknown): DependencyUnavailableError {
    const reason = classify(error);
    const retryAfterSeconds =
      reason === 'circuit_open' && this.#openedAt !== undefined
        ? Math.max(1, Math.ceil((this.#openedAt + this.#options.halfOpenAfterMs - Date.now()) / 1000))
        : 1;
    return new DependencyUnavailableError(this.name, reason, { retryAfterSeconds, cause: error });
  }
}

const NOT_SENT_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EHOSTUNREACH', 'UND_ERR_CONNECT_TIMEOUT']);
const TIMEOUT_CODES = new Set(['UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT', 'ETIMEDOUT']);

function classify(error: unknown): UnavailableReason {
  if (error instanceof BrokenCircuitError || error instanceof IsolatedCircuitError) return 'circuit_open';
  if (error instanceof BulkheadRejectedError) return 'saturated';
  if (error instanceof TaskCancelledError) return 'timeout';
  if (error instanceof ServerErrorResponse) return 'server_error';
  const code = (error as { code?: unknown; cause?: { code?: unknown } })?.code;
  const causeCode = (error as { cause?: { code?: unknown } })?.cause?.code;
  for (const c of [code, causeCode]) {
    if (typeof c !== 'string') continue;
    if (NOT_SENT_CODES.has(c)) return 'unreachable';
    if (TIMEOUT_CODES.has(c)) return 'timeout';
  }
  if (error instanceof SyntaxError) return 'server_error';
  return 'connection_lost';
}
