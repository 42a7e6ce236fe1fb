import assert from 'node:assert/strict';
import { test } from 'node:test';
import pino from 'pino';
import { registerDashboard } from '../dashboard/dashboardRoutes.ts';
import { RecentErrors } from '../dashboard/RecentErrors.ts';
import { PlatformMetrics } from '../metrics/PlatformMetrics.ts';
import { registerApiDocument, registerApiReference } from './apiDocument.ts';
import { createHttpServer } from './createHttpServer.ts';

const info = { title: 'T', version: '1', description: 'd', serverUrl: '/', tags: [] };

async function servers(separate: boolean) {
  const metrics = new PlatformMetrics('test');
  const options = { logger: pino({ level: 'silent' }), metrics, bodyLimit: 1024 };
  const app = createHttpServer({ ...options, metricsRoute: !separate });
  const operations = separate ? createHttpServer(options) : app;
  await registerApiDocument(app, info);
  app.get('/api/things', { schema: { operationId: 'listThings' } }, async () => []);
  registerDashboard(operations, { title: 'T', metrics, recentErrors: new RecentErrors() });
  await registerApiReference(operations, app);
  return { app, operations };
}

const PAGES = [
  '/dashboard',
  '/dashboard/dashboard.js',
  '/dashboard/dashboard.css',
  '/dashboard/uplot.js',
  '/dashboard/uplot.css',
  '/dashboard/data',
  '/docs/',
  '/docs/static/swagger-ui-bundle.js',
  '/docs/static/swagger-initializer.js',
  '/docs/static/swagger-ui.css',
  '/docs/json',
];

test('every page and asset of the dashboard and the reference carries the policy, DENY and nosniff', async () => {
  const { operations } = await servers(false);
  for (const url of PAGES) {
    for (const method of ['GET', 'HEAD'] as const) {
      const answer = await operations.inject({ method, url });
      assert.equal(answer.statusCode, 200, `${method} ${url}`);
      assert.equal(answer.headers['x-frame-options'], 'DENY', `${method} ${url}`);
      assert.equal(answer.headers['x-content-type-options'], 'nosniff', `${method} ${url}`);
      const csp = String(answer.headers['content-security-policy']);
      assert.match(csp, /default-src 'none'/, `${method} ${url}`);
      assert.match(csp, /script-src 'self'(;|$)/, `${method} ${url}`);
      assert.doesNotMatch(csp, /unsafe-|upgrade-insecure-requests/, `${method} ${url}`);
    }
  }
  const page = await operations.inject({ method: 'GET', url: '/dashboard' });
  assert.doesNotMatch(page.body, /<script>|<style>|\son[a-z]+=/i, 'nothing inline on the page');
  const document = await operations.inject({ method: 'GET', url: '/openapi.json' });
  assert.equal(document.headers['x-content-type-options'], 'nosniff');
});

test('apart from the API, the reference shows every route of the API, and the API has no page', async () => {
  const { app, operations } = await servers(true);
  const shown = (await operations.inject({ method: 'GET', url: '/docs/json' })).json();
  assert.ok(shown.paths['/api/things'], 'the route registered after the document');
  assert.deepEqual(shown, (await app.inject({ method: 'GET', url: '/openapi.json' })).json());
  for (const url of [...PAGES, '/metrics']) {
    assert.equal((await app.inject({ method: 'GET', url })).statusCode, 404, `${url} on the API`);
  }
  assert.equal((await operations.inject({ method: 'GET', url: '/metrics' })).statusCode, 200);
  assert.equal((await operations.inject({ method: 'GET', url: '/api/things' })).statusCode, 404);
});
