import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { HAPROXY_CONFIG, HAPROXY_ERRORS, haproxyConfigFor } from './loadBalancer.ts';

/** `haproxy -c`: HAProxy's own check of a configuration file. */
function haproxyCheck(path: string) {
  const result = spawnSync('haproxy', ['-c', '-f', path], {
    encoding: 'utf8',
    env: { ...process.env, HAPROXY_ERRORS },
  });
  assert.equal(result.error, undefined, 'haproxy must be installed (Debian package haproxy)');
  return { code: result.status, output: result.stdout + result.stderr };
}

test('HAProxy accepts the shipped configuration', () => {
  const { code, output } = haproxyCheck(HAPROXY_CONFIG);
  assert.equal(code, 0, output);
});

test('the configuration for N instances has one server line each, and HAProxy accepts it', async () => {
  const shipped = await readFile(HAPROXY_CONFIG, 'utf8');
  const config = haproxyConfigFor(shipped, [
    { name: 'checkout-1', url: 'http://127.0.0.1:41001' },
    { name: 'checkout-2', url: 'http://127.0.0.1:41002' },
  ]);
  const servers = config.split('\n').filter((line) => line.trim().startsWith('server '));
  assert.deepEqual(servers, [
    '    server checkout-1 127.0.0.1:41001',
    '    server checkout-2 127.0.0.1:41002',
  ]);
  assert.equal(
    config.replace(/\n {4}server [^\n]+/g, ''),
    shipped.replace(/\n {4}server [^\n]+/g, ''),
    'nothing else changed',
  );
  const dir = await mkdtemp(join(tmpdir(), 'steadfast-haproxy-'));
  try {
    await writeFile(join(dir, 'haproxy.cfg'), config);
    const { code, output } = haproxyCheck(join(dir, 'haproxy.cfg'));
    assert.equal(code, 0, output);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
