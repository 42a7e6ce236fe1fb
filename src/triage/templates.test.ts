import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { observeTemplate } from './templateLines.ts';
import {
  describeChange,
  LogTemplates,
  templateChanges,
  templateText,
  tokensOf,
  WILDCARD,
} from './templates.ts';

const T0 = Date.parse('2026-11-30T10:00:00.000Z');
const sample =
  (line = 'x') =>
  () => ({ at: 'checkout.log:1', line });
const texts = (templates: LogTemplates) =>
  templates
    .all()
    .map((t) => templateText(t))
    .sort();

describe('parametrising', () => {
  test('numbers, addresses, ids, UUIDs, hex, quoted values, paths and URLs become <*>', () => {
    const cases: [string, string][] = [
      ['connect ECONNREFUSED 127.0.0.1:5432', 'connect ECONNREFUSED <*>'],
      ['Operation timed out after 800ms', 'Operation timed out after <*>'],
      ['attempt b672c120-e1db-486d-8553-474de495011a abandoned', 'attempt <*> abandoned'],
      ['see ERR-1796034231100-M1X1U4 for the stack', 'see <*> for the stack'],
      ['commit deadbeefcafebabe failed', 'commit <*> failed'],
      ['column "name of it" does not exist', 'column <*> does not exist'],
      ["reading 'orders.read'", 'reading <*>'],
      ['open /var/lib/steadfast/logs/checkout.log failed', 'open <*> failed'],
      ['fetch https://api.stripe.com/v1/charges failed', 'fetch <*> failed'],
      ['cart cart_01J9Z3 not found', 'cart <*> not found'],
    ];
    for (const [message, expected] of cases) assert.equal(tokensOf(message).join(' '), expected, message);
  });

  test('words stay: the kind of failure is the template', () => {
    assert.deepEqual(tokensOf('sorry, too many clients already'), [
      'sorry,',
      'too',
      'many',
      'clients',
      'already',
    ]);
    assert.deepEqual(tokensOf(''), []);
    assert.deepEqual(tokensOf('   \t  '), []);
  });

  test('a message of a megabyte costs its head only, and its template stays bounded', () => {
    const tokens = tokensOf(`boom ${'word '.repeat(300_000)}`, 40);
    assert.equal(tokens.length, 41, 'the first 40 tokens and a mark that it was cut');
    assert.equal(tokens.at(-1), '…');
    const templates = new LogTemplates({ maxText: 50 });
    templates.add('x'.repeat(10_000), T0, sample());
    assert.ok(templateText(templates.all()[0] as never, 50).length <= 50);
  });
});

describe('clustering, Drain-style', () => {
  test('messages that differ in their variables share one template, counted', () => {
    const templates = new LogTemplates();
    for (let i = 0; i < 41; i++) templates.add(`connect ECONNREFUSED 10.0.0.${i}:5432`, T0 + i, sample());
    assert.deepEqual(texts(templates), ['connect ECONNREFUSED <*>']);
    assert.equal(templates.all()[0]?.count, 41);
  });

  test('tokens that differ in place become <*> once the messages are similar enough', () => {
    const templates = new LogTemplates();
    templates.add('ledger write refused for tenant alpha', T0, sample());
    templates.add('ledger write refused for tenant beta', T0, sample());
    assert.deepEqual(texts(templates), ['ledger write refused for tenant <*>']);
  });

  test('messages of other lengths, other leading words or too little in common are other templates', () => {
    const templates = new LogTemplates();
    templates.add('payment gateway timed out', T0, sample());
    templates.add('payment gateway timed out again today', T0, sample());
    templates.add('inventory gateway timed out', T0, sample());
    templates.add('payment gateway refused everything', T0, sample());
    templates.add('payment gateway timed out twice', T0, sample());
    // Two words of four in common is not enough (the threshold is 0.6): refusing is not timing out.
    assert.deepEqual(texts(templates), [
      'inventory gateway timed out',
      'payment gateway refused everything',
      'payment gateway timed out',
      'payment gateway timed out again today',
      'payment gateway timed out twice',
    ]);
  });

  test('a 5xx answer is kept literal: its status and route are not variables', () => {
    const templates = new LogTemplates();
    templates.addLiteral(
      'checkout answered 503 SERVICE_TEMPORARILY_UNAVAILABLE to POST /api/carts',
      T0,
      sample(),
    );
    templates.addLiteral('checkout answered 500 INTERNAL_SERVER_ERROR to POST /api/carts', T0, sample());
    templates.addLiteral(
      'checkout answered 503 SERVICE_TEMPORARILY_UNAVAILABLE to POST /api/carts',
      T0,
      sample(),
    );
    assert.deepEqual(texts(templates), [
      'checkout answered 500 INTERNAL_SERVER_ERROR to POST /api/carts',
      'checkout answered 503 SERVICE_TEMPORARILY_UNAVAILABLE to POST /api/carts',
    ]);
  });

  test('lines at warn and above by message and error class, 5xx answers; info lines and 4xx are not templated', () => {
    const templates = new LogTemplates();
    const line = (record: Record<string, unknown>) =>
      observeTemplate(templates, { time: T0, ...record } as never, T0, sample());
    line({ level: 'info', msg: 'service_started' });
    line({ level: 30, msg: 'cart created' });
    line({ level: 'info', msg: 'request_completed', statusCode: 404, endpoint: 'GET unmatched' });
    line({ level: 'warn', msg: 'charge_outcome_unknown' });
    line({ level: 50, msg: 'boom', errorClass: 'TypeError' });
    line({ level: 'FATAL', msg: 'heap out of memory' });
    line({
      level: 'info',
      msg: 'request_completed',
      statusCode: 502,
      endpoint: 'POST /v1/charges',
      service: 'payment',
    });
    assert.deepEqual(texts(templates), [
      'TypeError: boom',
      'charge_outcome_unknown',
      'heap out of memory',
      'payment answered 502 to POST /v1/charges',
    ]);
    assert.equal(templates.firstSeen, T0, 'every line counts for the windows');
  });
});

describe('new and elevated since the failure', () => {
  const failureAt = T0 + 60_000;
  /** A minute of a steady message before the failure, then a minute after it of what `after` adds. */
  const log = (after: (templates: LogTemplates, at: number) => void) => {
    const templates = new LogTemplates();
    for (let s = 0; s < 120; s++) {
      const at = T0 + s * 1000;
      templates.saw(at);
      templates.add(`cache refreshed in ${s}ms`, at, sample());
      if (s % 10 === 0) templates.add('slow query on carts', at, sample());
      if (at >= failureAt) after(templates, at);
    }
    return templates;
  };

  test('a message not seen before the failure is new; one seen all along, at its rate, is not a finding', () => {
    const templates = log((t, at) => t.add(`connect ECONNREFUSED 10.1.1.1:${at % 1000}`, at, sample()));
    const changes = templateChanges(templates, failureAt);
    assert.deepEqual(
      changes.map((c) => [c.template, c.change, c.before, c.after]),
      [['connect ECONNREFUSED <*>', 'new', 0, 60]],
    );
    assert.equal(
      describeChange(changes[0] as never),
      'new since the failure: `connect ECONNREFUSED <*>` (60 times)',
    );
  });

  test('a message whose rate rose past the ratio is elevated, and says by how much', () => {
    const templates = log((t, at) => {
      for (let i = 0; i < 3; i++) t.add('slow query on carts', at, sample());
    });
    const [change] = templateChanges(templates, failureAt);
    assert.equal(change?.change, 'elevated');
    assert.equal(change?.before, 6);
    assert.equal(change?.after, 186);
    assert.equal(change?.ratio, 31.5, '186 in the 59 s read after it, 6 in the 60 s before');
    assert.match(
      describeChange(change as never),
      /elevated since the failure: `slow query on carts` \(186 times, 31.5× its rate before/,
    );
  });

  test('below the minimum count, a new message is noise', () => {
    const templates = log((t, at) => {
      if (at < failureAt + 4000) t.add('rare hiccup', at, sample());
    });
    assert.deepEqual(templateChanges(templates, failureAt), []);
    assert.equal(
      templateChanges(templates, failureAt, { windowMs: 60_000, minCount: 4, minRatio: 5, slackMs: 1000 })
        .length,
      1,
    );
  });

  test('a log that begins just before the failure is not read as a quiet hour: rates are over what was read', () => {
    const templates = new LogTemplates();
    for (let s = 0; s < 20; s++) {
      const at = failureAt - 5000 + s * 1000;
      templates.saw(at);
      templates.add('retrying call', at, sample());
      if (at >= failureAt) templates.add('retrying call', at, sample());
    }
    // Twice the rate after: not elevated at a ratio of 5, whatever the window's length.
    assert.deepEqual(templateChanges(templates, failureAt), []);
  });
});

describe('bounded memory', () => {
  test('past the cluster cap, what is new is dropped and counted; what is known still counts', () => {
    const templates = new LogTemplates({ maxClusters: 3 });
    const words = ['alpha', 'bravo', 'charlie', 'delta', 'echo'];
    for (const word of words) templates.add(`${word} failed hard`, T0, sample());
    templates.add('alpha failed hard', T0, sample());
    assert.equal(templates.size, 3);
    assert.equal(templates.dropped, 2);
    assert.equal(templates.all().find((t) => t.tokens[0] === 'alpha')?.count, 2);
  });

  test('a leaf holds a bounded number of clusters: a hostile log cannot make each message cost the whole store', () => {
    const templates = new LogTemplates({ maxPerLeaf: 5 });
    // Letters only (a digit would be a variable): five words that share nothing, after the same two.
    const word = (n: number) =>
      [...n.toString(26)].map((c) => String.fromCharCode(97 + Number.parseInt(c, 26))).join('');
    for (let i = 0; i < 50; i++)
      templates.add(
        `same start ${[1, 2, 3, 4, 5].map((k) => word(i * 5 + k + 100)).join(' ')}`,
        T0,
        sample(),
      );
    assert.equal(templates.size, 5);
    assert.equal(templates.dropped, 45);
  });

  test('the tree is bounded in width: past maxChildren, new leading words share the wildcard branch', () => {
    const templates = new LogTemplates({ maxChildren: 2 });
    for (const word of ['one', 'two', 'three', 'four']) templates.add(`${word} thing broke`, T0, sample());
    // three and four share one branch, where the second joins the first as "<*> thing broke".
    assert.ok(texts(templates).includes(`${WILDCARD} thing broke`), texts(templates).join(' | '));
  });

  test('past the cap on one-second counts, lines are still counted, their second not kept', () => {
    const templates = new LogTemplates({ maxBuckets: 10 });
    for (let s = 0; s < 30; s++) templates.add('tick failed', T0 + s * 1000, sample());
    const [template] = templates.all();
    assert.equal(template?.count, 30);
    assert.equal(template?.seconds.size, 10);
    assert.equal(template?.untimed, 20);
  });

  test('a million distinct messages keep at most the caps', () => {
    const templates = new LogTemplates();
    for (let i = 0; i < 200_000; i++)
      templates.add(`w${i.toString(36)}x q${(i * 7).toString(36)} zz ${i}`, T0 + i, sample());
    for (let i = 0; i < 200_000; i++)
      templates.add(`${String.fromCharCode(97 + (i % 26))}${i % 997}k fail`, T0 + i, sample());
    assert.ok(templates.size <= 500);
    const buckets = templates.all().reduce((sum, t) => sum + t.seconds.size, 0);
    assert.ok(buckets <= 50_000, String(buckets));
  });
});
