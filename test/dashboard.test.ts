import assert from 'node:assert/strict';
import { mkdir, stat } from 'node:fs/promises';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { type Browser, chromium } from 'playwright-core';
import { findBinary } from '../src/stack/binaries.ts';
import { startTestStack, type TestStack } from './support/stack.ts';

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

  const checkout = async () => {
    const { cartId, token } = await stack.cart(`usr_dashboard_${users++}`);
    return stack.api('POST', '/api/checkout/complete', { token, body: { cartId, paymentToken: 'tok_visa' } });
  };

  test('loads without a console error, draws its charts, and shows a fault within seconds', async () => {
    const page = await browser.newPage({ viewport: { width: 1200, height: 800 } });
    const problems: string[] = [];
    page.on('console', (message) => {
      if (message.type() === 'error') problems.push(message.text());
    });
    page.on('pageerror', (error) => problems.push(error.message));

    await page.goto(`${stack.info.checkoutUrl}/dashboard`);
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

    await stack.fault('payment', { mode: 'error' });
    try {
      for (let i = 0; i < 6; i++) assert.equal((await checkout()).status, 503);
      await page
        .locator('#recent td', { hasText: 'SERVICE_TEMPORARILY_UNAVAILABLE' })
        .first()
        .waitFor({ timeout: 10_000 });
      await page.locator('#breakers', { hasText: 'paymentGateway OPEN' }).waitFor({ timeout: 10_000 });
      assert.match((await page.locator('#recent').textContent()) ?? '', /ERR-\d{13}-[0-9A-Z]{6}/);
      await page.locator('#errors.bad').waitFor({ timeout: 10_000 });
    } finally {
      await stack.fault('payment', { mode: 'none' });
    }
    await mkdir(SCREENSHOTS, { recursive: true });
    const screenshot = `${SCREENSHOTS}dashboard.png`;
    await page.screenshot({ path: screenshot, fullPage: true });
    assert.ok((await stat(screenshot)).size > 10_000);
    assert.deepEqual(problems, [], 'no console error');
  });

  test('GET /docs renders the API reference from the installed package, offline, without a console error', async () => {
    const page = await browser.newPage({ viewport: { width: 1200, height: 800 } });
    const problems: string[] = [];
    const outside: string[] = [];
    page.on('console', (message) => {
      if (message.type() === 'error') problems.push(message.text());
    });
    page.on('pageerror', (error) => problems.push(error.message));
    page.on('request', (request) => {
      if (!request.url().startsWith(stack.info.checkoutUrl) && !request.url().startsWith('data:'))
        outside.push(request.url());
    });
    await page.goto(`${stack.info.checkoutUrl}/docs`);
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
});
