import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const fixture = fileURLToPath(new URL('./runUntilStopped.fixture.ts', import.meta.url));

async function run(mode: string, signal?: NodeJS.Signals) {
  const child = spawn(process.execPath, [fixture, mode], { stdio: ['ignore', 'pipe', 'inherit'] });
  let stdout = '';
  let signalled = false;
  child.stdout.on('data', (chunk) => {
    stdout += chunk;
    // Once: a second signal makes close-with-grace give up and exit 1 at once, by design.
    if (signal && !signalled && stdout.includes('"ready"')) {
      signalled = true;
      child.kill(signal);
    }
  });
  const [code] = await once(child, 'exit');
  return {
    code,
    lines: stdout
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l)),
  };
}

test('an unhandled rejection is logged as fatal with its stack, and the process exits non-zero', async () => {
  const { code, lines } = await run('reject');
  assert.equal(code, 1);
  const fatal = lines.find((l) => l.level === 'fatal');
  assert.ok(fatal, 'a fatal line');
  assert.match(fatal.msg, /fatal: nobody caught this/);
  assert.match(fatal.stack, /runUntilStopped\.fixture\.ts/);
  assert.ok(
    lines.some((l) => l.msg === 'closed'),
    'resources were closed',
  );
});

test('an uncaught exception, likewise', async () => {
  const { code, lines } = await run('throw');
  assert.equal(code, 1);
  assert.ok(lines.some((l) => l.level === 'fatal' && /thrown from a timer/.test(l.msg)));
});

test('SIGTERM drains: draining first, resources closed, exit 0', async () => {
  const { code, lines } = await run('wait', 'SIGTERM');
  assert.equal(code, 0);
  const messages = lines.map((l) => l.msg);
  assert.deepEqual(messages.slice(messages.indexOf('shutdown_started')), [
    'shutdown_started',
    'closed',
    'shutdown_complete',
  ]);
  assert.equal(lines.find((l) => l.msg === 'closed').draining, true);
});
