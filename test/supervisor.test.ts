import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { StackInfo } from '../src/stack/startStack.ts';
import { portOpen } from './support/processes.ts';
import { eventually, startTestStack, type TestStack } from './support/stack.ts';

// docs/architecture.md section 10: a service that dies is logged and restarted, as a process manager would; the rest stay up.
describe('steadfast start supervises what it started', () => {
  let stack: TestStack;
  let users = 0;
  const stackJson = async () =>
    JSON.parse(await readFile(join(stack.dataDir, 'stack.json'), 'utf8')) as StackInfo;
  const checkout = async () => {
    const { cartId, token } = await stack.cart(`usr_supervised_${users++}`);
    return stack.api('POST', '/api/checkout/complete', { token, body: { cartId, paymentToken: 'tok_visa' } });
  };

  before(async () => {
    stack = await startTestStack({ DB_CONNECT_TIMEOUT_MS: '1000' });
  });
  after(() => stack?.stop());

  test('a killed service comes back on the same port; the others stay up', async () => {
    const before = await stackJson();
    process.kill(before.pids.inventory as number, 'SIGKILL');
    await eventually(
      async () => (await stackJson()).pids.inventory !== before.pids.inventory,
      15_000,
      'inventory restarted',
    );
    const after = await stackJson();
    assert.equal(after.inventoryUrl, before.inventoryUrl);
    assert.equal(after.pids.checkout, before.pids.checkout, 'checkout was left alone');
    await eventually(
      async () => (await checkout()).status === 201,
      15_000,
      'a checkout through the new inventory',
    );
  });

  test('a service that dies while PostgreSQL is down keeps being restarted (with backoff) until it can start', async () => {
    const before = await stackJson();
    const port = Number(new URL(before.databaseUrl).port);
    const [wrapper] = execFileSync('pgrep', ['-P', String(before.pids.supervisor), '-f', 'postgresProcess'])
      .toString()
      .trim()
      .split('\n')
      .map(Number);
    assert.ok(wrapper);
    process.kill(wrapper, 'SIGSTOP');
    try {
      process.kill(before.pids.postgres as number, 'SIGINT');
      await eventually(async () => !(await portOpen(port)), 15_000, 'PostgreSQL down');
      process.kill(before.pids.checkout as number, 'SIGKILL');
      // Its first restarts fail preflight (no database): they must not use up the restarts at once.
      await new Promise((resolve) => setTimeout(resolve, 2500));
    } finally {
      process.kill(wrapper, 'SIGCONT');
    }
    await eventually(
      async () => (await stackJson()).pids.checkout !== before.pids.checkout,
      30_000,
      'checkout restarted',
    );
    await eventually(async () => (await checkout()).status === 201, 15_000, 'checkout serving again');
    const log = await readFile(join(stack.dataDir, 'logs', 'checkout.log'), 'utf8');
    assert.match(
      log,
      /STARTUP_FAILURE: Database at .* did not answer/,
      'a restart refused by preflight, logged',
    );
  });
});
