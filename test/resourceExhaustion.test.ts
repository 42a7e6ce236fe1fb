import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { type ExtraInstance, startTestStack, type TestStack } from './support/stack.ts';

// Resources a client or a sick database can exhaust: connections held by clients that trickle their
// requests (slow-loris), and the database pool held by statements that do not end. Each must cost the
// others nothing: a fast, honest answer instead of a queue. (A flood past the in-flight cap is in the
// status-table suite: 503 SERVER_OVERLOADED at once.)
describe('resource exhaustion: slow clients and a stuck pool get fast, honest answers', () => {
  let stack: TestStack;
  let instance: ExtraInstance;

  before(async () => {
    stack = await startTestStack({ CHECKOUT_RATE_LIMIT_PER_MINUTE: '100000' });
    instance = await stack.serve({
      HEADERS_TIMEOUT_MS: '1500',
      REQUEST_TIMEOUT_MS: '3000',
      DB_POOL_MAX: '2',
      DB_POOL_QUEUE_MAX: '2',
      DB_STATEMENT_TIMEOUT_MS: '4000',
    });
  });
  after(async () => {
    instance?.child.kill('SIGTERM');
    await instance?.exited;
    await stack?.stop();
  });

  /** A raw connection that sends `head`, then `trickle` one byte at a time; resolves with the answer. */
  const slowClient = (head: string, trickle: string) =>
    new Promise<{ answer: string; ms: number }>((resolve, reject) => {
      const started = performance.now();
      const socket: Socket = connect(Number(new URL(instance.url).port), '127.0.0.1');
      let answer = '';
      let sent = 0;
      const drip = setInterval(() => {
        if (sent < trickle.length && socket.writable) socket.write(trickle[sent++] ?? '');
      }, 250);
      socket.on('connect', () => socket.write(head));
      socket.on('data', (chunk) => {
        answer += chunk;
      });
      socket.on('close', () => {
        clearInterval(drip);
        resolve({ answer, ms: performance.now() - started });
      });
      socket.on('error', reject);
    });

  test('slow-loris: trickled headers or bodies are cut with 408 while other clients are served', async () => {
    const { cartId, token } = await stack.cart('usr_loris');
    const headers = Array.from({ length: 10 }, () =>
      slowClient('GET /api/orders/x HTTP/1.1\r\nHost: x\r\n', 'X-Slow: '.padEnd(200, 'a')),
    );
    const bodies = Array.from({ length: 10 }, () =>
      slowClient(
        `POST /api/carts HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 200\r\nAuthorization: Bearer ${token}\r\n\r\n`,
        '{"a":"'.padEnd(200, 'a'),
      ),
    );
    await sleep(300);
    // Meanwhile, everyone else is served as usual.
    const started = performance.now();
    const served = await stack.api('GET', `/api/carts/${cartId}`, { token, baseUrl: instance.url });
    assert.equal(served.status, 200);
    assert.ok(performance.now() - started < 1000, 'a normal client is not kept waiting');

    for (const { answer, ms } of await Promise.all([...headers, ...bodies])) {
      assert.match(answer, /^HTTP\/1.1 408 /, answer);
      assert.match(answer, /application\/problem\+json/);
      assert.match(answer, /"error":"REQUEST_TIMEOUT"/);
      assert.ok(ms < 5000, `cut within the request timeout and a check interval: ${ms} ms`);
    }
  });

  test('a pool held by statements that do not end: past the pool and its queue, a fast 503, not a wait', async () => {
    const { cartId, token } = await stack.cart('usr_stuck_pool');
    const locker = new pg.Client({ connectionString: stack.info.databaseUrl });
    await locker.connect();
    try {
      // Every statement that reads carts now waits: 2 of them fill the pool, 2 its queue.
      await locker.query('BEGIN');
      await locker.query('LOCK TABLE carts IN ACCESS EXCLUSIVE MODE');
      const answered: Awaited<ReturnType<TestStack['api']>>[] = [];
      const pending = Array.from({ length: 10 }, () =>
        stack.api('GET', `/api/carts/${cartId}`, { token, baseUrl: instance.url }).then((response) => {
          answered.push(response);
          return response;
        }),
      );
      await sleep(1500);
      // Whichever arrived first hold the pool and its queue; every other one has its answer already.
      assert.equal(answered.length, 6, `answered while the lock holds: ${answered.map((r) => r.status)}`);
      for (const response of answered) {
        assert.equal(response.status, 503, response.text);
        assert.equal(response.body.error, 'SERVICE_TEMPORARILY_UNAVAILABLE');
        assert.ok(response.headers.get('retry-after'));
        assert.ok(response.elapsedMs < 1000, `answered at once: ${response.elapsedMs} ms`);
      }
      await locker.query('ROLLBACK');
      const all = await Promise.all(pending);
      assert.equal(
        all.filter((r) => r.status === 200).length,
        4,
        'the ones in the pool and its queue finish',
      );
    } finally {
      await locker.end();
    }
    const health = await stack.api('GET', '/health', { token: null, baseUrl: instance.url });
    assert.equal(health.status, 200, health.text);
  });
});
