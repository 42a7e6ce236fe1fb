import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { freePort } from '../../src/stack/freePort.ts';
import type { StackInfo } from '../../src/stack/stackFile.ts';
import { ApiContract, type ApiDocument } from './apiContract.ts';
import { CLI, runCli } from './processes.ts';
import { assertSanitized } from './sanitized.ts';

export interface ApiResponse {
  status: number;
  headers: Headers;
  text: string;
  body: Record<string, unknown>;
  elapsedMs: number;
}

export interface TestStack {
  info: StackInfo;
  dataDir: string;
  /** Calls the checkout service; every answer is checked to leak no internals. */
  api: (
    method: string,
    path: string,
    options?: {
      body?: unknown;
      raw?: string;
      token?: string | null;
      headers?: Record<string, string>;
      baseUrl?: string;
    },
  ) => Promise<ApiResponse>;
  token: (userId: string) => Promise<string>;
  /** A new cart of `userId` holding the given items. */
  cart: (
    userId: string,
    items?: { sku: string; quantity: number }[],
  ) => Promise<{ cartId: string; token: string }>;
  fault: (
    service: 'payment' | 'inventory',
    fault: Record<string, unknown>,
  ) => Promise<{ requestsSeen: number }>;
  stock: (sku: string) => Promise<{ available: number; reserved: number; sold: number }>;
  /** Adds units of a SKU at the inventory: for loads that sell more than the demo stock holds. */
  restock: (sku: string, quantity: number) => Promise<void>;
  log: (service: string) => Promise<Record<string, unknown>[]>;
  /** A small pool on the checkout database (it survives a PostgreSQL restart); closed by stop(). */
  db: pg.Pool;
  /**
   * True when every checkout attempt matching `where` is settled: completed with its stock sold, or
   * failed with no second look for a late charge still to come and its stock given back.
   */
  settled: (where: { cartId: string } | { userId: string } | { userIds: string[] }) => Promise<boolean>;
  /** Runs `steadfast reconcile` against this stack. */
  reconcile: () => Promise<{ code: number; stdout: string }>;
  /**
   * Starts one more checkout instance (`steadfast serve`) joined to this stack, with extra settings;
   * `cli`: another build's command (the bench runs the build that landed beside this one).
   */
  serve: (env?: Record<string, string>, options?: { cli?: string }) => Promise<ExtraInstance>;
  stop: () => Promise<void>;
}

export interface ExtraInstance {
  url: string;
  child: ChildProcess;
  /** Resolves with the exit code once the instance has exited. */
  exited: Promise<number | null>;
  output: () => string;
}

/**
 * The environment of a `steadfast start` under test, in `dataDir`, on free ports: the test's own, less
 * DATABASE_URL (each test stack has its own embedded PostgreSQL unless the test names a server), plus `env`.
 */
export function testStackEnv(dataDir: string, env: Record<string, string> = {}): NodeJS.ProcessEnv {
  return {
    ...Object.fromEntries(Object.entries(process.env).filter(([name]) => name !== 'DATABASE_URL')),
    STEADFAST_DATA_DIR: dataDir,
    PORT: '0',
    INVENTORY_PORT: '0',
    PAYMENT_PORT: '0',
    ...env,
  };
}

/** Runs `steadfast start` in a fresh data directory, on free ports, exactly as an operator would. */
export async function startTestStack(
  env: Record<string, string> = {},
  args: string[] = [],
): Promise<TestStack> {
  const dataDir = await mkdtemp(join(tmpdir(), 'steadfast-test-'));
  const child = spawn(process.execPath, [CLI, 'start', '--quiet', ...args], {
    env: testStackEnv(dataDir, { LOG_LEVEL: 'info', ...env }),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.on('data', (chunk) => {
    output += chunk;
  });
  child.stderr?.on('data', (chunk) => {
    output += chunk;
  });
  const info = await waitForStackJson(dataDir, child, () => output);
  const tokens = new Map<string, string>();
  const db = new pg.Pool({ connectionString: info.databaseUrl, max: 2 });
  db.on('error', () => {});

  // Every answer of the API is checked against the service's own OpenAPI document (read once).
  let contract: ApiContract | undefined;
  const stack: TestStack = {
    info,
    dataDir,
    db,
    async settled(where) {
      const [condition, value] =
        'cartId' in where
          ? ['cart_id = $1', where.cartId]
          : 'userId' in where
            ? ['user_id = $1', where.userId]
            : ['user_id = ANY($1)', where.userIds];
      const open = await db.query(
        `SELECT 1 FROM checkout_attempts WHERE ${condition} AND NOT (
           (phase = 'failed' AND recheck_charge_after IS NULL AND NOT stock_release_pending)
           OR (phase = 'completed' AND stock_committed))`,
        [value],
      );
      return open.rowCount === 0;
    },
    async api(method, path, options = {}) {
      const headers: Record<string, string> = { ...options.headers };
      if (options.token !== null) headers.authorization = `Bearer ${options.token ?? info.demoToken}`;
      let payload: string | undefined = options.raw;
      if (options.body !== undefined) payload = JSON.stringify(options.body);
      if (payload !== undefined && !Object.keys(headers).some((h) => h.toLowerCase() === 'content-type')) {
        headers['content-type'] = 'application/json';
      }
      const started = performance.now();
      const response = await fetch(`${options.baseUrl ?? info.checkoutUrl}${path}`, {
        method,
        headers,
        body: payload,
      });
      const text = await response.text();
      const elapsedMs = performance.now() - started;
      assertSanitized(text);
      contract ??= new ApiContract(
        (await (await fetch(`${info.checkoutUrl}/openapi.json`)).json()) as ApiDocument,
      );
      contract.check(method, path, { status: response.status, headers: response.headers, text });
      let body: Record<string, unknown> = {};
      try {
        body = text ? JSON.parse(text) : {};
      } catch {}
      return { status: response.status, headers: response.headers, text, body, elapsedMs };
    },
    async token(userId) {
      let token = tokens.get(userId);
      if (!token) {
        const secrets = JSON.parse(await readFile(join(dataDir, 'secrets.json'), 'utf8')) as {
          jwtSecret: string;
        };
        const { signToken } = await import('../../src/checkout/auth.ts');
        token = await signToken(secrets.jwtSecret, userId, '1h');
        tokens.set(userId, token);
      }
      return token;
    },
    async cart(userId, items = [{ sku: 'sku_mug', quantity: 1 }]) {
      const token = await stack.token(userId);
      const created = await stack.api('POST', '/api/carts', { token });
      if (created.status !== 201) throw new Error(`cart not created: ${created.status} ${created.text}`);
      const cartId = created.body.cartId as string;
      for (const item of items) {
        const added = await stack.api('POST', `/api/carts/${cartId}/items`, { token, body: item });
        if (added.status !== 200) throw new Error(`item not added: ${added.status} ${added.text}`);
      }
      return { cartId, token };
    },
    async fault(service, fault) {
      const url = service === 'payment' ? info.paymentUrl : info.inventoryUrl;
      const response = await fetch(`${url}/__sandbox/fault`, {
        method: fault.mode ? 'PUT' : 'GET',
        headers: fault.mode ? { 'content-type': 'application/json' } : {},
        body: fault.mode ? JSON.stringify(fault) : undefined,
      });
      if (!response.ok) throw new Error(`fault switch answered ${response.status}`);
      return (await response.json()) as { requestsSeen: number };
    },
    async stock(sku) {
      const response = await fetch(`${info.inventoryUrl}/stock/${sku}`);
      return (await response.json()) as { available: number; reserved: number; sold: number };
    },
    async restock(sku, quantity) {
      const response = await fetch(`${info.inventoryUrl}/stock/${sku}/restock`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ quantity }),
      });
      if (!response.ok) throw new Error(`restock answered ${response.status}`);
    },
    async log(service) {
      const text = await readFile(join(dataDir, 'logs', `${service}.log`), 'utf8');
      return text
        .split('\n')
        .filter((line) => line.startsWith('{'))
        .map((line) => JSON.parse(line) as Record<string, unknown>);
    },
    async reconcile() {
      // Without DATABASE_URL, reconcile reads the stack's own settings from its stack.env.
      const run = await runCli(
        ['reconcile'],
        { STEADFAST_DATA_DIR: dataDir },
        { unset: (name) => name === 'DATABASE_URL' },
      );
      return { code: run.code, stdout: run.stdout + run.stderr };
    },
    async serve(extra = {}, options = {}) {
      const stackEnv = await readStackEnv(dataDir);
      const port = await freePort();
      const instance = spawn(process.execPath, [options.cli ?? CLI, 'serve'], {
        env: {
          ...process.env,
          ...env,
          ...stackEnv,
          PORT: String(port),
          SHUTDOWN_DRAIN_DELAY_MS: '0',
          ...extra,
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let text = '';
      for (const stream of [instance.stdout, instance.stderr]) {
        stream.on('data', (chunk) => {
          text += chunk;
        });
      }
      const exited = once(instance, 'exit').then(([code]) => code as number | null);
      const url = `http://127.0.0.1:${port}`;
      // Ready when it answers, whatever its log level lets it say.
      let gone = false;
      void exited.then(() => {
        gone = true;
      });
      while (
        !(await fetch(`${url}/health/live`).then(
          (r) => r.ok,
          () => false,
        ))
      ) {
        if (gone) throw new Error(`serve exited with ${instance.exitCode}: ${text}`);
        await sleep(50);
      }
      return { url, child: instance, exited, output: () => text };
    },
    async stop() {
      await db.end();
      if (child.exitCode === null) {
        const exited = once(child, 'exit');
        child.kill('SIGTERM');
        await exited;
      }
      // KEEP_TEST_DATA=1 keeps the data directory (logs, stack.json) for a look after a failure.
      if (process.env.KEEP_TEST_DATA) process.stderr.write(`test stack data kept in ${dataDir}\n`);
      else await rm(dataDir, { recursive: true, force: true });
    },
  };
  return stack;
}

/** The settings a `steadfast serve` needs to join the stack (`<data dir>/stack.env`). */
export async function readStackEnv(dataDir: string): Promise<Record<string, string>> {
  const text = await readFile(join(dataDir, 'stack.env'), 'utf8');
  return Object.fromEntries(
    text
      .trim()
      .split('\n')
      .map((line) => line.split(/=(.*)/s).slice(0, 2) as [string, string]),
  );
}

async function waitForStackJson(
  dataDir: string,
  child: ChildProcess,
  output: () => string,
): Promise<StackInfo> {
  const path = join(dataDir, 'stack.json');
  const deadline = Date.now() + 90_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null)
      throw new Error(`steadfast start exited with ${child.exitCode}:\n${output()}`);
    if (existsSync(path)) {
      const info = JSON.parse(await readFile(path, 'utf8')) as StackInfo;
      if (info.pids.checkout) return info;
    }
    await sleep(100);
  }
  child.kill('SIGKILL');
  throw new Error(`steadfast start did not become ready:\n${output()}`);
}

/** Polls `probe` until it returns true, or fails after `timeoutMs`. */
export async function eventually(
  probe: () => Promise<boolean>,
  timeoutMs = 20_000,
  what = 'condition',
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await probe().catch(() => false)) return;
    await sleep(100);
  }
  throw new Error(`timed out waiting for ${what}`);
}
