import assert from 'node:assert/strict';
import { Ajv } from 'ajv';

/** One answer, as a test read it. */
export interface Answer {
  method: string;
  /** The request target as sent: path and query. */
  url: string;
  status: number;
  headers: Headers;
  text: string;
}

const ajv = new Ajv({ strict: false, allErrors: true });
const compile = (schema: object) => ajv.compile(schema);

const string = { type: 'string' };
const integer = { type: 'integer' };

const paymentIntent = {
  type: 'object',
  required: [
    'id',
    'object',
    'amount',
    'currency',
    'status',
    'latest_charge',
    'metadata',
    'created',
    'livemode',
  ],
  properties: {
    id: { type: 'string', pattern: '^pi_' },
    object: { const: 'payment_intent' },
    amount: { type: 'integer', minimum: 1 },
    currency: { type: 'string', pattern: '^[a-z]{3}$' },
    status: { enum: ['succeeded', 'requires_payment_method', 'requires_confirmation'] },
    latest_charge: { type: ['string', 'null'] },
    metadata: { type: 'object', additionalProperties: string },
    created: integer,
    livemode: { const: false },
  },
};

const refund = {
  type: 'object',
  required: ['id', 'object', 'payment_intent', 'charge', 'amount', 'status'],
  properties: { id: { type: 'string', pattern: '^re_' }, object: { const: 'refund' }, amount: integer },
};

const list = (items: object) => ({
  type: 'object',
  required: ['object', 'data', 'has_more', 'url'],
  properties: {
    object: { const: 'list' },
    data: { type: 'array', items },
    has_more: { type: 'boolean' },
    url: string,
  },
});

/** A Stripe error object: what the SDK reads (`type`, `code`, `param`, `decline_code`). */
const stripeError = compile({
  type: 'object',
  required: ['error'],
  properties: {
    error: {
      type: 'object',
      required: ['type'],
      properties: {
        type: { enum: ['invalid_request_error', 'card_error', 'idempotency_error', 'authentication_error'] },
        code: { type: 'string', pattern: '^[a-z_]+$' },
        param: string,
        message: string,
        decline_code: string,
        charge: string,
        payment_intent: paymentIntent,
      },
    },
  },
});

/** What each payment route may answer, and the body of its successes (the subset of Stripe's API it speaks). */
const PAYMENT_ROUTES: { method: string; pattern: RegExp; statuses: number[]; success?: object }[] = [
  {
    method: 'POST',
    pattern: /^\/v1\/payment_intents$/,
    statuses: [200, 400, 401, 402, 413, 415],
    success: paymentIntent,
  },
  {
    method: 'GET',
    pattern: /^\/v1\/payment_intents$/,
    statuses: [200, 400, 401],
    success: list(paymentIntent),
  },
  {
    method: 'GET',
    pattern: /^\/v1\/payment_intents\/[^/]+$/,
    statuses: [200, 400, 401, 404, 414],
    success: paymentIntent,
  },
  { method: 'POST', pattern: /^\/v1\/refunds$/, statuses: [200, 400, 401, 404, 413, 415], success: refund },
  { method: 'GET', pattern: /^\/v1\/refunds$/, statuses: [200, 400, 401], success: list(refund) },
];

/** Every route answers these when the request never reached it (unreadable URL, body or headers). */
const ANY_ROUTE = [400, 404, 408, 413, 414, 415, 431];

const where = (a: Answer) =>
  `${a.method} ${a.url.slice(0, 160)} answered ${a.status}: ${a.text.slice(0, 300)}`;

function parsed(a: Answer): unknown {
  try {
    return JSON.parse(a.text);
  } catch {
    assert.fail(`not JSON: ${where(a)}`);
  }
}

/**
 * The payment sandbox's contract, as Stripe's: a documented status per route, JSON always, a PaymentIntent,
 * list or refund on success, and on every 4xx an error object whose `type` the gateway client knows; a refused
 * parameter (validation) names itself in `param` unless the refusal is of the whole body.
 */
export function checkPaymentAnswer(a: Answer): void {
  assert.ok(a.status < 500, `never a 5xx: ${where(a)}`);
  const path = a.url.split('?')[0] ?? '';
  const route = PAYMENT_ROUTES.find((r) => r.method === a.method && r.pattern.test(path));
  const allowed = route ? [...route.statuses, ...ANY_ROUTE] : [200, ...ANY_ROUTE, 401];
  assert.ok(allowed.includes(a.status), `a status the sandbox's contract does not list: ${where(a)}`);
  // Health and metrics answer in their own shapes; what is not a route of the API only has to refuse right.
  if (a.method === 'HEAD' || (!route && a.status < 400)) return;
  assert.match(a.headers.get('content-type') ?? '', /^application\/json/, where(a));
  const body = parsed(a);
  if (a.status >= 400) {
    assert.ok(
      stripeError(body),
      `not a Stripe error object (${ajv.errorsText(stripeError.errors)}): ${where(a)}`,
    );
    const error = (body as { error: { code?: string; param?: string } }).error;
    if (error.code === 'validation_failed' || error.code === 'missing_required_fields') {
      const wholeBody = /Invalid (body|querystring|params|headers): (body|querystring|params|headers) /.test(
        a.text,
      );
      assert.ok(
        wholeBody || typeof error.param === 'string',
        `a refused parameter names its param: ${where(a)}`,
      );
    }
  } else if (route?.success) {
    const validate = compile(route.success);
    assert.ok(
      validate(body),
      `a success body out of shape (${ajv.errorsText(validate.errors)}): ${where(a)}`,
    );
  }
}

const stockLevel = {
  type: 'object',
  required: ['sku', 'initial', 'available', 'reserved', 'sold'],
  properties: { sku: string, initial: integer, available: integer, reserved: integer, sold: integer },
};

const INVENTORY_ROUTES: { method: string; pattern: RegExp; statuses: number[]; success?: object }[] = [
  { method: 'GET', pattern: /^\/stock$/, statuses: [200], success: { type: 'array', items: stockLevel } },
  { method: 'GET', pattern: /^\/stock\/[^/]+$/, statuses: [200, 400, 404], success: stockLevel },
  { method: 'POST', pattern: /^\/stock\/[^/]+\/restock$/, statuses: [200, 400, 409], success: stockLevel },
  {
    method: 'POST',
    pattern: /^\/reservations$/,
    statuses: [201, 400, 409],
    success: {
      type: 'object',
      required: ['reservationId', 'status', 'expiresAt'],
      properties: { reservationId: string, status: string, expiresAt: string },
    },
  },
  {
    method: 'POST',
    pattern: /^\/reservations\/commit$/,
    statuses: [200, 400],
    success: {
      type: 'object',
      required: ['committed'],
      properties: { committed: { type: 'array', items: string } },
    },
  },
  {
    method: 'POST',
    pattern: /^\/reservations\/[^/]+\/(commit|release)$/,
    statuses: [200, 400, 404, 409],
    success: {
      type: 'object',
      required: ['reservationId', 'status'],
      properties: { reservationId: string, status: string },
    },
  },
];

/**
 * The inventory service's contract: a documented status per route, a stock level or reservation on success,
 * and on every 4xx an error with a stable code (problem+json from the platform, or the route's own
 * `{ error, ... }`).
 */
export function checkInventoryAnswer(a: Answer): void {
  assert.ok(a.status < 500, `never a 5xx: ${where(a)}`);
  const path = a.url.split('?')[0] ?? '';
  const route = INVENTORY_ROUTES.find((r) => r.method === a.method && r.pattern.test(path));
  const allowed = route ? [...route.statuses, ...ANY_ROUTE] : [200, ...ANY_ROUTE];
  assert.ok(allowed.includes(a.status), `a status the inventory's contract does not list: ${where(a)}`);
  if (a.method === 'HEAD' || (!route && a.status < 400)) return;
  const contentType = a.headers.get('content-type') ?? '';
  if (a.status >= 400) {
    assert.match(contentType, /^application\/(problem\+)?json/, where(a));
    const body = parsed(a) as { error?: unknown };
    assert.match(String(body.error), /^[A-Z_]+$/, `an error with a stable code: ${where(a)}`);
  } else if (route?.success) {
    assert.match(contentType, /^application\/json/, where(a));
    const validate = compile(route.success);
    assert.ok(
      validate(parsed(a)),
      `a success body out of shape (${ajv.errorsText(validate.errors)}): ${where(a)}`,
    );
  }
}
