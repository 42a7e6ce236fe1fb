import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ApiContract } from './apiContract.ts';

const contract = new ApiContract({
  paths: {
    '/api/carts/{cartId}': {
      get: {
        operationId: 'getCart',
        responses: {
          '200': {
            headers: { 'x-request-id': {} },
            content: {
              'application/json': {
                schema: { type: 'object', required: ['cartId'], properties: { cartId: { type: 'string' } } },
              },
            },
          },
        },
      },
    },
  },
});

const answer = (status: number, body: unknown, headers: Record<string, string> = {}) => ({
  status,
  headers: new Headers({
    'content-type': 'application/json; charset=utf-8',
    'x-request-id': 'r1',
    ...headers,
  }),
  text: JSON.stringify(body),
});

test('an answer the document describes passes', () => {
  contract.check('GET', '/api/carts/c1?x=1', answer(200, { cartId: 'c1' }));
  assert.deepEqual([...(contract.seen.get('getCart') ?? [])], ['200']);
});

test('drift fails: an undocumented status, body, content type or header', () => {
  assert.throws(() => contract.check('GET', '/api/carts/c1', answer(418, {})), /does not list/);
  assert.throws(() => contract.check('GET', '/api/carts/c1', answer(200, { cart: 1 })), /schema refuses/);
  assert.throws(
    () => contract.check('GET', '/api/carts/c1', answer(200, { cartId: 'c1' }, { 'retry-after': '1' })),
    /retry-after, undocumented/,
  );
  assert.throws(
    () =>
      contract.check('GET', '/api/carts/c1', {
        ...answer(200, { cartId: 'c1' }),
        headers: new Headers({ 'content-type': 'text/html' }),
      }),
    /as text\/html/,
  );
});

test('paths the document leaves out are not checked', () => {
  contract.check('GET', '/health', answer(503, { status: 'down' }));
  contract.check('DELETE', '/api/carts/c1', answer(404, {}));
});
