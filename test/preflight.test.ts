import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { runner } from 'node-pg-migrate';
import { CHECKOUT_MIGRATIONS } from '../src/checkout/main.ts';
import { listMigrations, migrate, migrationFiles } from '../src/platform/database/migrations.ts';
import { freePort, startTestPostgres, type TestPostgres } from './support/postgres.ts';
import { portOpen, runCli } from './support/processes.ts';

const EXPECTED = (await listMigrations(CHECKOUT_MIGRATIONS)).length;
const SECRET = 'a-very-secret-jwt-signing-key-0123456789';
const PAYMENT_KEY = 'sk_live_do_not_print_me_42';

const steadfast = (args: string[], env: Record<string, string | undefined>) =>
  runCli(args, env, { unset: (name) => name.startsWith('DATABASE_') || name === 'NODE_ENV' });

// Section 3: a missing or malformed setting, an unreachable database or a schema behind the build
// stops the process before it binds a port, with every problem listed.
describe('preflight: fail loudly before the port opens', () => {
  let postgres: TestPostgres;
  let migratedUrl: string;
  const production = (overrides: Record<string, string | undefined> = {}) => ({
    NODE_ENV: 'production',
    DATABASE_URL: migratedUrl,
    STRIPE_API_BASE: 'http://127.0.0.1:9',
    STRIPE_SECRET_KEY: PAYMENT_KEY,
    INVENTORY_API_URL: 'http://127.0.0.1:9',
    JWT_SECRET: SECRET,
    ...overrides,
  });

  before(async () => {
    postgres = await startTestPostgres();
    migratedUrl = await postgres.createDatabase('preflight_ok');
    await migrate(migratedUrl, CHECKOUT_MIGRATIONS);
  });
  after(() => postgres?.stop());

  test('production without STRIPE_SECRET_KEY: the exact line, exit 1, nothing listening', async () => {
    const port = await freePort();
    const result = await steadfast(
      ['serve'],
      production({ STRIPE_SECRET_KEY: undefined, PORT: String(port) }),
    );
    assert.equal(result.code, 1);
    assert.ok(
      result.stderr
        .split('\n')
        .includes("STARTUP_FAILURE: Required environment variable 'STRIPE_SECRET_KEY' is not set."),
      result.stderr,
    );
    assert.equal(await portOpen(port), false);
    const logLine = result.stdout.split('\n').find((l) => l.includes('startup_failure'));
    assert.ok(logLine, 'a structured log line too');
    assert.equal(JSON.parse(logLine).level, 'fatal');
    assert.doesNotMatch(result.stdout + result.stderr, new RegExp(SECRET));
  });

  test('every problem at once, one line each, and no secret in any of them', async () => {
    const result = await steadfast(
      ['preflight'],
      production({
        JWT_SECRET: undefined,
        INVENTORY_API_URL: 'not a url',
        DB_POOL_MAX: 'many',
        PORT: '99999',
      }),
    );
    assert.equal(result.code, 1);
    const lines = result.stderr.trim().split('\n');
    assert.deepEqual(lines.sort(), [
      "STARTUP_FAILURE: Environment variable 'DB_POOL_MAX' is not valid: it must be an integer >= 1.",
      "STARTUP_FAILURE: Environment variable 'INVENTORY_API_URL' is not valid: it must be an http(s) URL.",
      "STARTUP_FAILURE: Environment variable 'PORT' is not valid: it must be an integer >= 0 and <= 65535.",
      "STARTUP_FAILURE: Required environment variable 'JWT_SECRET' is not set.",
    ]);
    assert.doesNotMatch(result.stdout + result.stderr, new RegExp(PAYMENT_KEY));
  });

  test('a database that does not answer within the connect timeout', async () => {
    const deadPort = await freePort();
    const result = await steadfast(
      ['preflight'],
      production({
        DATABASE_URL: `postgres://app:hunter2@127.0.0.1:${deadPort}/shop`,
        DB_CONNECT_TIMEOUT_MS: '1000',
      }),
    );
    assert.equal(result.code, 1);
    assert.match(
      result.stderr,
      new RegExp(`STARTUP_FAILURE: Database at 127.0.0.1:${deadPort}/shop did not answer within 1000 ms`),
    );
    assert.doesNotMatch(result.stderr + result.stdout, /hunter2/);
  });

  test("a schema behind the build: refused with the hint to run 'steadfast migrate'; migrate fixes it", async () => {
    const behind = await postgres.createDatabase('preflight_behind');
    await runner({
      databaseUrl: behind,
      ...migrationFiles(CHECKOUT_MIGRATIONS),
      direction: 'up',
      count: 1,
      migrationsTable: 'pgmigrations',
      log: () => {},
    });
    const result = await steadfast(['preflight'], production({ DATABASE_URL: behind }));
    assert.equal(result.code, 1);
    assert.match(
      result.stderr,
      new RegExp(
        `^STARTUP_FAILURE: database schema is at version 1, this build expects ${EXPECTED}: run 'steadfast migrate'$`,
        'm',
      ),
    );
    const status = await steadfast(['migrate', '--status'], { DATABASE_URL: behind });
    assert.match(status.stdout, /\[ \] 0002_checkout_attempts_and_orders/);
    const migrated = await steadfast(['migrate'], { DATABASE_URL: behind });
    assert.equal(migrated.code, 0, migrated.stderr);
    assert.match(migrated.stdout, new RegExp(`schema version ${EXPECTED}, this build expects ${EXPECTED}`));
    assert.equal((await steadfast(['preflight'], production({ DATABASE_URL: behind }))).code, 0);
  });

  test('a configured log file whose directory does not exist', async () => {
    const result = await steadfast(['preflight'], production({ LOG_FILE: '/nonexistent-dir/checkout.log' }));
    assert.equal(result.code, 1);
    assert.match(
      result.stderr,
      /STARTUP_FAILURE: Path for 'LOG_FILE' does not exist or is not accessible: \/nonexistent-dir/,
    );
  });

  test('all well: preflight passes and says so', async () => {
    const result = await steadfast(['preflight'], production());
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /all checks passed/);
  });

  test('token: refused in production, signed otherwise', async () => {
    assert.equal(
      (await steadfast(['token', '--user', 'usr_1'], { NODE_ENV: 'production', JWT_SECRET: SECRET })).code,
      1,
    );
    const made = await steadfast(['token', '--user', 'usr_1', '--ttl', '5m'], { JWT_SECRET: SECRET });
    assert.equal(made.code, 0);
    assert.match(made.stdout.trim(), /^[\w-]+\.[\w-]+\.[\w-]+$/);
  });
});
