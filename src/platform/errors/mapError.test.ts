import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AppError } from './AppError.ts';
import { PlatformErrors } from './codes.ts';
import { mapError } from './mapError.ts';
import { toProblem } from './problem.ts';

test('an AppError maps to itself', () => {
  const error = new AppError(PlatformErrors.RATE_LIMITED, { retryAfterSeconds: 3 });
  assert.equal(mapError(error), error);
});

test('missing required fields are named, all of them', () => {
  const mapped = mapError({
    validation: [
      { keyword: 'required', instancePath: '', params: { missingProperty: 'cartId' } },
      { keyword: 'required', instancePath: '', params: { missingProperty: 'paymentToken' } },
    ],
    validationContext: 'body',
  });
  assert.equal(mapped.code, 'MISSING_REQUIRED_FIELDS');
  assert.deepEqual(mapped.extensions.fields, ['cartId', 'paymentToken']);
  assert.equal(mapped.message, 'Missing required body fields: cartId, paymentToken.');
});

test('a field of the wrong type is VALIDATION_FAILED with its path', () => {
  const mapped = mapError({
    validation: [
      { keyword: 'type', instancePath: '/items/0/quantity', params: {}, message: 'must be integer' },
    ],
  });
  assert.equal(mapped.code, 'VALIDATION_FAILED');
  assert.match(mapped.message, /items\.0\.quantity must be integer/);
});

test("Fastify's body parser errors keep their meaning", () => {
  assert.equal(mapError({ code: 'FST_ERR_CTP_INVALID_MEDIA_TYPE' }).code, 'UNSUPPORTED_MEDIA_TYPE');
  assert.equal(mapError({ code: 'FST_ERR_CTP_BODY_TOO_LARGE' }).code, 'PAYLOAD_TOO_LARGE');
  assert.equal(mapError({ code: 'FST_ERR_CTP_EMPTY_JSON_BODY' }).code, 'INVALID_JSON');
  assert.equal(
    mapError(Object.assign(new SyntaxError('Unexpected token'), { statusCode: 400 })).code,
    'INVALID_JSON',
  );
});

test('anything else is a 500 whose body says nothing of the cause', () => {
  const cause = new TypeError("Cannot read properties of undefined (reading 'getBalance')");
  const mapped = mapError(cause);
  assert.equal(mapped.status, 500);
  assert.equal(mapped.cause, cause);
  const body = JSON.stringify(toProblem(mapped, 'ERR-1732845600000-K7X2MN'));
  assert.doesNotMatch(body, /getBalance|TypeError/);
  assert.match(body, /"errorId":"ERR-1732845600000-K7X2MN"/);
});

test("the framework's and the static file server's 4xx are the client's: answered in the contract, never a 500", () => {
  const refused = (error: object) => mapError(Object.assign(new Error('refused'), error)).code;
  assert.equal(
    refused({ code: 'FST_ERR_CTP_INVALID_MEDIA_TYPE_X', statusCode: 415 }),
    'UNSUPPORTED_MEDIA_TYPE',
  );
  assert.equal(refused({ code: 'FST_ERR_SOMETHING_NEW', statusCode: 400 }), 'MALFORMED_REQUEST');
  // http-errors, as @fastify/static throws them for `%00`, `..` and a Range it cannot satisfy.
  assert.equal(refused({ name: 'BadRequestError', statusCode: 400, expose: true }), 'MALFORMED_REQUEST');
  assert.equal(refused({ name: 'ForbiddenError', statusCode: 403, expose: true }), 'ROUTE_NOT_FOUND');
  assert.equal(refused({ statusCode: 416, expose: true }), 'MALFORMED_REQUEST');
});

test('an error that merely carries a status (a dependency answered 404) is still a bug: 500', () => {
  const fromClient = Object.assign(new Error('Response status code 404'), { statusCode: 404 });
  assert.equal(mapError(fromClient).code, 'INTERNAL_SERVER_ERROR');
  assert.equal(
    mapError(Object.assign(new Error('x'), { code: 'FST_ERR_X', statusCode: 500 })).code,
    'INTERNAL_SERVER_ERROR',
  );
});
