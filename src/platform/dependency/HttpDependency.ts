import {
  BrokenCircuitError,
  BulkheadRejectedError,
  bulkhead,
  CircuitState,
  ConsecutiveBreaker,
  circuitBreaker,
  handleWhen,
  IsolatedCircuitError,
  TaskCancelledError,
  TimeoutStrategy,
  timeout,
  wrap,
} from 'cockatiel';
import type { Logger } from 'pino';
import { type Dispatcher, Pool } from 'undici';
import { logEvent } from '../../contract/logEvents.ts';
import { DependencyUnavailableError, type UnavailableReason } from '../errors/DependencyUnavailableError.ts';
import { clientErrorType, serverOf } from '../metrics/httpSemanticConventions.ts';
import { type CallOutcome, type CallRecorder, callOutcome } from '../metrics/PlatformMetrics.ts';
import { outgoingTraceHeaders } from '../tracing/traceContext.ts';

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
  /**
   * Statuses below 500 that say the dependency is overloaded, not that the request is wrong (a rate
   * limit's 429): failures, counted as a 5xx is (each caller once), never answers.
   */
  overloadStatuses?: readonly number[];
  logger?: Logger;
  /** Told the outcome and duration of every call. */
  metrics?: CallRecorder;
}

export interface DependencyResponse<T = unknown> {
  status: number;
  body: T;
}

/** An answer below 500 as it came: its status, its headers, its body's text. */
export interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
}

export type BreakerState = 'CLOSED' | 'OPEN' | 'HALF_OPEN' | 'ISOLATED';

const STATE_NAMES: Record<CircuitState, BreakerState> = {
  [CircuitState.Closed]: 'CLOSED',
  [CircuitState.Open]: 'OPEN',
  [CircuitState.HalfOpen]: 'HALF_OPEN',
  [CircuitState.Isolated]: 'ISOLATED',
};

/**
 * A 5xx answer (or an overload status). Thrown inside the policy so the breaker may count it (see
 * `#countsAgainst`).
 */
class ServerErrorResponse extends Error {
  readonly status: number;
  readonly caller: string | undefined;
  constructor(dependency: string, status: number, caller: string | undefined) {
    super(`${dependency} answered ${status}`);
    this.status = status;
    this.caller = caller;
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
  /** `server.address` and `server.port` of every request, as the semantic conventions name them. */
  readonly #server: { address: string; port: number };
  readonly #pool: Pool;
  readonly #breaker;
  readonly #policy;
  #openedAt: number | undefined;
  #unhealthySince: number | undefined;
  /**
   * The failures counted since the last success (the last `breakerThreshold`): the caller a 5xx answered,
   * or null for a failure of any other kind.
   */
  #failureCallers: (string | null)[] = [];

  constructor(options: HttpDependencyOptions) {
    this.name = options.name;
    this.#options = options;
    this.#server = serverOf(options.baseUrl);
    options.metrics?.knowDependency(options.name);
    this.#pool = new Pool(options.baseUrl, {
      connections: options.maxConcurrent,
      connect: { timeout: options.timeoutMs },
      headersTimeout: options.timeoutMs,
      bodyTimeout: options.timeoutMs,
    });
    this.#breaker = circuitBreaker(
      handleWhen((error) => this.#countsAgainst(error)),
      {
        halfOpenAfter: options.halfOpenAfterMs,
        breaker: new ConsecutiveBreaker(options.breakerThreshold),
      },
    );
    this.#breaker.onBreak(() => {
      this.#openedAt = Date.now();
      this.#unhealthySince ??= this.#openedAt;
      if (options.logger)
        logEvent(options.logger, 'warn', 'breaker_opened', { dependency: this.name, breaker: 'OPEN' });
    });
    this.#breaker.onReset(() => {
      this.#openedAt = undefined;
      this.#unhealthySince = undefined;
      if (options.logger)
        logEvent(options.logger, 'info', 'breaker_closed', { dependency: this.name, breaker: 'CLOSED' });
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
    options: {
      body?: unknown;
      headers?: Record<string, string>;
      /** Whom the call is made for (a user): 5xx answers to one caller alone never open the breaker. */
      caller?: string;
    } = {},
  ): Promise<DependencyResponse<T>> {
    const answer = await this.send(method, path, {
      headers: {
        accept: 'application/json',
        ...(options.body === undefined ? {} : { 'content-type': 'application/json' }),
        ...options.headers,
      },
      ...(options.body === undefined ? {} : { body: JSON.stringify(options.body) }),
      ...(options.caller === undefined ? {} : { caller: options.caller }),
    });
    return { status: answer.status, body: (answer.text ? JSON.parse(answer.text) : undefined) as T };
  }

  /**
   * One call with a body already encoded, answered as it came (status, headers, text): for a client
   * that speaks its own encoding, such as a vendor's SDK given this as its HTTP client. The same
   * bulkhead, breaker, timeout and metrics as `request`.
   */
  async send(
    method: string,
    path: string,
    options: { body?: string; headers?: Record<string, string>; caller?: string } = {},
  ): Promise<RawResponse> {
    const started = performance.now();
    const traceHeaders = outgoingTraceHeaders();
    try {
      const answer = await this.#policy.execute(async ({ signal }) => {
        // The request's own time, from when it is sent: a call refused by the breaker or the bulkhead
        // sends none, and its wait in the bulkhead is the call's time, not the request's.
        const sent = performance.now();
        let statusCode: number | undefined;
        let response: Dispatcher.ResponseData;
        let text: string;
        try {
          response = await this.#pool.request({
            method: method as Dispatcher.HttpMethod,
            path,
            signal,
            headers: {
              ...traceHeaders,
              ...this.#options.headers,
              ...options.headers,
            },
            body: options.body,
          });
          statusCode = response.statusCode;
          text = await response.body.text();
        } catch (error) {
          // Aborted by the call's timeout, or failed on the way: why no (whole) answer came.
          this.#recordRequest(method, sent, statusCode, signal.aborted ? 'timeout' : classify(error));
          throw error;
        }
        this.#recordRequest(method, sent, statusCode, clientErrorType(statusCode));
        if (statusCode >= 500 || this.#options.overloadStatuses?.includes(statusCode))
          throw new ServerErrorResponse(this.name, statusCode, options.caller);
        return { status: statusCode, headers: response.headers, text };
      });
      this.#failureCallers = [];
      this.#record('success', started);
      return answer;
    } catch (error) {
      const unavailable = this.#unavailable(error);
      this.#record(callOutcome(unavailable), started);
      throw unavailable;
    }
  }

  /**
   * Whether a failure counts against the breaker. A timeout, a reset or a refused connection says the
   * dependency is sick. A 5xx may be about the request instead (input the dependency chokes on, answered
   * the same on every retry), so each caller's 5xx counts once since the last success: no caller can open
   * the breaker for everyone, nor bring it to the edge of opening for the next one, while failures for as
   * many callers as the threshold, or of any other kind, open it as before. A probe of a half-open breaker
   * always counts: a failed probe is what keeps a sick dependency's breaker open.
   */
  #countsAgainst(error: unknown): boolean {
    const caller = error instanceof ServerErrorResponse ? error.caller : undefined;
    const again =
      caller !== undefined &&
      this.#breaker.state !== CircuitState.HalfOpen &&
      this.#failureCallers.includes(caller);
    if (again) return false;
    this.#failureCallers = [...this.#failureCallers, caller ?? null].slice(-this.#options.breakerThreshold);
    return true;
  }

  #recordRequest(
    method: string,
    sent: number,
    statusCode: number | undefined,
    errorType: string | undefined,
  ): void {
    this.#options.metrics?.recordClientRequest(
      {
        method,
        serverAddress: this.#server.address,
        serverPort: this.#server.port,
        ...(statusCode === undefined ? {} : { statusCode }),
        ...(errorType === undefined ? {} : { errorType }),
      },
      (performance.now() - sent) / 1000,
    );
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
