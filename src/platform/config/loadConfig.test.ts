import assert from 'node:assert/strict';
import { test } from 'node:test';
import Type from 'typebox';
import { loadConfig } from './loadConfig.ts';

const Schema = Type.Object({
  PORT: Type.Integer({ minimum: 0, maximum: 65535, default: 3000 }),
  API_KEY: Type.String({ minLength: 8, default: 'dev-key-dev-key' }),
  DATABASE_URL: Type.String({ pattern: '^postgres://', description: 'a postgres:// URL' }),
  LEVEL: Type.Union([Type.Literal('info'), Type.Literal('debug')], { default: 'info' }),
});

test('defaults fill what is not set; strings become numbers', () => {
  const result = loadConfig(Schema, { DATABASE_URL: 'postgres://x', PORT: '8080' });
  assert.ok(result.ok);
  assert.deepEqual(result.config, {
    PORT: 8080,
    API_KEY: 'dev-key-dev-key',
    DATABASE_URL: 'postgres://x',
    LEVEL: 'info',
  });
});

test('every problem is reported, not only the first, and no value is echoed', () => {
  const result = loadConfig(Schema, { PORT: 'eighty', LEVEL: 'verbose-secret-value' });
  assert.equal(result.ok, false);
  assert.ok(!result.ok);
  assert.deepEqual(result.problems, [
    "Required environment variable 'DATABASE_URL' is not set.",
    "Environment variable 'PORT' is not valid: it must be an integer >= 0 and <= 65535.",
    "Environment variable 'LEVEL' is not valid: it must be one of info, debug.",
  ]);
  assert.doesNotMatch(result.problems.join(), /eighty|verbose-secret-value/);
});

test('many malformed settings, unions among them: every one is named, not the first few', () => {
  const levels = Type.Union(
    ['a', 'b', 'c', 'd', 'e', 'f'].map((l) => Type.Literal(l)),
    { default: 'a' },
  );
  const many = Type.Object(
    Object.fromEntries(
      Array.from({ length: 12 }, (_, i) => [`S${i}`, i % 2 ? levels : Type.Integer({ default: 1 })]),
    ),
  );
  const result = loadConfig(many, Object.fromEntries(Array.from({ length: 12 }, (_, i) => [`S${i}`, 'x'])));
  assert.ok(!result.ok);
  assert.deepEqual(
    result.problems.map((p) => /'(S\d+)'/.exec(p)?.[1]).sort(),
    Array.from({ length: 12 }, (_, i) => `S${i}`).sort(),
  );
});

test('production requires what development defaults', () => {
  const env = { NODE_ENV: 'production', DATABASE_URL: 'postgres://x' };
  const result = loadConfig(Schema, env, { requiredInProduction: ['API_KEY'] });
  assert.ok(!result.ok);
  assert.deepEqual(result.problems, ["Required environment variable 'API_KEY' is not set."]);
  assert.ok(
    loadConfig(Schema, { ...env, NODE_ENV: 'development' }, { requiredInProduction: ['API_KEY'] }).ok,
  );
});

test('an empty value counts as not set', () => {
  const result = loadConfig(Schema, { DATABASE_URL: '' });
  assert.ok(!result.ok);
  assert.deepEqual(result.problems, ["Required environment variable 'DATABASE_URL' is not set."]);
});

test('an integer setting that is not a whole number is refused, never truncated', () => {
  for (const port of ['80.5', '1e3', '0x50', '80 80', 'eighty']) {
    const result = loadConfig(Schema, { DATABASE_URL: 'postgres://x', PORT: port });
    assert.ok(!result.ok, `${port} accepted`);
    assert.deepEqual(result.problems, [
      "Environment variable 'PORT' is not valid: it must be an integer >= 0 and <= 65535.",
    ]);
  }
  const spaced = loadConfig(Schema, { DATABASE_URL: 'postgres://x', PORT: ' 8080 ' });
  assert.ok(spaced.ok && spaced.config.PORT === 8080);
});

test('a log collector is a tcp:// host and a port a client can reach; its buffer has a ceiling', async () => {
  const { logSettings } = await import('./settings.ts');
  const Log = Type.Object(logSettings);
  const accepts = (env: Record<string, string>) => loadConfig(Log, env).ok;
  for (const url of [
    'tcp://127.0.0.1:514',
    'tcp://collector.example:6514',
    'tcp://[::1]:514',
    'tcp://h:65535',
  ])
    assert.ok(accepts({ LOG_SYSLOG_URL: url }), url);
  for (const url of [
    'tcp://127.0.0.1:99999',
    'tcp://127.0.0.1:65536',
    'tcp://127.0.0.1:0',
    'tcp://127.0.0.1:00514',
    'tcp://user@host:514',
    'tcp://a%2Fb:514',
    'udp://127.0.0.1:514',
    'tcp://127.0.0.1',
  ])
    assert.equal(accepts({ LOG_SYSLOG_URL: url }), false, url);
  assert.ok(accepts({ LOG_SYSLOG_BUFFER_BYTES: String(2 ** 30) }));
  assert.equal(accepts({ LOG_SYSLOG_BUFFER_BYTES: String(2 ** 30 + 1) }), false);
  assert.equal(accepts({ LOG_SYSLOG_BUFFER_BYTES: '99999999999999999999' }), false);
});
