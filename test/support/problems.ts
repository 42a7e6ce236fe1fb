import assert from 'node:assert/strict';
import { ERROR_ID_PATTERN } from '../../src/platform/errors/errorId.ts';
import type { ApiResponse } from './stack.ts';

/** Asserts the section 4 contract of an error answer: status, code, problem+json, request id, and for 5xx an errorId. */
export function assertProblem(response: ApiResponse, status: number, code: string): void {
  assert.equal(
    response.status,
    status,
    `expected ${status} ${code}, got ${response.status}: ${response.text}`,
  );
  assert.equal(response.body.error, code);
  assert.equal(response.body.status, status);
  assert.equal(typeof response.body.type, 'string');
  assert.equal(typeof response.body.title, 'string');
  assert.equal(typeof response.body.message, 'string');
  assert.match(response.headers.get('content-type') ?? '', /^application\/problem\+json/);
  assert.ok(response.headers.get('x-request-id'), 'X-Request-Id header');
  if (status >= 500) assert.match(String(response.body.errorId), ERROR_ID_PATTERN);
  if (status === 503 || status === 429 || code === 'IDEMPOTENCY_KEY_IN_USE') {
    const retryAfter = Number(response.headers.get('retry-after'));
    assert.ok(retryAfter >= 1, 'Retry-After header');
    if (status === 503) assert.equal(response.body.retryAfterSeconds, retryAfter);
  }
}
