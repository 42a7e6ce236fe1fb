import assert from 'node:assert/strict';
import { test } from 'node:test';
import { serverWithLogs } from './httpServer.fixture.ts';

// What a client may put in a URL path: a bearer token pasted where an id belongs.
const TOKEN = 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ1c3JfMSJ9.c2VjcmV0LXNpZ25hdHVyZQ';

/** The fixture's server with one route, draining or not, with or without its own `GET /metrics`. */
function server(options: { draining?: boolean; metricsRoute?: boolean } = {}) {
  const fixture = serverWithLogs({
    isDraining: () => options.draining ?? false,
    ...(options.metricsRoute === undefined ? {} : { metricsRoute: options.metricsRoute }),
  });
  fixture.app.get('/api/carts/:cartId', async () => ({ ok: true }));
  return fixture;
}

test('an unmatched path is `<METHOD> unmatched` in the log line and the metrics, never the raw path', async () => {
  const { app, lines, metrics } = server();
  for (const url of [`/api/${TOKEN}`, `/${TOKEN}?access_token=${TOKEN}`, `/api/carts/x/${TOKEN}`]) {
    const response = await app.inject({ method: 'GET', url });
    assert.equal(response.statusCode, 404);
    assert.doesNotMatch(response.body, /eyJ/);
  }
  const post = await app.inject({ method: 'POST', url: `/api/${TOKEN}`, payload: {} });
  assert.equal(post.statusCode, 404);
  const matched = await app.inject({ method: 'GET', url: `/api/carts/${TOKEN}` });
  assert.equal(matched.statusCode, 200);

  const endpoints = lines.filter((l) => l.msg === 'request_completed').map((l) => l.endpoint);
  assert.deepEqual(endpoints, [
    'GET unmatched',
    'GET unmatched',
    'GET unmatched',
    'POST unmatched',
    'GET /api/carts/:cartId',
  ]);
  assert.doesNotMatch(JSON.stringify(lines), /eyJ/, 'no log line holds the token');
  const scrape = await metrics.scrape();
  assert.match(scrape, /route="unmatched"/);
  assert.doesNotMatch(scrape, /eyJ/);
});

test("a 5xx on an unmatched path reaches the dashboard's list as `<METHOD> unmatched`", async () => {
  const { app, serverErrors, lines } = server({ draining: true });
  const response = await app.inject({ method: 'GET', url: `/api/${TOKEN}` });
  assert.equal(response.statusCode, 503);
  assert.equal(serverErrors.length, 1);
  assert.equal(serverErrors[0]?.endpoint, 'GET unmatched');
  assert.doesNotMatch(JSON.stringify({ serverErrors, lines }), /eyJ/);
});

test('GET /metrics: nosniff, and left off a server whose metrics a management listener serves', async () => {
  const served = await server().app.inject({ method: 'GET', url: '/metrics' });
  assert.equal(served.statusCode, 200);
  assert.equal(served.headers['x-content-type-options'], 'nosniff');
  const left = await server({ metricsRoute: false }).app.inject({ method: 'GET', url: '/metrics' });
  assert.equal(left.statusCode, 404);
  assert.equal(left.json().error, 'ROUTE_NOT_FOUND');
});
