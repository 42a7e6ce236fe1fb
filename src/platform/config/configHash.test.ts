import assert from 'node:assert/strict';
import { test } from 'node:test';
import { configHash } from './configHash.ts';

const base = {
  PORT: 3000,
  DB_POOL_MAX: 10,
  DATABASE_URL: 'postgres://app:first-password@db.internal:5432/checkout',
  JWT_SECRET: 'a-secret-of-at-least-thirty-two-characters',
  PAYMENT_API_KEY: 'sk_live_0123456789',
  METRICS_ENABLED: true,
};

test('configHash: the same settings in any order hash alike; any setting that is not a secret changes it', () => {
  const hash = configHash(base);
  assert.match(hash, /^[0-9a-f]{16}$/);
  assert.equal(configHash(Object.fromEntries(Object.entries(base).reverse())), hash);
  assert.notEqual(configHash({ ...base, DB_POOL_MAX: 11 }), hash);
  assert.notEqual(configHash({ ...base, METRICS_ENABLED: false }), hash);
  assert.notEqual(
    configHash({ ...base, DATABASE_URL: base.DATABASE_URL.replace('db.internal', 'db2') }),
    hash,
  );
  assert.notEqual(configHash({ ...base, LOG_FILE: 'x.log' }), hash, 'a setting added');
});

test('configHash: secrets are left out, a URL password too: rotating one leaves the hash as it was', () => {
  const hash = configHash(base);
  assert.equal(configHash({ ...base, JWT_SECRET: 'another-secret-of-at-least-thirty-two-chars' }), hash);
  assert.equal(configHash({ ...base, PAYMENT_API_KEY: 'sk_live_rotated' }), hash);
  assert.equal(configHash({ ...base, DATABASE_URL: base.DATABASE_URL.replace('first', 'second') }), hash);
  assert.equal(configHash({ ...base, DB_PASSWORD: 'x' }), configHash({ ...base, DB_PASSWORD: 'y' }));
  // A service names its other secrets.
  assert.equal(
    configHash({ ...base, SIGNING_SEED: 'a' }, ['SIGNING_SEED']),
    configHash({ ...base, SIGNING_SEED: 'b' }, ['SIGNING_SEED']),
  );
  // Without the secrets the hash is the hash of the rest: a secret alone hashes like no settings at all.
  assert.equal(configHash({ JWT_SECRET: 'guessable' }), configHash({}));
});
