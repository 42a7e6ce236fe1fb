import assert from 'node:assert/strict';
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { type AddressInfo, connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import pino from 'pino';
import { portOpen } from '../../test/support/processes.ts';
import { listenAdmissionAgent } from '../platform/http/admissionAgent.ts';
import { freePort } from './freePort.ts';
import { type BalancedInstance, HAPROXY_CONFIG, HAPROXY_ERRORS, haproxyConfigFor } from './loadBalancer.ts';

/** `haproxy -c`: HAProxy's own check of a configuration file. */
function haproxyCheck(path: string) {
  const result = spawnSync('haproxy', ['-c', '-f', path], {
    encoding: 'utf8',
    env: { ...process.env, HAPROXY_ERRORS },
  });
  assert.equal(result.error, undefined, 'haproxy must be installed (Debian package haproxy)');
  return { code: result.status, output: result.stdout + result.stderr };
}

test('HAProxy accepts the shipped configuration [haproxy]', () => {
  const { code, output } = haproxyCheck(HAPROXY_CONFIG);
  assert.equal(code, 0, output);
});

test('the configuration for N instances has one server line each, and HAProxy accepts it [haproxy]', async () => {
  const shipped = await readFile(HAPROXY_CONFIG, 'utf8');
  const config = haproxyConfigFor(shipped, [
    {
      name: 'checkout-1',
      url: 'http://127.0.0.1:41001',
      managementUrl: 'http://127.0.0.1:42001',
      admissionAgentPort: 43001,
    },
    { name: 'checkout-2', url: 'http://127.0.0.1:41002' },
  ]);
  const servers = config.split('\n').filter((line) => line.trim().startsWith('server '));
  // Checked on its management listener when it has one, where a flood of the API cannot delay the check;
  // in the checkout's backend, following that server and reading its agent when it has one.
  assert.deepEqual(servers, [
    '    server checkout-1 127.0.0.1:41001 check port 42001',
    '    server checkout-2 127.0.0.1:41002',
    '    server checkout-1 127.0.0.1:41001 track checkout/checkout-1 agent-check agent-port 43001 agent-inter 250ms',
    '    server checkout-2 127.0.0.1:41002 track checkout/checkout-2',
  ]);
  assert.equal(
    config.replace(/\n {4}server [^\n]+/g, ''),
    shipped.replace(/\n {4}server [^\n]+/g, ''),
    'nothing else changed',
  );
  const dir = await mkdtemp(join(tmpdir(), 'steadfast-haproxy-'));
  try {
    await writeFile(join(dir, 'haproxy.cfg'), config);
    const { code, output } = haproxyCheck(join(dir, 'haproxy.cfg'));
    assert.equal(code, 0, output);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

/** The instance's own pattern for a request id it keeps (createHttpServer's REQUEST_ID). */
const INSTANCE_REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/**
 * The shipped configuration in front of one backend, run by a real HAProxy: what it hands the backend,
 * answers and logs for a request id a client sends.
 */
describe('X-Request-Id through HAProxy: one id the instance keeps, never an unchecked echo [haproxy]', () => {
  let backend: Server;
  let balancer: RunningHaproxy;
  /** In front of a server that is not there: HAProxy's own 503. */
  let nobody: RunningHaproxy;
  /** The X-Request-Id headers each request reached the backend with, by the path it asked for. */
  const received = new Map<string, string | string[] | undefined>();

  before(async () => {
    backend = createServer((request, response) => {
      received.set(request.url ?? '', request.headers['x-request-id']);
      const id = request.headers['x-request-id'];
      // As the instance does: the id it was given back on the answer, when it keeps it.
      if (typeof id === 'string' && INSTANCE_REQUEST_ID.test(id)) response.setHeader('x-request-id', id);
      response.end('{}');
    });
    backend.listen(0, '127.0.0.1');
    await once(backend, 'listening');
    balancer = await startHaproxy(`http://127.0.0.1:${(backend.address() as AddressInfo).port}`);
    nobody = await startHaproxy(`http://127.0.0.1:${await freePort()}`);
  });
  after(async () => {
    await balancer?.stop();
    await nobody?.stop();
    backend?.close();
  });

  /** One request written byte for byte (any header, any byte), and what came back. */
  function rawRequest(port: number, head: string): Promise<{ status: number; headers: string }> {
    return new Promise((resolve, reject) => {
      const socket = connect(port, '127.0.0.1');
      let text = '';
      socket.on('data', (chunk) => {
        text += chunk.toString('latin1');
      });
      socket.on('error', reject);
      socket.on('close', () => {
        const [statusLine = '', ...lines] = (text.split('\r\n\r\n')[0] ?? '').split('\r\n');
        resolve({ status: Number(statusLine.split(' ')[1]), headers: lines.join('\n') });
      });
      socket.end(Buffer.from(`${head}Connection: close\r\n\r\n`, 'latin1'));
    });
  }
  const responseId = (headers: string) =>
    headers
      .split('\n')
      .filter((line) => /^x-request-id:/i.test(line))
      .map((line) => line.slice(line.indexOf(':') + 1).trim());
  const loggedId = async (path: string) => {
    const deadline = Date.now() + 5000;
    for (;;) {
      const line = balancer
        .output()
        .split('\n')
        .find((l) => l.includes(`GET ${path} HTTP/1.1`));
      const id = line ? /id=(\S*)/.exec(line)?.[1] : undefined;
      if (id !== undefined) return id;
      assert.ok(Date.now() < deadline, `no HAProxy log line for ${path}: ${balancer.output()}`);
      await sleep(20);
    }
  };

  test('a valid id is kept: the backend, the answer and the log line hold it', async () => {
    const { status, headers } = await rawRequest(
      balancer.port,
      'GET /kept HTTP/1.1\r\nHost: x\r\nX-Request-Id: client-id_1.2:3\r\n',
    );
    assert.equal(status, 200);
    assert.equal(received.get('/kept'), 'client-id_1.2:3');
    assert.deepEqual(responseId(headers), ['client-id_1.2:3']);
    assert.equal(await loggedId('/kept'), 'client-id_1.2:3');
  });

  const replaced: [string, string][] = [
    ['/space', 'X-Request-Id: has space\r\n'],
    ['/slash', 'X-Request-Id: a/b\r\n'],
    ['/markup', 'X-Request-Id: <script>alert(1)</script>\r\n'],
    ['/quote', 'X-Request-Id: a"b\r\n'],
    ['/unicode', 'X-Request-Id: caf\u00e9\r\n'],
    ['/long', `X-Request-Id: ${'a'.repeat(129)}\r\n`],
    ['/empty', 'X-Request-Id: \r\n'],
    ['/two', 'X-Request-Id: one\r\nX-Request-Id: two\r\n'],
    ['/comma', 'X-Request-Id: one,two\r\n'],
    ['/absent', ''],
  ];
  for (const [path, header] of replaced) {
    test(`a bad id (${path.slice(1)}) is replaced by HAProxy's own, the same in the backend, the answer and the log`, async () => {
      const { status, headers } = await rawRequest(
        balancer.port,
        `GET ${path} HTTP/1.1\r\nHost: x\r\n${header}`,
      );
      assert.equal(status, 200);
      const given = received.get(path);
      assert.equal(typeof given, 'string', `one header reached the backend: ${JSON.stringify(given)}`);
      assert.match(String(given), INSTANCE_REQUEST_ID, 'an id the instance keeps');
      assert.match(String(given), /^[0-9A-F]{20,}$/, "HAProxy's unique id");
      assert.deepEqual(responseId(headers), [given]);
      assert.equal(await loggedId(path), given);
    });
  }

  test("HAProxy's own 503 carries the checked id, never the client's bad one", async () => {
    const bad = await rawRequest(
      nobody.port,
      'GET /gone HTTP/1.1\r\nHost: x\r\nX-Request-Id: <img src=x onerror=alert(1)>\r\n',
    );
    assert.equal(bad.status, 503);
    const [id] = responseId(bad.headers);
    assert.match(id ?? '', /^[0-9A-F]{20,}$/);
    assert.doesNotMatch(bad.headers, /onerror/);
    const good = await rawRequest(nobody.port, 'GET /gone HTTP/1.1\r\nHost: x\r\nX-Request-Id: ok-1\r\n');
    assert.equal(good.status, 503);
    assert.deepEqual(responseId(good.headers), ['ok-1']);
  });
});

describe("past every instance's admission limit HAProxy refuses a checkout itself, as the instance would [haproxy]", () => {
  let backend: Server;
  let balancer: RunningHaproxy;
  let nobody: RunningHaproxy;
  let agent: Awaited<ReturnType<typeof listenAdmissionAgent>>;
  let checkoutsReceived = 0;
  const held: (() => void)[] = [];

  before(async () => {
    backend = createServer((request, response) => {
      if (request.url !== '/api/checkout/complete') return void response.end('{}');
      checkoutsReceived++;
      held.push(() => response.end('{}'));
    });
    backend.listen(0, '127.0.0.1');
    await once(backend, 'listening');
    // The instance's own agent, saying it lets one checkout in at once.
    agent = await listenAdmissionAgent({
      host: '127.0.0.1',
      port: 0,
      limit: () => 1,
      logger: pino({ level: 'silent' }),
    });
    const url = `http://127.0.0.1:${(backend.address() as AddressInfo).port}`;
    balancer = await startHaproxy(url, { admissionAgentPort: agent.port });
    nobody = await startHaproxy(`http://127.0.0.1:${await freePort()}`, { admissionAgentPort: agent.port });
  });
  after(async () => {
    for (const release of held) release();
    await balancer?.stop();
    await nobody?.stop();
    await agent?.close();
    backend?.close();
  });

  const checkout = (port: number) =>
    fetch(`http://127.0.0.1:${port}/api/checkout/complete`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'x-request-id': `shed-${Math.random().toString(36).slice(2)}`,
      },
      body: '{}',
    });

  test('one checkout in, the next refused at the balancer with SERVER_OVERLOADED; freed, let in again', async () => {
    const first = checkout(balancer.port);
    // Until the server is up and its agent has reported (checks and agent every second), more get in.
    let refused: Response | undefined;
    const deadline = Date.now() + 15_000;
    while (!refused) {
      assert.ok(Date.now() < deadline, `HAProxy never refused a checkout: ${balancer.output()}`);
      await sleep(200);
      const before = checkoutsReceived;
      const answer = await Promise.race([checkout(balancer.port), sleep(500).then(() => undefined)]);
      if (answer?.status === 503) refused = answer;
      else assert.ok(answer === undefined || checkoutsReceived > before, `answered ${answer?.status}`);
    }
    const received = checkoutsReceived;
    assert.equal(refused.headers.get('content-type'), 'application/problem+json');
    assert.equal(refused.headers.get('retry-after'), '1');
    assert.match(refused.headers.get('x-request-id') ?? '', /^shed-/);
    const body = (await refused.json()) as { error: string; status: number; errorId: string };
    assert.equal(body.error, 'SERVER_OVERLOADED');
    assert.equal(body.status, 503);
    assert.match(body.errorId, /^ERR-\d+-[0-9A-F]{6}$/i);
    // Not the instance's: nothing reached it, and HAProxy logged it as its own local answer.
    assert.equal(checkoutsReceived, received);
    await eventually(() =>
      /checkout\/<NOSRV> \S+ 503 \d+ LR-- .*POST \/api\/checkout\/complete/.test(balancer.output()),
    );
    // Other routes are not held to the checkout's limit.
    assert.equal((await fetch(`http://127.0.0.1:${balancer.port}/api/carts/x`)).status, 200);
    for (const release of held.splice(0)) release();
    assert.equal((await first).status, 200);
    await sleep(100);
    const again = checkout(balancer.port);
    await eventually(() => held.length === 1);
    held.shift()?.();
    assert.equal((await again).status, 200);
  });

  test("with no instance up it is the balancer's own 503, not an overload", async () => {
    const answer = await checkout(nobody.port);
    assert.equal(answer.status, 503);
    assert.equal(((await answer.json()) as { error: string }).error, 'SERVICE_TEMPORARILY_UNAVAILABLE');
  });
});

async function eventually(condition: () => boolean, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!condition()) {
    assert.ok(Date.now() < deadline, 'timed out');
    await sleep(20);
  }
}

interface RunningHaproxy {
  port: number;
  output: () => string;
  stop: () => Promise<void>;
}

/** A real HAProxy with the shipped configuration, its one server at `serverUrl`; its log is its stdout. */
async function startHaproxy(
  serverUrl: string,
  server: Partial<BalancedInstance> = {},
): Promise<RunningHaproxy> {
  const dir = await mkdtemp(join(tmpdir(), 'steadfast-haproxy-id-'));
  const config = join(dir, 'haproxy.cfg');
  const template = await readFile(HAPROXY_CONFIG, 'utf8');
  await writeFile(config, haproxyConfigFor(template, [{ name: 'checkout-1', url: serverUrl, ...server }]));
  const port = await freePort();
  const child: ChildProcess = spawn('haproxy', ['-db', '-f', config], {
    env: {
      ...process.env,
      HAPROXY_BIND: `127.0.0.1:${port}`,
      HAPROXY_STATS_BIND: `127.0.0.1:${await freePort()}`,
      HAPROXY_ERRORS,
      HAPROXY_ADMIN_SOCKET: join(dir, 'admin.sock'),
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  for (const stream of [child.stdout, child.stderr]) {
    stream?.on('data', (chunk) => {
      output += chunk;
    });
  }
  const deadline = Date.now() + 10_000;
  while (!(await portOpen(port))) {
    assert.equal(child.exitCode, null, `HAProxy exited: ${output}`);
    assert.ok(Date.now() < deadline, `HAProxy did not start: ${output}`);
    await sleep(50);
  }
  return {
    port,
    output: () => output,
    stop: async () => {
      child.kill('SIGKILL');
      await rm(dir, { recursive: true, force: true });
    },
  };
}
