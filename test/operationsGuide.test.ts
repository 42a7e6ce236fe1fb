import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { CLI } from './support/processes.ts';
import { readStackEnv, startTestStack, type TestStack } from './support/stack.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const GUIDE = join(ROOT, 'docs', 'operations.md');

/** The guide's `sh` blocks, in order: what an operator would paste into one terminal. */
export function shellBlocks(markdown: string): string[] {
  return [...markdown.matchAll(/^```sh\n([\s\S]*?)^```$/gm)].map((m) => m[1] ?? '');
}

describe('docs/operations.md: every command in it runs', () => {
  let stack: TestStack;
  let bin: string;

  before(async () => {
    stack = await startTestStack({});
    // `steadfast` on the PATH, as an installed package puts it there.
    bin = await mkdtemp(join(tmpdir(), 'steadfast-bin-'));
    await writeFile(join(bin, 'steadfast'), `#!/bin/sh\nexec "${process.execPath}" "${CLI}" "$@"\n`);
    await chmod(join(bin, 'steadfast'), 0o755);
  });
  after(async () => {
    await rm(bin, { recursive: true, force: true });
    await stack?.stop();
  });

  test('the guide, run as one shell session against a real stack, succeeds', async () => {
    const blocks = shellBlocks(await readFile(GUIDE, 'utf8'));
    assert.ok(blocks.length >= 10, `the guide's commands: ${blocks.length} blocks`);
    const server = new URL(stack.info.databaseUrl);
    const admin = new URL(stack.info.databaseUrl);
    admin.pathname = '/postgres';
    const { DATABASE_URL: _theStacks, ...services } = await readStackEnv(stack.dataDir);
    for (const tool of ['psql', 'curl', 'promtool', 'amtool', 'haproxy'])
      assert.equal(spawnSync(tool, ['--version']).error, undefined, `${tool} must be installed (.ci/run)`);
    const run = spawnSync('bash', ['-euo', 'pipefail', '-c', blocks.join('\n')], {
      cwd: ROOT,
      encoding: 'utf8',
      env: {
        PATH: `${bin}:${process.env.PATH}`,
        HOME: process.env.HOME,
        PG_SERVER: server.host,
        ADMIN_DATABASE_URL: admin.href,
        CHECKOUT_URL: stack.info.checkoutUrl,
        ...services,
      },
      timeout: 120_000,
    });
    assert.equal(run.status, 0, `exit ${run.status}\n${run.stdout}\n${run.stderr}`);
    assert.match(run.stdout, /clean/, 'reconcile ran and found the books balanced');
  });
});
