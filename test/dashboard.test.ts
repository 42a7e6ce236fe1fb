import assert from 'node:assert/strict';
import { mkdir, stat } from 'node:fs/promises';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { type Browser, chromium } from 'playwright-core';
import { findBinary } from '../src/stack/binaries.ts';
import { freePort } from '../src/stack/freePort.ts';
import { eventually, startTestStack, type TestStack } from './support/stack.ts';

// The dashboard as a person sees it: Debian's Chromium, headless, driven by playwright-core.
const SCREENSHOTS = fileURLToPath(new URL('../test-results/', import.meta.url));

describe('GET /dashboard in a real browser', () => {
  let stack: TestStack;
  let browser: Browser;
  let users = 0;

  before(async () => {
    const executablePath = findBinary(['chromium', 'chromium-browser']);
    assert.ok(executablePath, 'Chromium must be installed (Debian package chromium)');
    stack = await startTestStack({ CHECKOUT_RATE_LIMIT_PER_MINUTE: '100000' });
    // As root, Chromium runs only without its sandbox.
    browser = await chromium.launch({ executablePath, args: ['--no-sandbox'] });
  });
  after(async () => {
    await browser?.close();
    await stack?.stop();
  });

  /** A page whose console errors, script errors and Content-Security-Policy violations are collected. */
  const watchedPage = async () => {
    const page = await browser.newPage({ viewport: { width: 1200, height: 800 } });
    const problems: string[] = [];
    page.on('console', (message) => {
      if (message.type() === 'error') problems.push(message.text());
    });
    page.on('pageerror', (error) => problems.push(error.message));
    // Chromium also logs a violation to the console; the event says which directive, whatever the wording.
    await page.addInitScript({
      content: `document.addEventListener('securitypolicyviolation', (event) =>
        console.error('CSP violation: ' + event.violatedDirective + ' blocked ' + event.blockedURI));`,
    });
    return { page, problems };
  };

  /** The page's answer carries a policy with no inline script, and may not be framed. */
  const assertLockedDown = (headers: Record<string, string>) => {
    const csp = headers['content-security-policy'] ?? '';
    assert.match(csp, /script-src 'self'(;|$)/);
    assert.match(csp, /frame-ancestors 'none'/);
    assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval/);
    assert.equal(headers['x-frame-options'], 'DENY');
    assert.equal(headers['x-content-type-options'], 'nosniff');
  };

  const checkout = async () => {
    const { cartId, token } = await stack.cart(`usr_dashboard_${users++}`);
    return stack.api('POST', '/api/checkout/complete', {
      token,
      body: { cartId, paymentToken: 'pm_card_visa' },
    });
  };

  test('loads without a console error or CSP violation, draws its charts, and shows a fault within seconds', async () => {
    const { page, problems } = await watchedPage();
    const answer = await page.goto(`${stack.info.checkoutUrl}/dashboard`);
    assertLockedDown((await answer?.allHeaders()) ?? {});
    for (let i = 0; i < 3; i++) assert.equal((await checkout()).status, 201);
    await page.waitForFunction(
      () => (globalThis as unknown as { dashboard: { polls: number } }).dashboard.polls >= 3,
      null,
      {
        timeout: 15_000,
      },
    );
    assert.equal(await page.locator('.uplot canvas').count(), 2, 'two charts drawn');
    const points = await page.evaluate(
      () =>
        (globalThis as unknown as { dashboard: { traffic: { data: number[][] } } }).dashboard.traffic.data[0]
          ?.length,
    );
    assert.ok((points ?? 0) >= 2, `the traffic chart has points: ${points}`);
    assert.match((await page.locator('#breakers').textContent()) ?? '', /paymentGateway CLOSED/);
    // The checkout's own tile, handed to the platform's page with its label and gauge.
    assert.equal(
      await page.locator('.tile', { has: page.locator('#unsettled.good') }).textContent(),
      'unsettled attempts 0',
    );
    // The headline is triage's verdict on the live stack: healthy, from its own and its peers' evidence.
    await page.locator('#verdict.healthy').waitFor({ timeout: 15_000 });
    assert.match((await page.locator('#verdictHeadline').textContent()) ?? '', /^HEALTHY/);
    assert.match(
      (await page.locator('#verdictChecked').textContent()) ?? '',
      /3 scrape\(s\), 3 health answer\(s\)/,
    );

    await stack.fault('payment', { mode: 'error' });
    const faultAt = Date.now();
    try {
      for (let i = 0; i < 6; i++) assert.equal((await checkout()).status, 503);
      await page
        .locator('#recent td', { hasText: 'SERVICE_TEMPORARILY_UNAVAILABLE' })
        .first()
        .waitFor({ timeout: 10_000 });
      await page.locator('#breakers', { hasText: 'paymentGateway OPEN' }).waitFor({ timeout: 10_000 });
      assert.match((await page.locator('#recent').textContent()) ?? '', /ERR-\d{13}-[0-9A-Z]{6}/);
      // Each 5xx with its trace_id: the one its log lines carry.
      const [errorId, traceId] = (
        await page.locator('#recent tr').first().locator('td').allTextContents()
      ).slice(4);
      assert.match(String(traceId), /^[0-9a-f]{32}$/);
      await eventually(
        async () =>
          (await stack.log('checkout')).some((line) => line.errorId === errorId && line.trace_id === traceId),
        5_000,
        "the 5xx's line with the trace_id the dashboard lists",
      );
      await page.locator('#errors.bad').waitFor({ timeout: 10_000 });
      // Why, not only what: the headline names the payment dependency, since when, and what to do first.
      await page.locator('#verdict.problem').waitFor({ timeout: 15_000 });
      const headline = (await page.locator('#verdictHeadline').textContent()) ?? '';
      assert.match(headline, /^PROBLEM: dependency failure: paymentGateway is failing/);
      assert.match(
        (await page.locator('#verdictCause').textContent()) ?? '',
        /dependency failure: paymentGateway/,
      );
      const since = Date.parse((await page.locator('#verdictSince').textContent()) ?? '');
      assert.ok(Math.abs(since - faultAt) < 15_000, `since ${new Date(since).toISOString()}`);
      assert.match(
        (await page.locator('#verdictAction').textContent()) ?? '',
        /Do not restart the checkout service.*runbook: docs\/runbooks.md#circuitbreakeropen/,
      );
    } finally {
      await stack.fault('payment', { mode: 'none' });
    }
    await mkdir(SCREENSHOTS, { recursive: true });
    const screenshot = `${SCREENSHOTS}dashboard.png`;
    await page.screenshot({ path: screenshot, fullPage: true });
    assert.ok((await stat(screenshot)).size > 10_000);
    assert.deepEqual(problems, [], 'no console error');
  });

  test('GET /docs renders the API reference from the installed package, offline, without a console error or CSP violation', async () => {
    const { page, problems } = await watchedPage();
    const outside: string[] = [];
    page.on('request', (request) => {
      if (!request.url().startsWith(stack.info.checkoutUrl) && !request.url().startsWith('data:'))
        outside.push(request.url());
    });
    const answer = await page.goto(`${stack.info.checkoutUrl}/docs`);
    assertLockedDown((await answer?.allHeaders()) ?? {});
    for (const operation of ['completeCheckout', 'createCart', 'getOrder'])
      await page
        .locator(`#operations-checkout-${operation}, [id$="-${operation}"]`)
        .first()
        .waitFor({ timeout: 15_000 });
    await page.locator('text=Steadfast checkout').first().waitFor();
    await mkdir(SCREENSHOTS, { recursive: true });
    await page.screenshot({ path: `${SCREENSHOTS}docs.png`, fullPage: true });
    assert.deepEqual(problems, [], 'no console error');
    assert.deepEqual(outside, [], 'nothing fetched from elsewhere (no CDN)');
  });

  test('on a management port: the dashboard and the reference draw there, under their policy, and the API port has neither', async () => {
    const managementPort = await freePort();
    const instance = await stack.serve({ MANAGEMENT_PORT: String(managementPort) });
    try {
      // A new instance sheds requests while its event loop is still busy starting.
      await eventually(async () => (await fetch(`${instance.url}/openapi.json`)).ok, 20_000, 'it answers');
      const management = `http://127.0.0.1:${managementPort}`;
      for (const path of ['/dashboard', '/dashboard/data', '/docs', '/metrics']) {
        assert.equal((await fetch(`${instance.url}${path}`)).status, 404, `${path} not on the API port`);
      }
      const { page, problems } = await watchedPage();
      const answer = await page.goto(`${management}/dashboard`);
      assertLockedDown((await answer?.allHeaders()) ?? {});
      await page.waitForFunction(
        () => (globalThis as unknown as { dashboard: { polls: number } }).dashboard.polls >= 2,
        null,
        { timeout: 15_000 },
      );
      assert.equal(await page.locator('.uplot canvas').count(), 2, 'two charts drawn');
      const docs = await page.goto(`${management}/docs`);
      assertLockedDown((await docs?.allHeaders()) ?? {});
      await page.locator('[id$="-completeCheckout"]').first().waitFor({ timeout: 15_000 });
      assert.deepEqual(problems, [], 'no console error, no CSP violation');
    } finally {
      instance.child.kill('SIGTERM');
      await instance.exited;
    }
  });
});
