import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { globSync } from 'node:fs';
import { mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { CHECKOUT_MIGRATIONS } from '../src/checkout/main.ts';
import { listMigrations } from '../src/platform/database/migrations.ts';
import { freePort, startTestPostgres, type TestPostgres } from './support/postgres.ts';
import { testStackEnv } from './support/stack.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

// A production start runs compiled JavaScript: Node's type stripper costs each process about 28 MB and
// 150 ms of start. Run with stripping turned off, any TypeScript the build left in the graph fails to load.
describe('npm run build: the production build, run with no type stripping [PostgreSQL]', () => {
  let postgres: TestPostgres;
  let deployed: string;
  let app: string;
  let databaseUrl: string;

  before(async () => {
    // Deployed as an operator would: the build with the package's dependencies beside it.
    deployed = await mkdtemp(join(tmpdir(), 'steadfast-build-'));
    app = join(deployed, 'dist');
    const build = spawnSync(process.execPath, [join(ROOT, 'scripts/build.ts'), '--out-dir', app], {
      encoding: 'utf8',
    });
    assert.equal(build.status, 0, build.stdout + build.stderr);
    await writeFile(join(deployed, 'package.json'), '{ "type": "module" }\n');
    await symlink(join(ROOT, 'node_modules'), join(deployed, 'node_modules'));
    postgres = await startTestPostgres();
    databaseUrl = await postgres.createDatabase('compiled_build');
  });
  after(async () => {
    await postgres?.stop();
    await rm(deployed, { recursive: true, force: true });
  });

  const node = (args: string[], env: Record<string, string> = {}) =>
    spawn(process.execPath, ['--no-experimental-strip-types', join(app, 'cli/main.js'), ...args], {
      env: { PATH: process.env.PATH, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
  const output = async (child: ReturnType<typeof node>) => {
    let text = '';
    child.stdout?.on('data', (chunk) => {
      text += chunk;
    });
    child.stderr?.on('data', (chunk) => {
      text += chunk;
    });
    const [code] = await once(child, 'exit');
    return { code: code as number, text };
  };

  test('JavaScript only, with the files read at run time; migrate and serve run from it', async () => {
    assert.deepEqual(globSync('**/*.ts', { cwd: app }), [], 'no TypeScript in the build');
    assert.deepEqual(globSync('**/*.test.js', { cwd: app }), [], 'no tests in the build');
    for (const file of [
      'platform/dashboard/dashboard.html',
      'platform/http/migrations/0005_rate_limit_windows.sql',
    ])
      assert.ok(globSync(file, { cwd: app }).length === 1, file);

    const migrated = await output(node(['migrate'], { DATABASE_URL: databaseUrl }));
    assert.equal(migrated.code, 0, migrated.text);
    // Every migration of the sources is in the build, and applied from it.
    const version = (await listMigrations(CHECKOUT_MIGRATIONS)).length;
    assert.match(migrated.text, new RegExp(`schema version ${version}, this build expects ${version}\\b`));

    const [port, managementPort] = [await freePort(), await freePort()];
    const served = node(['serve'], {
      NODE_ENV: 'production',
      DATABASE_URL: databaseUrl,
      PORT: String(port),
      MANAGEMENT_PORT: String(managementPort),
      STRIPE_API_BASE: 'http://127.0.0.1:9',
      STRIPE_SECRET_KEY: 'sk_test_compiled0123456789',
      INVENTORY_API_URL: 'http://127.0.0.1:9',
      JWT_SECRET: 'a-compiled-build-signing-key-0123456789',
    });
    const ended = output(served);
    try {
      let ready: Response | undefined;
      for (let i = 0; i < 100 && ready?.status !== 200; i++) {
        await new Promise((resolve) => setTimeout(resolve, 100));
        ready = await fetch(`http://127.0.0.1:${managementPort}/health/ready`).catch(() => undefined);
      }
      assert.equal(ready?.status, 200, `ready: ${served.exitCode ?? 'running'}`);
      const page = await fetch(`http://127.0.0.1:${managementPort}/dashboard`);
      assert.equal(page.status, 200);
      assert.match(await page.text(), /<div class="tiles" id="tiles">/);
      const api = await fetch(`http://127.0.0.1:${port}/api/orders/x`);
      assert.equal(api.status, 401, 'the API answers in its contract');
    } finally {
      served.kill('SIGTERM');
    }
    const { code, text } = await ended;
    assert.equal(code, 0, text);
    assert.match(text, /"msg":"service_started"/);
    assert.doesNotMatch(text, /ERR_UNKNOWN_FILE_EXTENSION|ERR_UNSUPPORTED_NODE_MODULES_TYPE_STRIPPING/);
  });

  test("steadfast start runs from it too: its children are the build's JavaScript", async () => {
    const dataDir = join(deployed, 'stack');
    const stack = spawn(
      process.execPath,
      ['--no-experimental-strip-types', join(app, 'cli/main.js'), 'start', '--quiet'],
      { env: testStackEnv(dataDir), stdio: ['ignore', 'pipe', 'pipe'] },
    );
    const ended = output(stack);
    try {
      let info: { checkoutUrl?: string } = {};
      for (let i = 0; i < 300 && !info.checkoutUrl; i++) {
        await new Promise((resolve) => setTimeout(resolve, 100));
        info = JSON.parse(await readFile(join(dataDir, 'stack.json'), 'utf8').catch(() => '{}'));
      }
      assert.ok(info.checkoutUrl, 'the stack came up');
      assert.equal((await fetch(`${info.checkoutUrl}/health/ready`)).status, 200);
    } finally {
      stack.kill('SIGINT');
    }
    const { code, text } = await ended;
    assert.equal(code, 0, text);
    assert.doesNotMatch(text, /ERR_UNKNOWN_FILE_EXTENSION|ERR_UNSUPPORTED_NODE_MODULES_TYPE_STRIPPING/);
  });
});
