// biome-ignore-all lint/suspicious/noTemplateCurlyInString: HAProxy's placeholders are written as in its files
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { HAPROXY_CONFIG } from '../stack/loadBalancer.ts';
import { haproxyTimeMs, parseHaproxyConfig, words } from './haproxyConfig.ts';

test('times: milliseconds unless a unit says otherwise, anything else is not a time', () => {
  assert.equal(haproxyTimeMs('7'), 7);
  assert.equal(haproxyTimeMs('500ms'), 500);
  assert.equal(haproxyTimeMs('5s'), 5000);
  assert.equal(haproxyTimeMs('2m'), 120_000);
  assert.equal(haproxyTimeMs('1h'), 3_600_000);
  assert.equal(haproxyTimeMs('1500us'), 1.5);
  for (const bad of ['', '5 s', '-1s', '1.5s', 's', '5sec']) assert.equal(haproxyTimeMs(bad), undefined, bad);
});

test('placeholders: expanded in double quotes only; the default replaces an unset variable, not an empty one', () => {
  assert.deepEqual(words('timeout client "${X-5s}"', {}), ['timeout', 'client', '5s']);
  assert.deepEqual(words('timeout client "${X-5s}"', { X: '9s' }), ['timeout', 'client', '9s']);
  assert.deepEqual(words('timeout client "${X-5s}"', { X: '' }), ['timeout', 'client', '']);
  assert.deepEqual(words('bind "$HOST:${PORT}"', { HOST: 'h', PORT: '1' }), ['bind', 'h:1']);
  assert.deepEqual(words('bind "${UNSET}"', {}), ['bind', '']);
  assert.deepEqual(words("x '${X-5s}'", { X: '1s' }), ['x', '${X-5s}'], 'single quotes: nothing expanded');
  assert.deepEqual(words('x ${X-5s}', { X: '1s' }), ['x', '${X-5s}'], 'unquoted: nothing expanded');
  assert.deepEqual(words('a b\\ c "d e" # a comment', {}), ['a', 'b c', 'd e']);
  assert.deepEqual(words('a "#not a comment"', {}), ['a', '#not a comment']);
});

const CONFIG = `
defaults
    timeout client 30s
    timeout server 15s
    timeout http-keep-alive 10s
frontend web
    bind :80
    timeout client 40s
    default_backend checkout
backend checkout
    timeout server 20s
    default-server check inter "\${INTER-5s}" fall 3
    server a 127.0.0.1:1
    server b 127.0.0.1:2 inter 1s fastinter 200ms
    server c 127.0.0.1:3 no-check
defaults
    timeout server 1s
backend other
    server z 127.0.0.1:9
`;

test('sections: each proxy takes the defaults above it and its own lines over them; servers their default-server', () => {
  const config = parseHaproxyConfig(CONFIG, { INTER: '2s' });
  assert.deepEqual(config.problems, []);
  const [web] = config.frontends;
  assert.equal(web?.timeouts.client?.value, 40_000);
  assert.equal(web?.defaultBackend, 'checkout');
  const [checkout, other] = config.backends;
  assert.equal(checkout?.timeouts.server?.value, 20_000);
  assert.equal(checkout?.timeouts.client?.value, 30_000);
  assert.equal(checkout?.timeouts.httpKeepAlive?.value, 10_000);
  assert.deepEqual(
    checkout?.servers.map((s) => [
      s.name,
      s.check.enabled,
      s.check.inter?.value,
      s.check.fastinter?.value,
      s.check.fall?.value,
    ]),
    [
      ['a', true, 2000, undefined, 3],
      ['b', true, 1000, 200, 3],
      ['c', false, 2000, undefined, 3],
    ],
  );
  assert.equal(checkout?.servers[1]?.line, 14, 'the line, for the finding');
  // A second defaults section starts afresh.
  assert.equal(other?.timeouts.server?.value, 1000);
  assert.equal(other?.timeouts.client, undefined);
});

test('a placeholder set empty is a problem, as HAProxy itself says [haproxy]', async () => {
  const config = parseHaproxyConfig(CONFIG, { INTER: '' });
  assert.deepEqual(config.problems, [{ line: 12, message: "inter: '' is not a time (such as 500ms, 5s)" }]);
  const dir = await mkdtemp(join(tmpdir(), 'steadfast-doctor-'));
  try {
    const file = join(dir, 'haproxy.cfg');
    await writeFile(
      file,
      `defaults\n    mode http\n    timeout connect 1s\n${CONFIG.split('\n').slice(2).join('\n')}`,
    );
    const check = (env: NodeJS.ProcessEnv) =>
      spawnSync('haproxy', ['-c', '-q', '-f', file], { env: { ...process.env, ...env }, encoding: 'utf8' });
    const accepted = check({ INTER: '2s' });
    assert.equal(accepted.error, undefined, 'haproxy must be installed (Debian package haproxy)');
    assert.equal(accepted.status, 0, accepted.stderr);
    assert.notEqual(check({ INTER: '' }).status, 0, 'HAProxy refuses the empty value too');
    assert.equal(check({ INTER: undefined }).status, 0, 'and takes the default when unset');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

// A README's start: a heading (a comment to HAProxy), then prose outside any section.
const PROSE = '# Steadfast\n\nA checkout service.\nglobal\n';
// Preprocessor lines and a section other than a proxy's may come first: HAProxy takes them.
const DIRECTIVES_FIRST = [
  '.if defined(HAPROXY_LOCALPEER)',
  '.notice "peer set"',
  '.endif',
  'ring buffered',
  '  size 32764',
  'global',
  '',
].join('\n');

test('text that is no HAProxy configuration (prose, nothing) says why; a configuration says nothing', async () => {
  assert.equal(
    parseHaproxyConfig(PROSE, {}).notAConfiguration,
    `line 3 ('A') is in no section, as HAProxy says ("unknown keyword out of section")`,
  );
  for (const empty of ['', '# a comment only\n\n']) {
    assert.match(parseHaproxyConfig(empty, {}).notAConfiguration ?? '', /^it has no section \(global, /);
  }
  assert.match(
    parseHaproxyConfig('\u001b[2J oops\n', {}).notAConfiguration ?? '',
    /\('\?\[2J'\)/,
    'what the file holds is shown printable',
  );
  const shipped = await readFile(HAPROXY_CONFIG, 'utf8');
  assert.equal(parseHaproxyConfig(shipped, {}).notAConfiguration, undefined);
  assert.equal(parseHaproxyConfig(`# a heading\n${CONFIG}`, {}).notAConfiguration, undefined);
  assert.equal(parseHaproxyConfig(DIRECTIVES_FIRST, {}).notAConfiguration, undefined);
});

test('HAProxy refuses the line outside any section too, and takes directives first [haproxy]', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'steadfast-doctor-'));
  try {
    const file = join(dir, 'notes.md');
    await writeFile(file, PROSE);
    const run = spawnSync('haproxy', ['-c', '-f', file], { encoding: 'utf8' });
    assert.equal(run.error, undefined, 'haproxy must be installed (Debian package haproxy)');
    assert.match(run.stderr, /notes\.md:3\]: unknown keyword 'A' out of section/);
    const directives = join(dir, 'directives.cfg');
    await writeFile(directives, DIRECTIVES_FIRST);
    const taken = spawnSync('haproxy', ['-c', '-f', directives], { encoding: 'utf8' });
    assert.doesNotMatch(taken.stderr, /ALERT/);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
