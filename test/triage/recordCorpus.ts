/**
 * Records triage's scenario corpus from the real stack: for each scenario a fresh `steadfast start`,
 * steady traffic, the fault switched on at a noted time, more traffic, then the logs (gzip-compressed,
 * as rotated files are) and every service's /metrics saved under corpus/<scenario>/. Nothing in a
 * fixture is written by hand; scenario.json holds what the recorder did and when.
 *
 *   npm run triage:record [scenario...]
 */
import { execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdir, mkdtemp, readdir, readFile, rm, statfs, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import pg from 'pg';
import { freePort } from '../../src/stack/freePort.ts';
import { HaproxyAdmin } from '../../src/stack/HaproxyAdmin.ts';
import { Inspector } from '../support/inspector.ts';
import { CLI, childrenOf } from '../support/processes.ts';
import { readStackEnv, startTestStack, type TestStack } from '../support/stack.ts';

const CORPUS = fileURLToPath(new URL('./corpus/', import.meta.url));
const REPO = fileURLToPath(new URL('../../', import.meta.url)).replace(/\/$/, '');
const NEW_COMMIT = 'c0ffee5eed42';
const INVENTORY = fileURLToPath(new URL('../../src/sandbox/inventory/main.ts', import.meta.url));

interface Run {
  stack: TestStack;
  /** Where the traffic goes; a scenario may move it to an instance it started. */
  target: string;
  /** More clients join the traffic when a scenario raises it. */
  clients: number;
  /** Output of instances the scenario started, saved as their own log files. */
  extraLogs: Map<string, () => string>;
  heal: (() => Promise<void>)[];
  /** When the fault came on, for a scenario that sets the stage first; otherwise when inject began. */
  faultAt?: Date;
  /** How long a client waits for an answer before it gives up. */
  clientTimeoutMs: number;
}

interface Scenario {
  name: string;
  description: string;
  env?: Record<string, string>;
  clients?: number;
  /** The pause of each client between two checkouts (50 ms): longer, a steady load well below capacity. */
  pauseMs?: number;
  /** The fault is there from the start (a bug in the build that starts): faultAt is when traffic began. */
  fromStart?: boolean;
  /** Checkout instances behind HAProxy (`steadfast start --instances N`); HAPROXY_* settings go in env. */
  instances?: number;
  /** How long traffic goes on after the fault (7 s). */
  observeMs?: number;
  /** How long a client waits for an answer (5 s): longer than the balancer, to see the balancer's answer. */
  clientTimeoutMs?: number;
  inject: (run: Run) => Promise<void>;
}

const dbTimeouts = { DB_STATEMENT_TIMEOUT_MS: '1000', DB_CONNECT_TIMEOUT_MS: '1000' };
/** A stack behind HAProxy: its stats page on a free port. */
const balanced = { HAPROXY_STATS_PORT: '0' };

const SCENARIOS: Scenario[] = [
  { name: 'healthy', description: 'Steady traffic, no fault.', inject: async () => {} },
  {
    name: 'payment-5xx',
    description: 'The payment gateway answers 500 to every call.',
    inject: async ({ stack }) => void (await stack.fault('payment', { mode: 'error' })),
  },
  {
    name: 'payment-hang',
    description: 'The payment gateway accepts calls and never answers.',
    env: { PAYMENT_TIMEOUT_MS: '800' },
    inject: async ({ stack }) => void (await stack.fault('payment', { mode: 'hang' })),
  },
  {
    name: 'inventory-reset',
    description: 'The inventory service drops every connection.',
    inject: async ({ stack }) => void (await stack.fault('inventory', { mode: 'reset' })),
  },
  {
    name: 'inventory-down',
    description:
      'The inventory service a checkout instance calls dies and is not restarted: connections refused.',
    inject: async (run) => {
      // An inventory of its own, outside the supervisor (which would restart it), and an instance calling it.
      const port = await freePort();
      const databaseUrl = new URL(run.stack.info.databaseUrl);
      databaseUrl.pathname = '/inventory';
      const inventory = launch(run, 'inventory-2', process.execPath, [INVENTORY], {
        ...process.env,
        DATABASE_URL: databaseUrl.href,
        PORT: String(port),
        LOG_LEVEL: 'info',
      });
      await inventory.started();
      await deploy(run, { INVENTORY_API_URL: `http://127.0.0.1:${port}` });
      await sleep(2000);
      inventory.child.kill('SIGKILL');
      run.faultAt = new Date();
    },
  },
  {
    name: 'postgres-stopped',
    description: 'PostgreSQL is shut down (and not restarted for a while).',
    env: dbTimeouts,
    inject: async (run) => {
      const [wrapper] = childrenOf(run.stack.info.pids.supervisor, 'postgresProcess');
      if (!wrapper) throw new Error('no PostgreSQL wrapper');
      process.kill(wrapper, 'SIGSTOP');
      run.heal.push(async () => {
        process.kill(wrapper, 'SIGCONT');
      });
      process.kill(run.stack.info.pids.postgres as number, 'SIGINT');
    },
  },
  {
    name: 'postgres-hung',
    description: 'PostgreSQL stops answering (SIGSTOP): connections stay open, nothing comes back.',
    env: dbTimeouts,
    inject: async (run) => freezePostgres(run),
  },
  {
    name: 'pool-slow-statements',
    description:
      'A lock held elsewhere makes every statement on carts wait: the pool fills with slow statements.',
    env: { ...dbTimeouts, DB_POOL_MAX: '4' },
    clients: 8,
    inject: async (run) => {
      const locker = new pg.Client({ connectionString: run.stack.info.databaseUrl });
      await locker.connect();
      await locker.query('BEGIN');
      await locker.query('LOCK TABLE carts IN ACCESS EXCLUSIVE MODE');
      run.heal.push(async () => {
        await locker.query('ROLLBACK');
        await locker.end();
      });
    },
  },
  {
    name: 'postgres-connections-used-up',
    description:
      'Another client takes every PostgreSQL connection slot: the pool cannot open the connections it needs.',
    env: dbTimeouts,
    clients: 2,
    inject: async (run) => {
      const hogs: pg.Client[] = [];
      for (;;) {
        const client = new pg.Client({ connectionString: run.stack.info.databaseUrl });
        try {
          await client.connect();
          hogs.push(client);
        } catch {
          break;
        }
      }
      run.heal.push(async () => {
        await Promise.all(hogs.map((h) => h.end().catch(() => {})));
      });
      // The pool has opened few connections for two clients; thirty need more than PostgreSQL has left.
      run.clients = 30;
    },
  },
  {
    name: 'file-descriptors-exhausted',
    description:
      'An instance limited to 64 open files takes the traffic, then more clients than it has files for.',
    clients: 2,
    inject: async (run) => {
      const port = await freePort();
      const env = {
        ...process.env,
        ...(await readStackEnv(run.stack.dataDir)),
        PORT: String(port),
        LOG_LEVEL: 'info',
      };
      const limited = launch(
        run,
        'checkout-2',
        'sh',
        ['-c', `ulimit -n 64 && exec "${process.execPath}" "${CLI}" serve`],
        env,
      );
      await limited.started();
      run.target = `http://127.0.0.1:${port}`;
      run.clients = 60;
    },
  },
  {
    name: 'memory-heap-exhausted',
    description:
      'An instance with a heap limit of about 131 MB keeps 256 KB of every request it answers below 500 (a leak, set through its inspector) until its heap nears that limit.',
    inject: async (run) => {
      const port = await freePort();
      const env = {
        ...process.env,
        ...(await readStackEnv(run.stack.dataDir)),
        PORT: String(port),
        LOG_LEVEL: 'info',
        // Its memory check fails first, then it sheds, and a shed request keeps nothing: the heap stops
        // growing below the old space's cap, and the instance lives on to be scraped.
        HEALTH_MEMORY_MAX_PCT: '80',
        SHED_HEAP_USED_PCT: '85',
        // Sampled every 100 ms: the leak grows the heap by megabytes between two samples of the default 500.
        SHED_SAMPLE_INTERVAL_MS: '100',
      };
      // V8's heap_size_limit, which both checks divide by, is the old space's cap plus the young
      // generation's (three semi-spaces, sized from the machine's memory: 64 MB each on a large one).
      // With --max-old-space-size alone the limit is three times the cap and the heap never nears it;
      // semi-spaces of 1 MB make the limit the cap plus 3 MB.
      const args = [
        '--max-old-space-size=128',
        '--max-semi-space-size=1',
        '--inspect=127.0.0.1:0',
        CLI,
        'serve',
      ];
      await launch(run, 'checkout-2', process.execPath, args, env).started();
      const url = /Debugger listening on (ws:\/\/\S+)/.exec(run.extraLogs.get('checkout-2')?.() ?? '')?.[1];
      if (!url) throw new Error('no inspector URL');
      const inspector = await Inspector.connect(url);
      run.heal.push(async () => inspector.close());
      run.target = `http://127.0.0.1:${port}`;
      await sleep(2000);
      // What a leak does: every answered request leaves something reachable behind (the soak's method).
      await inspector.send('Runtime.evaluate', {
        expression: `(() => {
          const http = process.getBuiltinModule('node:http');
          const { randomBytes } = process.getBuiltinModule('node:crypto');
          const kept = (globalThis.corpusLeak = []);
          const emit = http.Server.prototype.emit;
          http.Server.prototype.emit = function (event, request, response) {
            if (event === 'request' && request.url.startsWith('/api/'))
              response.once('finish', () => {
                if (response.statusCode < 500) kept.push(randomBytes(${128 * 1024}).toString('hex'));
              });
            return emit.apply(this, arguments);
          };
        })()`,
      });
      // The fault is on once the instance's own memory check fails.
      for (const deadline = Date.now() + 60_000; Date.now() < deadline; await sleep(100)) {
        const health = (await fetch(`${run.target}/health`).then(
          (r) => r.json(),
          () => ({}),
        )) as { error?: string };
        if (/Memory usage above/.test(String(health.error))) {
          run.faultAt = new Date();
          return;
        }
      }
      throw new Error('the heap never neared its limit');
    },
  },
  {
    name: 'disk-full',
    description:
      "An instance's LOG_FILE is on a filesystem of 1 MiB (a tmpfs mounted for the recording), which something else fills.",
    inject: async (run) => {
      const mount = await mkdtemp(join(tmpdir(), 'steadfast-disk-'));
      execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', mount]);
      run.heal.push(async () => {
        execFileSync('umount', ['-l', mount]);
        await rm(mount, { recursive: true, force: true });
      });
      const port = await freePort();
      const env = {
        ...process.env,
        ...(await readStackEnv(run.stack.dataDir)),
        PORT: String(port),
        LOG_LEVEL: 'info',
        LOG_FILE: join(mount, 'checkout.log'),
      };
      await launch(run, 'checkout-2', process.execPath, [CLI, 'serve'], env).started();
      run.target = `http://127.0.0.1:${port}`;
      await sleep(2000);
      // Every block left, taken at once: the instance's next write to its file fails with ENOSPC.
      const { bavail, bsize } = await statfs(mount);
      await writeFile(join(mount, 'filler'), Buffer.alloc(bavail * bsize)).catch((error) => {
        if ((error as NodeJS.ErrnoException).code !== 'ENOSPC') throw error;
      });
      run.faultAt = new Date();
    },
  },
  {
    name: 'overload-in-flight',
    description: 'Ten times the clients the in-flight cap admits.',
    env: { MAX_CONCURRENT_REQUESTS: '6' },
    clients: 3,
    inject: async (run) => {
      run.clients = 60;
    },
  },
  {
    name: 'overload-event-loop',
    description: 'More clients than one event loop can serve: shed by event-loop utilisation.',
    env: { SHED_EVENT_LOOP_UTILIZATION: '0.9' },
    clients: 2,
    inject: async (run) => {
      run.clients = 80;
    },
  },
  {
    name: 'bug-orders-endpoint',
    description: 'A bug on GET /api/orders/:orderId since the service started.',
    env: { STEADFAST_FAILPOINT: 'orders.read:throw' },
    fromStart: true,
    inject: async () => {},
  },
  {
    name: 'bug-add-item-endpoint',
    description: 'A bug on POST /api/carts/:cartId/items since the service started.',
    env: { STEADFAST_FAILPOINT: 'carts.add_item:throw' },
    fromStart: true,
    inject: async () => {},
  },
  {
    name: 'deploy-bug',
    description: 'A new build with a bug on one endpoint takes the traffic.',
    inject: async (run) => {
      await deploy(run, { STEADFAST_COMMIT: NEW_COMMIT, STEADFAST_FAILPOINT: 'orders.read:throw' });
    },
  },
  {
    name: 'deploy-schema-mismatch',
    description:
      'A new build expects a column its migration never added (renamed here, as a migration gone wrong would).',
    inject: async (run) => {
      await deploy(run, { STEADFAST_COMMIT: NEW_COMMIT });
      const db = new pg.Client({ connectionString: run.stack.info.databaseUrl });
      await db.connect();
      await db.query('ALTER TABLE products RENAME COLUMN name TO title');
      run.heal.push(async () => {
        await db.query('ALTER TABLE products RENAME COLUMN title TO name');
        await db.end();
      });
    },
  },
  {
    name: 'wrong-payment-url',
    description: 'An instance started with STRIPE_API_BASE pointing where nothing listens takes the traffic.',
    inject: async (run) => {
      await deploy(run, { STRIPE_API_BASE: `http://127.0.0.1:${await freePort()}` });
    },
  },
  {
    name: 'missing-secret',
    description: 'An instance is started in production without JWT_SECRET: it refuses to start.',
    inject: async (run) => {
      // In production a secret has no development default: without it, the service must not start.
      const env: NodeJS.ProcessEnv = {
        ...process.env,
        ...(await readStackEnv(run.stack.dataDir)),
        PORT: '0',
      };
      env.NODE_ENV = 'production';
      delete env.JWT_SECRET;
      await once(launch(run, 'checkout-2', process.execPath, [CLI, 'serve'], env).child, 'exit');
    },
  },
  {
    name: 'mixed-postgres-hung-under-load',
    description:
      'PostgreSQL hangs under heavy traffic: database timeouts, a full pool and shed requests follow.',
    env: { ...dbTimeouts, MAX_CONCURRENT_REQUESTS: '10' },
    clients: 16,
    pauseMs: 250,
    inject: async (run) => freezePostgres(run),
  },
  {
    name: 'balancer-timeout-below-budget',
    description:
      "HAProxy's timeout server (1 s) is below the checkout's budget; the payment gateway slows to 1.5 s: the instances answer 201, late, and HAProxy has already answered 504.",
    instances: 2,
    env: { ...balanced, HAPROXY_TIMEOUT_SERVER: '1s' },
    clientTimeoutMs: 10_000,
    inject: async ({ stack }) => void (await stack.fault('payment', { mode: 'latency', latencyMs: 1500 })),
  },
  {
    name: 'balancer-no-server',
    description:
      'Every checkout instance is set to drain at HAProxy (a rolling restart left behind): healthy instances, no server to send to.',
    instances: 2,
    env: balanced,
    inject: async ({ stack }) => {
      const admin = new HaproxyAdmin(join(stack.dataDir, 'haproxy', 'admin.sock'), 'checkout');
      for (const instance of stack.info.instances) await admin.setState(instance.name, 'drain');
    },
  },
  {
    name: 'balancer-instance-frozen',
    description:
      "One of three instances is stopped (SIGSTOP) under load: HAProxy's requests to it wait out 'timeout server' until its check takes it out.",
    instances: 3,
    // The budget (1 + 1 + 2 × 1 s) below HAProxy's timeout server (5 s), as the shipped ordering wants.
    env: {
      ...balanced,
      ...dbTimeouts,
      PAYMENT_TIMEOUT_MS: '1000',
      INVENTORY_TIMEOUT_MS: '1000',
      HAPROXY_TIMEOUT_SERVER: '5s',
    },
    clients: 8,
    observeMs: 10_000,
    clientTimeoutMs: 10_000,
    inject: async (run) => {
      const frozen = run.stack.info.instances[1]?.pid;
      if (!frozen) throw new Error('no second instance');
      process.kill(frozen, 'SIGSTOP');
      run.heal.push(async () => {
        process.kill(frozen, 'SIGCONT');
      });
    },
  },
  {
    name: 'mixed-payment-hang-under-load',
    description:
      'The payment gateway hangs under heavy traffic: timeouts, an open breaker and shed requests follow.',
    env: { PAYMENT_TIMEOUT_MS: '1000', MAX_CONCURRENT_REQUESTS: '10' },
    clients: 16,
    pauseMs: 250,
    inject: async ({ stack }) => void (await stack.fault('payment', { mode: 'hang' })),
  },
];

async function deploy(run: Run, env: Record<string, string>): Promise<void> {
  const instance = await run.stack.serve({ LOG_LEVEL: 'info', ...env });
  run.target = instance.url;
  run.extraLogs.set('checkout-2', instance.output);
  run.heal.push(async () => {
    instance.child.kill('SIGTERM');
    await instance.exited;
  });
}

/**
 * Starts a process of the scenario's own, its output saved as the log `name`; stopped when the run heals.
 * `started()` waits for its `service_started` line, and fails if it exits first.
 */
function launch(run: Run, name: string, command: string, args: string[], env: NodeJS.ProcessEnv) {
  const child = spawn(command, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let text = '';
  for (const stream of [child.stdout, child.stderr]) stream.on('data', (chunk) => (text += chunk));
  run.extraLogs.set(name, () => text);
  run.heal.push(async () => {
    if (child.exitCode === null) child.kill('SIGKILL');
  });
  const started = async () => {
    while (!text.includes('service_started')) {
      if (child.exitCode !== null) throw new Error(`${name} exited before it started: ${text}`);
      await sleep(50);
    }
  };
  return { child, started };
}

function freezePostgres(run: Run): void {
  const postmaster = run.stack.info.pids.postgres as number;
  const frozen = [postmaster, ...childrenOf(postmaster)];
  for (const pid of frozen) process.kill(pid, 'SIGSTOP');
  run.heal.push(async () => {
    for (const pid of frozen) process.kill(pid, 'SIGCONT');
  });
}

/** Each client: a cart, an item, a checkout, a look at the order; again, until told to stop. */
async function traffic(run: Run, index: number, pauseMs: number, stop: () => boolean): Promise<void> {
  const token = await run.stack.token(`usr_corpus_${index}`);
  const call = async (method: string, path: string, body?: unknown) => {
    try {
      const response = await fetch(`${run.target}${path}`, {
        method,
        headers: {
          authorization: `Bearer ${token}`,
          ...(body ? { 'content-type': 'application/json' } : {}),
        },
        body: body ? JSON.stringify(body) : undefined,
        signal: AbortSignal.timeout(run.clientTimeoutMs),
      });
      return {
        status: response.status,
        body: (await response.json().catch(() => ({}))) as Record<string, string>,
      };
    } catch {
      return { status: 0, body: {} as Record<string, string> };
    }
  };
  while (!stop()) {
    const cart = await call('POST', '/api/carts');
    if (cart.status !== 201) {
      await sleep(100);
      continue;
    }
    await call('POST', `/api/carts/${cart.body.cartId}/items`, { sku: 'sku_mug', quantity: 1 });
    const done = await call('POST', '/api/checkout/complete', {
      cartId: cart.body.cartId,
      paymentToken: 'pm_card_visa',
    });
    if (done.status === 201) await call('GET', `/api/orders/${done.body.orderId}`);
    await sleep(done.status === 0 || done.status >= 500 ? Math.max(200, pauseMs) : pauseMs);
  }
}

async function record(scenario: Scenario): Promise<void> {
  // Each client checks out several times a second: the per-user rate limit is not what is recorded.
  const stack = await startTestStack(
    {
      LOG_LEVEL: 'info',
      CHECKOUT_RATE_LIMIT_PER_MINUTE: '100000',
      ...scenario.env,
    },
    scenario.instances ? ['--instances', String(scenario.instances)] : [],
  );
  const run: Run = {
    stack,
    target: stack.info.checkoutUrl,
    clients: scenario.clients ?? 4,
    extraLogs: new Map(),
    heal: [],
    clientTimeoutMs: scenario.clientTimeoutMs ?? 5000,
  };
  try {
    await stack.restock('sku_mug', 100_000);
    let stopped = false;
    const trafficFrom = new Date();
    const clients: Promise<void>[] = [];
    // Clients join one every 50 ms, as real traffic ramps: a burst of them at once would be shed on its own.
    const keepUp = setInterval(() => {
      if (clients.length < run.clients)
        clients.push(traffic(run, clients.length, scenario.pauseMs ?? 50, () => stopped));
    }, 50);
    await sleep(5000);
    const injectedAt = new Date();
    await scenario.inject(run);
    const faultAt = scenario.fromStart ? trafficFrom : (run.faultAt ?? injectedAt);
    await sleep(scenario.observeMs ?? 7000);
    const metrics: Record<string, string> = {};
    // Behind HAProxy, each instance's own: the balancer's port is not one instance.
    const checkouts: [string, string][] = scenario.instances
      ? stack.info.instances.map((i) => [i.name, i.managementUrl ?? i.url])
      : [['checkout', run.target]];
    const scraped: [string, string][] = [
      ...checkouts,
      ['inventory', stack.info.inventoryUrl],
      ['payment', stack.info.paymentUrl],
    ];
    for (const [service, url] of scraped) {
      metrics[service] = await fetch(`${url}/metrics`, { signal: AbortSignal.timeout(3000) }).then(
        (r) => r.text(),
        () => '',
      );
    }
    stopped = true;
    clearInterval(keepUp);
    await Promise.race([Promise.all(clients), sleep(6000)]);
    await save(scenario, run, faultAt, metrics);
  } finally {
    for (const heal of run.heal.reverse()) await heal().catch(() => {});
    await stack.stop();
  }
}

async function save(
  scenario: Scenario,
  run: Run,
  faultAt: Date,
  metrics: Record<string, string>,
): Promise<void> {
  const dir = join(CORPUS, scenario.name);
  await rm(dir, { recursive: true, force: true });
  await mkdir(join(dir, 'logs'), { recursive: true });
  await mkdir(join(dir, 'metrics'), { recursive: true });
  const logsDir = join(run.stack.dataDir, 'logs');
  const logs = new Map<string, string>();
  for (const name of await readdir(logsDir)) {
    if (name.endsWith('.log') && !name.startsWith('postgres'))
      logs.set(name, await readFile(join(logsDir, name), 'utf8'));
  }
  for (const [name, output] of run.extraLogs) logs.set(`${name}.log`, output());
  for (const [name, text] of logs)
    await writeFile(join(dir, 'logs', `${name}.gz`), gzipSync(scrub(text, run)));
  for (const [service, text] of Object.entries(metrics)) {
    if (text) await writeFile(join(dir, 'metrics', `${service}.prom`), scrub(text, run));
  }
  // The configuration HAProxy ran with (its "${NAME-default}" values are in scenario.json's env).
  if (scenario.instances) {
    await mkdir(join(dir, 'config'), { recursive: true });
    const config = await readFile(join(run.stack.dataDir, 'haproxy', 'haproxy.cfg'), 'utf8');
    await writeFile(join(dir, 'config', 'haproxy.cfg'), scrub(config, run));
  }
  await writeFile(
    join(dir, 'scenario.json'),
    `${JSON.stringify({ name: scenario.name, description: scenario.description, env: scenario.env ?? {}, faultAt: faultAt.toISOString() }, null, 2)}\n`,
  );
  process.stdout.write(`recorded ${scenario.name}: ${[...logs.keys()].join(', ')}\n`);
}

/** No path of the recording machine goes into a fixture. */
function scrub(text: string, run: Run): string {
  return text
    .replaceAll(REPO, '/app')
    .replaceAll(run.stack.dataDir, '/var/lib/steadfast')
    .replaceAll(tmpdir(), '/tmp');
}

const wanted = process.argv.slice(2);
for (const scenario of SCENARIOS) {
  if (wanted.length && !wanted.includes(scenario.name)) continue;
  await record(scenario);
}
