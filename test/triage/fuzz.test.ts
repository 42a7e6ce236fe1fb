import assert from 'node:assert/strict';
import { once } from 'node:events';
import { mkdir, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { after, before, test } from 'node:test';
import { gzipSync } from 'node:zlib';
import fc from 'fast-check';
import { freePort } from '../../src/stack/freePort.ts';
import { runTriage } from '../../src/triage/triageCommand.ts';
import {
  addOddEntries,
  assertNoCrash,
  assertReport,
  assertTerminalSafe,
  runTriageChild,
  VERDICT_CODES,
  withTempDir,
} from './untrusted.ts';

// Generated evidence thrown at triage: log lines with every field it reads, of the right type and of
// odd ones, control characters, huge and deep values; scrapes with +Inf, NaN, hex and huge numbers; live
// sources that answer garbage or nothing; logs directories holding FIFOs, loops, links to nothing,
// directories named *.log and small gzip bombs (the decompression cap set low through its option). Many
// cases in process (runTriage, the command's own entry), a few through the real CLI in a child process.
// Always: an exit code of a verdict (0, 1, 3), nothing on stderr, JSON valid against the published
// schema, no raw control character in the text, and bounded time and memory.
//
// TRIAGE_FUZZ_RUNS sets the in-process cases (150); TRIAGE_FUZZ_SEED=<seed> replays a run (its seed is
// printed, and a failure names it with the path of the failing case).
const RUNS = Number(process.env.TRIAGE_FUZZ_RUNS ?? 150);
const CHILD_RUNS = 3;
const SEED =
  process.env.TRIAGE_FUZZ_SEED === undefined
    ? Math.floor(Math.random() * 2 ** 31)
    : Number(process.env.TRIAGE_FUZZ_SEED);
const CASE_MS = 15_000;
const PEAK_RSS_MB = 250;

const CONTROL = fc.constantFrom(
  '\u001b[2J',
  '\u001b]0;pwned\u0007',
  '\u001b[32mHEALTHY\u001b[0m',
  '\u009b31m',
  '\u202e',
  '\u2066',
  '\r',
  '\n',
  '\u0000',
  '\u007f',
  '\u2028',
  '\t',
  '\b',
);
/** Names triage gives meaning to, and names that are prototypes' own. */
const MEANINGFUL = fc.constantFrom(
  '__proto__',
  'constructor',
  'toString',
  'paymentGateway',
  'inventoryService',
  'database',
  'payment-sandbox',
  'inventory',
  'checkout',
  'SERVER_OVERLOADED',
  'circuit_open',
  'saturated',
  'timeout',
  'unreachable',
  'EMFILE: too many open files',
  'column "x" does not exist',
  'canceling statement due to statement timeout',
  'POST /api/checkout/complete',
  'service_started',
  'request_completed',
  'startup_failure',
);
const text = fc.oneof(
  { arbitrary: fc.string({ unit: 'binary', maxLength: 30 }), weight: 3 },
  { arbitrary: MEANINGFUL, weight: 3 },
  {
    arbitrary: fc
      .tuple(fc.string({ maxLength: 8 }), CONTROL, fc.string({ maxLength: 8 }))
      .map((p) => p.join('')),
    weight: 3,
  },
  { arbitrary: fc.integer({ min: 0, max: 5 }).map((n) => 'x'.repeat(10 ** n)), weight: 1 },
);
const odd = fc.oneof(
  text,
  fc.integer(),
  fc.double(),
  fc.boolean(),
  fc.constant(null),
  fc.array(fc.integer(), { maxLength: 3 }),
  fc.dictionary(fc.string({ maxLength: 4 }), fc.integer(), { maxKeys: 3 }),
);
const T0 = Date.parse('2026-11-30T10:00:00Z');
const REQUEST_ID = fc.constantFrom('r-1', 'r-2', 'r-3', '__proto__', 'constructor');
const time = fc.oneof(
  { arbitrary: fc.integer({ min: 0, max: 600_000 }).map((ms) => new Date(T0 + ms).toISOString()), weight: 6 },
  { arbitrary: fc.integer({ min: 0, max: 600_000 }).map((ms) => T0 + ms), weight: 2 },
  {
    arbitrary: fc.constantFrom(1e20, -1, Number.MAX_VALUE, '+275760-09-13T00:00:00.000Z', 'yesterday'),
    weight: 1,
  },
  { arbitrary: odd, weight: 1 },
);
const either = <T>(good: fc.Arbitrary<T>) =>
  fc.oneof({ arbitrary: good, weight: 4 }, { arbitrary: odd, weight: 1 });
const frame = fc.oneof(
  fc.constantFrom(
    '    at OrderStore.find (file:///srv/app/src/checkout/orders/OrderStore.ts:42:11)',
    '    at Executor.invoke (file:///srv/app/node_modules/cockatiel/dist/Executor.js:38:27)',
    '    at process.processTicksAndRejections (node:internal/process/task_queues:105:5)',
    `    at ${'src/a.tssrc/'.repeat(400)}`,
  ),
  text.map((t) => `    at ${t}`),
);
const stack = fc
  .tuple(text, fc.array(frame, { maxLength: 4 }))
  .map(([message, frames]) => [`Error: ${message}`, ...frames].join('\n'));
const record = fc.record(
  {
    time,
    msg: either(MEANINGFUL),
    event: either(fc.constantFrom('service_started', 'startup_failure')),
    service: either(MEANINGFUL),
    level: either(fc.constantFrom('info', 'warn', 'error', 'fatal', 30, 60)),
    version: either(fc.constantFrom('0.1.0', '0.2.0')),
    commit: either(fc.constantFrom('09eca91769e4', 'c0ffee5eed42')),
    statusCode: fc.oneof(
      fc.constantFrom(200, 201, 400, 409, 499, 500, 502, 503, 504),
      fc.integer({ min: -1000, max: 1000 }),
      fc.double(),
      odd,
    ),
    endpoint: either(text),
    error: either(fc.constantFrom('SERVER_OVERLOADED', 'SERVICE_TEMPORARILY_UNAVAILABLE')),
    refusalsNotLogged: fc.oneof(fc.integer({ min: 0, max: 50 }), fc.double(), odd),
    errorId: either(text.map((t) => `ERR-${t}`)),
    stack: either(stack),
    errorClass: either(text),
    reason: either(MEANINGFUL),
    dependency: either(MEANINGFUL),
    problems: either(fc.array(text, { maxLength: 3 })),
    pid: either(fc.nat()),
    url: either(fc.constantFrom('http://127.0.0.1:3001', 'http://127.0.0.1:3002')),
    paymentApiUrl: either(fc.constantFrom('http://127.0.0.1:3002', 'http://127.0.0.1:9')),
    inventoryApiUrl: either(fc.constantFrom('http://127.0.0.1:3001')),
    durationMs: either(fc.double({ min: 0, max: 1e4, noNaN: true })),
    userId: text,
    requestId: either(REQUEST_ID),
    checkoutBudgetMs: either(fc.oneof(fc.integer({ min: 0, max: 20_000 }), fc.double())),
  },
  { requiredKeys: [] },
);
// HAProxy's lines (the shipped log-format), each field of its form or not, joined or not to a request id.
const balancerLine = fc
  .record({
    day: fc.oneof(fc.constantFrom('30/Nov/2026', '31/Feb/2026', '00/Xyz/0000'), text),
    clock: fc.oneof(
      fc
        .integer({ min: 0, max: 600 })
        .map(
          (s) => `10:${String(Math.floor(s / 60)).padStart(2, '0')}:${String(s % 60).padStart(2, '0')}.000`,
        ),
      text,
    ),
    server: fc.oneof(fc.constantFrom('checkout-1', 'checkout-2', '<NOSRV>', '<STATS>', '__proto__'), text),
    timers: fc.oneof(
      fc
        .tuple(...Array.from({ length: 5 }, () => fc.integer({ min: -2, max: 20_000 })))
        .map((t) => t.join('/')),
      text,
    ),
    status: fc.oneof(
      fc.constantFrom(-1, 200, 201, 499, 502, 503, 504),
      fc.integer({ min: -1000, max: 1000 }),
    ),
    state: fc.oneof(fc.constantFrom('----', 'sH--', 'SC--', 'sQ--', 'SH--', 'CD--', 'LR--'), text),
    request: fc.oneof(fc.constantFrom('POST /api/checkout/complete HTTP/1.1', '<BADREQ>'), text),
    id: fc.oneof(REQUEST_ID, text),
  })
  .map(
    (b) =>
      `127.0.0.1:40000 [${b.day}:${b.clock}] checkout checkout/${b.server} ${b.timers} ${b.status} 300 ${b.state} 1/1/0/0/0 0/0 "${b.request}" id=${b.id}`,
  );
const deep = (n: number) => `${'['.repeat(n)}${']'.repeat(n)}`;
const line = fc.oneof(
  { arbitrary: record.map((r) => JSON.stringify(r)), weight: 12 },
  { arbitrary: text, weight: 2 },
  { arbitrary: text.map((t) => `STARTUP_FAILURE: ${t}`), weight: 1 },
  { arbitrary: balancerLine, weight: 4 },
  {
    arbitrary: fc
      .tuple(
        fc.constantFrom('checkout-1', '__proto__', ''),
        fc.constantFrom('is DOWN', 'enters drain state', 'is UP'),
      )
      .map(([server, event]) => `[WARNING]  (1) : Server checkout/${server} ${event}, reason: x`),
    weight: 1,
  },
  {
    arbitrary: fc
      .tuple(fc.integer({ min: 1, max: 200_000 }), fc.constantFrom('extra', 'statusCode', 'problems', 'msg'))
      .map(([n, field]) => `{"time":"2026-11-30T10:00:00Z","msg":"request_completed","${field}":${deep(n)}}`),
    weight: 1,
  },
  {
    arbitrary: fc
      .tuple(
        fc.constantFrom('1e400', '-1e400', '1e308', '0.5', '-0', '5e-324', '9007199254740993'),
        fc.constantFrom('statusCode', 'time', 'refusalsNotLogged', 'pid', 'durationMs'),
      )
      .map(
        ([number, field]) =>
          `{"time":"2026-11-30T10:00:00Z","msg":"request_completed","statusCode":500,"${field}":${number}}`,
      ),
    weight: 1,
  },
);
const logFile = fc.record({
  name: fc.oneof(
    fc.constantFrom(
      'checkout.log',
      'checkout.1.log.gz',
      'checkout.2.log',
      'inventory.log',
      'payment-sandbox.log',
    ),
    text.map((t) => `${t.replaceAll('/', '_').replaceAll('\u0000', '_').slice(0, 40) || 'x'}.log`),
  ),
  lines: fc.array(line, { maxLength: 40 }),
  crlf: fc.boolean(),
  gzip: fc.boolean(),
});
const SCRAPE_NAMES = fc.constantFrom(
  'db_pool_connections',
  'db_pool_max_connections',
  'db_pool_rejected_total',
  'host_memory_total_bytes',
  'host_memory_available_bytes',
  'process_open_fds',
  'process_max_fds',
  'disk_size_bytes',
  'disk_free_bytes',
  'nodejs_eventloop_lag_p99_seconds',
  'circuit_breaker_state',
  'http_requests_shed_total',
  'dependency_calls_total',
);
const scrapeLine = fc.oneof(
  {
    arbitrary: fc
      .tuple(
        SCRAPE_NAMES,
        fc.dictionary(
          fc.constantFrom('state', 'service', 'dependency', 'outcome', 'path', 'reason', '__proto__', 'le'),
          fc.oneof(text, fc.constantFrom('active', 'waiting', 'failure', 'timeout', '/')),
          { maxKeys: 3 },
        ),
        fc.oneof(
          fc.constantFrom(
            '+Inf',
            '-Inf',
            'NaN',
            '1e400',
            '0x10',
            '-5',
            '1e300',
            '0.5',
            '10',
            '2',
            'garbage',
            '',
          ),
          fc.double().map(String),
          fc.integer().map(String),
        ),
      )
      .map(([name, labels, value]) => {
        const body = Object.entries(labels)
          .map(
            ([k, v]) => `${k}="${v.replaceAll('\\', '\\\\').replaceAll('"', '\\"').replaceAll('\n', '\\n')}"`,
          )
          .join(',');
        return `${name}${body ? `{${body}}` : ''} ${value}`;
      }),
    weight: 6,
  },
  { arbitrary: text, weight: 1 },
  { arbitrary: fc.constant('# HELP x y'), weight: 1 },
);
const scrape = fc.array(scrapeLine, { maxLength: 30 }).map((lines) => lines.join('\n'));
const healthBody = fc.oneof(
  fc
    .record(
      {
        db: either(fc.constantFrom('connected', 'disconnected')),
        circuitBreakers: either(fc.dictionary(text, fc.constantFrom('OPEN', 'CLOSED'), { maxKeys: 3 })),
      },
      { requiredKeys: [] },
    )
    .map((b) => JSON.stringify(b)),
  text,
);
const liveSource = fc.record({
  status: fc.constantFrom(200, 200, 200, 404, 500, 503),
  metrics: scrape,
  health: healthBody,
});
const ODD_ENTRIES = ['fifo', 'links', 'folder', 'line-bomb', 'newline-bomb'] as const;
const evidence = fc.record({
  files: fc.array(logFile, { maxLength: 4 }),
  odd: fc.subarray([...ODD_ENTRIES]),
  savedScrapes: fc.array(scrape, { maxLength: 2 }),
  live: fc.array(liveSource, { maxLength: 2 }),
  deadSource: fc.boolean(),
  since: fc.constantFrom(undefined, '1d', '30m'),
});
type Evidence = typeof evidence extends fc.Arbitrary<infer T> ? T : never;

/** The live sources of the case being run, served by the test's own HTTP server. */
let serving: { status: number; metrics: string; health: string }[] = [];
let server: ReturnType<typeof createServer>;
let base = '';
let deadUrl = '';

before(async () => {
  server = createServer((request, response) => {
    const [, kind, index] = (request.url ?? '').split('/');
    const source = serving[Number(index)];
    if (!source) return response.writeHead(404).end();
    response
      .writeHead(source.status, { 'content-type': 'text/plain' })
      .end(kind === 'metrics' ? source.metrics : source.health);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  deadUrl = `http://127.0.0.1:${await freePort()}`;
});
after(() => server?.close());

/** Writes the case's files under `dir` and returns the triage arguments that read them. */
async function materialize(dir: string, input: Evidence): Promise<string[]> {
  const logs = join(dir, 'logs');
  await mkdir(logs);
  const args = ['--logs', logs, '--max-decompressed', '1m'];
  for (const [i, file] of input.files.entries()) {
    const content = Buffer.from(file.lines.join(file.crlf ? '\r\n' : '\n'));
    // Distinct names, whatever was generated: a prefix per file.
    await writeFile(join(logs, `${i}-${file.name}`), file.gzip ? gzipSync(content) : content);
  }
  if (input.odd.includes('fifo') || input.odd.includes('links') || input.odd.includes('folder'))
    await addOddEntries(logs);
  if (input.odd.includes('line-bomb'))
    await writeFile(join(logs, 'lb.log.gz'), gzipSync(Buffer.alloc(4 * 2 ** 20, 'x')));
  if (input.odd.includes('newline-bomb'))
    await writeFile(join(logs, 'nb.log.gz'), gzipSync(Buffer.alloc(4 * 2 ** 20, '\n')));
  for (const [i, text] of input.savedScrapes.entries()) {
    const path = join(dir, `scrape-${i}.prom`);
    await writeFile(path, text);
    args.push('--metrics', path);
  }
  for (const i of input.live.keys())
    args.push('--metrics', `${base}/metrics/${i}`, '--health', `${base}/health/${i}`);
  if (input.deadSource) args.push('--metrics', `${deadUrl}/metrics`, '--health', `${deadUrl}/health`);
  if (input.since) args.push('--since', input.since);
  return args;
}

async function inProcess(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const code = await runTriage(
    args,
    { NO_COLOR: '1' },
    {
      stdout: (t) => {
        stdout += t;
      },
      stderr: (t) => {
        stderr += t;
      },
      stdin: Readable.from([]),
      isTTY: false,
    },
  );
  return { code, stdout, stderr };
}

/** Runs the property with the run's seed; a failure names the seed and path that replay it. */
async function check(name: string, property: fc.IAsyncProperty<[Evidence]>, numRuns: number): Promise<void> {
  const details = await fc.check(property, { seed: SEED, numRuns, endOnFailure: true });
  if (!details.failed) return;
  assert.fail(
    [
      `${name}: failed with seed ${SEED}, path ${details.counterexamplePath}`,
      `  replay: TRIAGE_FUZZ_SEED=${SEED} node --test test/triage/fuzz.test.ts`,
      `  counterexample: ${fc.stringify(details.counterexample).slice(0, 3000)}`,
      `  ${details.errorInstance instanceof Error ? details.errorInstance.stack : String(details.errorInstance)}`,
    ].join('\n'),
  );
}

test('in process: any evidence gets a verdict code, valid JSON in its schema, terminal-safe text', async (t) => {
  t.diagnostic(`seed ${SEED}, ${RUNS} runs (TRIAGE_FUZZ_SEED=${SEED} replays them)`);
  await check(
    t.name,
    fc.asyncProperty(evidence, (input) =>
      withTempDir(async (dir) => {
        serving = input.live;
        const args = await materialize(dir, input);
        const started = performance.now();
        const json = await inProcess([...args, '--format', 'json']);
        assert.equal(json.stderr, '', 'nothing on stderr');
        assert.ok(VERDICT_CODES.includes(json.code), `exit ${json.code}`);
        assertReport(json.stdout, json.code);
        assertTerminalSafe(json.stdout);
        const text = await inProcess(args);
        assert.equal(text.stderr, '');
        assert.equal(text.code, json.code, 'the same verdict in both formats');
        assertTerminalSafe(text.stdout);
        assert.match(text.stdout, /^(HEALTHY|PROBLEM|UNKNOWN): /);
        assert.ok(performance.now() - started < CASE_MS, `${performance.now() - started} ms`);
      }),
    ),
    RUNS,
  );
});

test('the real CLI in a child: the same, with its peak memory and time bounded', async (t) => {
  t.diagnostic(`seed ${SEED}, ${CHILD_RUNS} runs`);
  await check(
    t.name,
    fc.asyncProperty(evidence, (input) =>
      withTempDir(async (dir) => {
        serving = input.live;
        const args = await materialize(dir, input);
        for (const format of ['json', 'text']) {
          const run = await runTriageChild([...args, '--format', format], { killAfterMs: 60_000 });
          assertNoCrash(run.stderr);
          assert.equal(run.stderr, '');
          assert.ok(VERDICT_CODES.includes(run.code), `exit ${run.code}`);
          if (format === 'json') assertReport(run.stdout, run.code);
          assertTerminalSafe(run.stdout);
          assert.ok(run.peakRssMb < PEAK_RSS_MB, `peak RSS ${run.peakRssMb} MiB`);
          assert.ok(run.ms < 30_000, `${run.ms} ms`);
        }
      }),
    ),
    CHILD_RUNS,
  );
});
