/**
 * `npm run build`: src/ compiled to JavaScript (tsconfig.build.json), with the files the services read at
 * run time (the dashboard's page, the migrations) copied beside their modules. `--out-dir` puts it
 * elsewhere than dist/.
 */
import { spawnSync } from 'node:child_process';
import { cpSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';

const root = resolve(import.meta.dirname, '..');
const { values } = parseArgs({ options: { 'out-dir': { type: 'string', default: join(root, 'dist') } } });
const out = resolve(values['out-dir']);

rmSync(out, { recursive: true, force: true });
const tsc = join(root, 'node_modules', '.bin', 'tsc');
const compiled = spawnSync(tsc, ['-p', join(root, 'tsconfig.build.json'), '--outDir', out], {
  stdio: 'inherit',
});
if (compiled.status !== 0) process.exit(compiled.status ?? 1);
cpSync(join(root, 'src'), out, {
  recursive: true,
  filter: (source) => !source.endsWith('.ts'),
});
process.stdout.write(`built ${out}\n`);
