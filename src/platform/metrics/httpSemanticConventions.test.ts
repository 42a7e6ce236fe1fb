import assert from 'node:assert/strict';
import { test } from 'node:test';
import { clientErrorType, requestMethod, serverErrorType, serverOf } from './httpSemanticConventions.ts';

test('a method outside the known ones is _OTHER: a client cannot add series of its own', () => {
  assert.equal(requestMethod('POST'), 'POST');
  assert.equal(requestMethod('PROPFIND'), '_OTHER');
  assert.equal(requestMethod('get'), '_OTHER', 'methods are case-sensitive (RFC 9110 section 9.1)');
});

test("error_type: a server's 5xx, a client's 4xx or 5xx, else none", () => {
  assert.deepEqual([404, 499, 500, 503].map(serverErrorType), [undefined, undefined, '500', '503']);
  assert.deepEqual([200, 302, 402, 503].map(clientErrorType), [undefined, undefined, '402', '503']);
});

test("server address and port of a base URL: the scheme's default port when it names none", () => {
  assert.deepEqual(serverOf('http://127.0.0.1:4010/v1'), { address: '127.0.0.1', port: 4010 });
  assert.deepEqual(serverOf('https://api.stripe.com'), { address: 'api.stripe.com', port: 443 });
  assert.deepEqual(serverOf('http://inventory.internal/'), { address: 'inventory.internal', port: 80 });
  assert.deepEqual(serverOf('http://[::1]:8080'), { address: '::1', port: 8080 });
});
