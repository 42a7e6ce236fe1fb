import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { jwtVerify } from 'jose';
import { runCli } from '../../test/support/processes.ts';

const SECRET = 'a-test-secret-of-at-least-thirty-two-characters';

describe('steadfast: bad arguments get the usage on stderr and exit 2, never a stack', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'steadfast-cli-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  // Nothing of the test's environment but PATH; a data directory that must stay absent: bad usage starts
  // nothing and writes nothing.
  const steadfast = (args: string[], env: Record<string, string> = {}) =>
    runCli(
      args,
      { PATH: process.env.PATH, STEADFAST_DATA_DIR: join(dir, 'data'), JWT_SECRET: SECRET, ...env },
      { unset: () => true, cwd: dir },
    );

  const cases: [string[], RegExp][] = [
    [['bogus'], /^steadfast: unknown command 'bogus'/],
    [['--bogus'], /^steadfast: unknown command '--bogus'/],
    [['start', '--bogus'], /Unknown option '--bogus'/],
    [['start', '--instances'], /Option '--instances <value>' argument missing/],
    [['start', '--instances', 'banana'], /--instances takes a whole number from 1 to 32/],
    [['start', '--instances', '0x2'], /--instances takes a whole number/],
    [['start', '--instances', '33'], /--instances takes a whole number/],
    [['start', '--quiet', '--verbose'], /exclude each other/],
    [['start', '--replication', 'async'], /--replication goes with --ha/],
    [['start', '--ha', '--replication', 'semi'], /--replication is sync or async/],
    [
      ['start', '--ha', '--replication', 'sync', '--replication', 'async'],
      /'--replication' is given more than once/,
    ],
    [['start', 'now'], /Unexpected argument 'now'/],
    [['serve', '--port', '3000'], /Unknown option '--port'/],
    [['preflight', 'everything'], /Unexpected argument 'everything'/],
    [['migrate', '--service'], /Option '--service <value>' argument missing/],
    [['migrate', '--service', 'billing'], /--service is one of checkout, inventory, payment/],
    [['migrate', '--service', '__proto__'], /--service is one of/],
    [['migrate', '--status=yes'], /Option '--status' does not take an argument/],
    [['reconcile', '--fix'], /Unknown option '--fix'/],
    [['reconcile', '--apply'], /--apply acts on the plan of --repair: give both/],
    [['reconcile', '--repair', 'now'], /Unexpected argument 'now'/],
    [['restart'], /only --rolling is supported/],
    [['restart', '--hard'], /Unknown option '--hard'/],
    [['token'], /--user <id> is required/],
    [['token', '--user'], /Option '--user <value>' argument missing/],
    [['token', '--user', 'usr_1', '--ttl'], /Option '--ttl <value>' argument missing/],
    [['token', '--user', 'usr_1', '--ttl', 'banana'], /--ttl takes a duration such as 90s/],
    [['token', '--user', 'usr_1', '--ttl', '1h ago'], /--ttl takes a duration/],
    [['token', '--user', 'usr_1', '--ttl', '0s'], /--ttl takes a duration/],
    [['token', '--user', 'usr_1', '--ttl', '31d'], /at most JWT_MAX_TTL_SECONDS \(2592000 s\)/],
    [['token', '--user', 'usr\u0007bell'], /--user takes a user id of 1 to 128 characters/],
    [['token', '--user', 'u'.repeat(129)], /--user takes a user id/],
    [['token', '--user', 'usr_1', '--admin'], /Unknown option '--admin'/],
    [['triage', '--format', 'xml'], /--format is text or json/],
    [['triage', '--bogus'], /Unknown option '--bogus'/],
    // parseArgs keeps the last of a repeated option without a word: `--ttl 1h --ttl 30d` would be 30 days.
    [['token', '--user', 'usr_1', '--ttl', '1h', '--ttl', '30d'], /Option '--ttl' is given more than once/],
    [['token', '--user', 'usr_1', '--user=usr_2'], /Option '--user' is given more than once/],
    [['start', '--instances', '2', '--instances', '3'], /Option '--instances' is given more than once/],
    [
      ['migrate', '--service', 'checkout', '--service', 'payment'],
      /Option '--service' is given more than once/,
    ],
    [['triage', '--since', '1h', '--since', '2h'], /Option '--since' is given more than once/],
    [['doctor', '--format', 'json', '--format', 'text'], /Option '--format' is given more than once/],
  ];
  for (const [args, problem] of cases) {
    test(`steadfast ${args.join(' ')}`, async () => {
      const { code, stdout, stderr } = await steadfast(args);
      assert.equal(code, 2, stderr);
      assert.match(stderr, problem);
      assert.match(stderr, /Usage: steadfast/);
      assert.doesNotMatch(stderr, /\n\s+at /, 'no stack trace');
      assert.equal(stdout, '');
      assert.equal(existsSync(join(dir, 'data')), false, 'nothing started, nothing written');
    });
  }

  test('start --ha refuses a DATABASE_URL: it runs its own cluster', async () => {
    const { code, stderr } = await steadfast(['start', '--ha'], { DATABASE_URL: 'postgres://db.internal/x' });
    assert.equal(code, 2, stderr);
    assert.match(stderr, /--ha runs its own PostgreSQL cluster: unset DATABASE_URL/);
    assert.equal(existsSync(join(dir, 'data')), false, 'nothing started');
  });

  test('reconcile whose dependencies do not answer says so, exit 3, never a stack', async () => {
    const { code, stdout, stderr } = await steadfast(['reconcile'], {
      DATABASE_URL: 'postgres://postgres@127.0.0.1:1/checkout',
      INVENTORY_API_URL: 'http://127.0.0.1:1',
      STRIPE_API_BASE: 'http://127.0.0.1:1',
    });
    assert.equal(code, 3, stderr);
    assert.match(stderr, /^reconcile: \w+ did not answer \(\w+\); run it again once it answers\n$/);
    assert.doesNotMatch(stdout + stderr, /\n\s+at /, 'no stack');
  });

  test('--help prints the usage on stdout, exit 0', async () => {
    for (const args of [['--help'], ['token', '--help'], []]) {
      const { code, stdout } = await steadfast(args);
      assert.equal(code, 0);
      assert.match(stdout, /Usage: steadfast/);
    }
  });

  test('token --ttl bounds the token it prints, and the service bound is JWT_MAX_TTL_SECONDS', async () => {
    const { code, stdout } = await steadfast(['token', '--user', 'usr_1', '--ttl', '2h']);
    assert.equal(code, 0);
    const { payload } = await jwtVerify(stdout.trim(), new TextEncoder().encode(SECRET));
    assert.equal(payload.sub, 'usr_1');
    assert.equal((payload.exp ?? 0) - (payload.iat ?? 0), 7200);
    const lower = await steadfast(['token', '--user', 'usr_1', '--ttl', '2h'], {
      JWT_MAX_TTL_SECONDS: '3600',
    });
    assert.equal(lower.code, 2);
    assert.match(lower.stderr, /at most JWT_MAX_TTL_SECONDS \(3600 s\)/);
    const bad = await steadfast(['token', '--user', 'usr_1'], { JWT_MAX_TTL_SECONDS: 'forever' });
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /^STARTUP_FAILURE: Environment variable 'JWT_MAX_TTL_SECONDS' is not valid/);
  });
});
