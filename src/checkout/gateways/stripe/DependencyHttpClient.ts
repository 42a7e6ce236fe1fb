import { AsyncLocalStorage } from 'node:async_hooks';
import Stripe from 'stripe';
import type { HttpDependency, RawResponse } from '../../../platform/dependency/HttpDependency.ts';

/** Whom the calls made inside `forCaller` are for: the dependency counts one caller's 5xx once. */
const callers = new AsyncLocalStorage<string>();

/** Runs `work` with its SDK calls made for `caller` (a user), as HttpDependency's `caller` means it. */
export function forCaller<T>(caller: string, work: () => Promise<T>): Promise<T> {
  return callers.run(caller, work);
}

/**
 * The Stripe SDK's HTTP client, sending every call through one HttpDependency: the payment gateway's
 * breaker, timeout, bulkhead and metrics stay where every dependency has them, and the SDK keeps what
 * it is for (encoding, headers, idempotency keys, errors as typed values, pagination).
 *
 * Where a call goes is the dependency's base URL: the SDK's host, port and protocol are not used. Its
 * timeout is not either: the dependency's budget covers the call from connect to last byte.
 *
 * A failure comes back as the dependency's DependencyUnavailableError, which the SDK wraps in a
 * StripeConnectionError (`detail`). Its `code` is never ECONNRESET or EPIPE, the codes the SDK retries
 * even with retries off: a retry is the breaker's and recovery's business alone.
 */
export class DependencyHttpClient extends Stripe.HttpClient {
  readonly #http: HttpDependency;

  constructor(http: HttpDependency) {
    super();
    this.#http = http;
  }

  override getClientName(): string {
    return 'steadfast';
  }

  override async makeRequest(
    _host: string,
    _port: string,
    path: string,
    method: string,
    headers: Record<string, string | number | string[]>,
    requestData: string,
  ): Promise<DependencyHttpClientResponse> {
    const caller = callers.getStore();
    const answer = await this.#http.send(method, path, {
      headers: Object.fromEntries(
        Object.entries(headers).map(([name, value]) => [
          name,
          Array.isArray(value) ? value.join(', ') : `${value}`,
        ]),
      ),
      ...(requestData && method !== 'GET' ? { body: requestData } : {}),
      ...(caller === undefined ? {} : { caller }),
    });
    return new DependencyHttpClientResponse(answer);
  }
}

/** An answer already read in full (the dependency's timeout covers the body too). */
export class DependencyHttpClientResponse extends Stripe.HttpClientResponse {
  readonly #text: string;
  readonly #raw: { statusCode: number; headers: Record<string, string> };

  constructor(answer: RawResponse) {
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(answer.headers))
      if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(', ') : value;
    super(answer.status, headers);
    this.#text = answer.text;
    this.#raw = { statusCode: answer.status, headers };
  }

  /** What the SDK exposes as `lastResponse`'s source: the status and headers (the body is the result). */
  override getRawResponse(): { statusCode: number; headers: Record<string, string> } {
    return this.#raw;
  }

  override toStream(): never {
    throw new Error('streamed answers are not used');
  }

  override toJSON(): Promise<unknown> {
    return Promise.resolve(this._parseResponseBody(this.#text));
  }
}
