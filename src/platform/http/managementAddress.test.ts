import assert from 'node:assert/strict';
import { test } from 'node:test';
import Type from 'typebox';
import { loadConfig } from '../config/loadConfig.ts';
import { httpSettings } from '../config/settings.ts';
import { managementAddress, PRODUCTION_MANAGEMENT_PORT } from './managementAddress.ts';

const schema = Type.Object(httpSettings);
const addressFor = (env: Record<string, string>) => {
  const loaded = loadConfig(schema, env);
  assert.ok(loaded.ok, JSON.stringify(loaded));
  return managementAddress(loaded.config);
};

test('outside production the surfaces share the API listener unless MANAGEMENT_PORT is set', () => {
  assert.equal(addressFor({}), undefined);
  assert.deepEqual(addressFor({ MANAGEMENT_PORT: '9100' }), { host: '127.0.0.1', port: 9100 });
  assert.deepEqual(addressFor({ MANAGEMENT_PORT: '0' }), { host: '127.0.0.1', port: 0 });
});

test('in production they listen apart, on loopback, by default', () => {
  assert.deepEqual(addressFor({ NODE_ENV: 'production' }), {
    host: '127.0.0.1',
    port: PRODUCTION_MANAGEMENT_PORT,
  });
  assert.deepEqual(addressFor({ NODE_ENV: 'production', MANAGEMENT_HOST: '10.0.0.5' }), {
    host: '10.0.0.5',
    port: PRODUCTION_MANAGEMENT_PORT,
  });
});

test('MANAGEMENT_PORT equal to a fixed PORT asks for one listener; with PORT=0 both pick their own', () => {
  assert.equal(addressFor({ NODE_ENV: 'production', PORT: '8080', MANAGEMENT_PORT: '8080' }), undefined);
  assert.deepEqual(addressFor({ PORT: '0', MANAGEMENT_PORT: '0' }), { host: '127.0.0.1', port: 0 });
});

test('a malformed management setting is a startup failure naming it, never its value', () => {
  for (const [name, value] of [
    ['MANAGEMENT_PORT', 'banana'],
    ['MANAGEMENT_PORT', '70000'],
    ['MANAGEMENT_PORT', '-1'],
  ] as const) {
    const loaded = loadConfig(schema, { [name]: value });
    assert.equal(loaded.ok, false, `${name}=${value}`);
    if (!loaded.ok) {
      assert.deepEqual(loaded.problems, [
        `Environment variable '${name}' is not valid: it must be a port from 0 to 65535: where /metrics, /dashboard and /docs listen (0 picks a free one; PORT itself serves them with the API).`,
      ]);
    }
  }
});
