import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { loadOrCreateSecrets } from './secrets.ts';

test("a stack's secrets are made once, kept, and a secret an older version lacked is added", async () => {
  const dir = await mkdtemp(join(tmpdir(), 'steadfast-secrets-'));
  try {
    const made = await loadOrCreateSecrets(dir);
    assert.match(made.webhookSecret, /^whsec_[A-Za-z0-9_-]{8,}$/);
    assert.match(made.paymentApiKey, /^sk_test_/);
    assert.deepEqual(await loadOrCreateSecrets(dir), made, 'the same on the next start');
    assert.equal((await stat(join(dir, 'secrets.json'))).mode & 0o777, 0o600);

    // A data directory of a version before webhooks: its secrets stay, the new one joins them.
    const { webhookSecret: _, ...older } = made;
    await writeFile(join(dir, 'secrets.json'), JSON.stringify(older), { mode: 0o600 });
    const upgraded = await loadOrCreateSecrets(dir);
    assert.deepEqual({ ...upgraded, webhookSecret: undefined }, { ...older, webhookSecret: undefined });
    assert.match(upgraded.webhookSecret, /^whsec_/);
    const kept = JSON.parse(await readFile(join(dir, 'secrets.json'), 'utf8')) as typeof made;
    assert.equal(kept.webhookSecret, upgraded.webhookSecret, 'written down, so the next start agrees');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
