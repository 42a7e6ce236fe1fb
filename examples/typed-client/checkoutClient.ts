import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import createClient from 'openapi-fetch';
import type { paths } from './schema.d.ts';

type Responses = paths['/api/checkout/complete']['post']['responses'];
type ErrorStatus = Exclude<keyof Responses, 201>;
/** Any answer but the 201: problem+json, its `error` one of the codes the document lists for that status. */
type Problem = {
  [S in ErrorStatus]: Responses[S] extends { content: { 'application/problem+json': infer Body } }
    ? Body
    : never;
}[ErrorStatus];
type Confirmed = Responses[201]['content']['application/json'];

export type CheckoutOutcome =
  | { ok: true; order: Confirmed; replayed: boolean; attempts: number }
  | { ok: false; status: number; problem: Problem | undefined; attempts: number };

export interface CheckoutClientOptions {
  baseUrl: string;
  token: string;
  /** The most calls one checkout may take, the first included. */
  maxAttempts?: number;
  /** The longest wait between two calls, whatever Retry-After says. */
  maxWaitMs?: number;
  /** Told before each retry: what was answered and how long the client waits. */
  onRetry?: (retry: { attempt: number; status: number; error: string | undefined; waitMs: number }) => void;
}

/** The answers after which the same request, with the same key, may succeed: the server said so. */
const RETRY_CODES = new Set(['IDEMPOTENCY_KEY_IN_USE', 'CHECKOUT_IN_PROGRESS']);

/**
 * Completes a checkout the way the API asks its clients to: one Idempotency-Key for every call of this
 * checkout, so a retry can never charge twice; a 503 or a 409 that says "in progress" waits its
 * Retry-After and tries again; any other 4xx is final and returned as it is (a declined card, an empty
 * cart: retrying would not change it); a network error is retried like a 503, since the key makes it safe.
 */
export async function completeCheckout(
  options: CheckoutClientOptions,
  checkout: { cartId: string; paymentToken: string; idempotencyKey?: string },
): Promise<CheckoutOutcome> {
  const client = createClient<paths>({
    baseUrl: options.baseUrl,
    headers: { authorization: `Bearer ${options.token}` },
  });
  const idempotencyKey = checkout.idempotencyKey ?? `checkout-${randomUUID()}`;
  const maxAttempts = options.maxAttempts ?? 5;
  for (let attempt = 1; ; attempt++) {
    let status = 0;
    let problem: Problem | undefined;
    let retryAfter: string | null = null;
    try {
      const { data, error, response } = await client.POST('/api/checkout/complete', {
        params: { header: { 'idempotency-key': idempotencyKey } },
        body: { cartId: checkout.cartId, paymentToken: checkout.paymentToken },
      });
      if (data) {
        const replayed = response.headers.get('idempotent-replayed') === 'true';
        return { ok: true, order: data, replayed, attempts: attempt };
      }
      ({ status } = response);
      problem = error;
      retryAfter = response.headers.get('retry-after');
    } catch {
      // No answer at all (refused, reset): the call may or may not have run; the key makes a retry safe.
    }
    const retryable =
      status === 0 || status === 503 || (status === 409 && RETRY_CODES.has(problem?.error ?? ''));
    if (!retryable || attempt >= maxAttempts) return { ok: false, status, problem, attempts: attempt };
    const waitMs = Math.min(options.maxWaitMs ?? 30_000, retryAfterMs(retryAfter, attempt));
    options.onRetry?.({ attempt, status, error: problem?.error, waitMs });
    await sleep(waitMs);
  }
}

/** Retry-After in seconds when the server sent it; otherwise an exponential backoff from half a second. */
function retryAfterMs(header: string | null, attempt: number): number {
  const seconds = Number(header);
  if (header !== null && Number.isFinite(seconds) && seconds >= 0) return seconds * 1000;
  return 500 * 2 ** (attempt - 1);
}
