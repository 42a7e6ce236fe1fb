/**
 * Triage throughput: a log made of a recorded scenario's lines, repeated with their times moved on, of
 * 100 MB and of 1 GB, each read by `steadfast triage` in its own process. Goal: at least 1,000,000 lines
 * a minute of CPU, and a peak memory that does not grow with the log.
 */
import { execFileSync } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';

const SCENARIO = fileURLToPath(
  new URL('../test/triage/corpus/mixed-payment-hang-under-load/logs/', import.meta.url),
);
const RUN = fileURLToPath(new URL('./triageRun.ts', import.meta.url));
const SIZES_MB = [100, 1024];
/**
 * V8 sizes its young generation by the allocation rate, up to its own cap, whatever the log: a second run
 * with it fixed shows what triage itself keeps, which must not grow with the log.
 */
const FIXED_YOUNG_GENERATION = '--max-semi-space-size=4';
const GOAL_LINES_PER_MINUTE = 1_000_000;

const template = (
  await Promise.all(
    ['checkout', 'inventory', 'payment'].map((name) => readFile(join(SCENARIO, `${name}.log.gz`))),
  )
)
  .flatMap((gz) => gunzipSync(gz).toString().split('\n'))
  .filter(Boolean);
const times = template.map((line) => Date.parse(/"time":"([^"]+)"/.exec(line)?.[1] ?? ''));
const span = Math.max(...times.filter(Number.isFinite)) - Math.min(...times.filter(Number.isFinite)) + 1000;

/** Writes about `mb` megabytes of log: the template again and again, each pass later than the last. */
async function generate(path: string, mb: number): Promise<void> {
  const out = createWriteStream(path);
  let written = 0;
  for (let pass = 0; written < mb * 2 ** 20; pass++) {
    const chunk = template
      .map((line, i) =>
        Number.isFinite(times[i])
          ? line.replace(
              /"time":"[^"]+"/,
              `"time":"${new Date((times[i] as number) + pass * span).toISOString()}"`,
            )
          : line,
      )
      .join('\n');
    written += Buffer.byteLength(chunk) + 1;
    if (!out.write(`${chunk}\n`)) await new Promise((resolve) => out.once('drain', resolve));
  }
  await new Promise((resolve) => out.end(resolve));
}

const dir = await mkdtemp(join(tmpdir(), 'steadfast-triage-bench-'));
try {
  const results: {
    mb: number;
    lines: number;
    wallMs: number;
    cpuMs: number;
    peakRssMb: number;
    fixedPeakRssMb: number;
  }[] = [];
  const run = (flags: string[], path: string) =>
    JSON.parse(execFileSync(process.execPath, [...flags, RUN, path], { maxBuffer: 2 ** 20 }).toString());
  for (const mb of SIZES_MB) {
    const path = join(dir, `checkout-${mb}.log`);
    await generate(path, mb);
    const result = run([], path);
    results.push({ mb, ...result, fixedPeakRssMb: run([FIXED_YOUNG_GENERATION], path).peakRssMb });
    await rm(path);
  }
  console.log('\ntriage throughput (one process, one core):');
  for (const r of results) {
    const perMinute = (r.lines / r.cpuMs) * 60_000;
    console.log(
      `  ${r.mb} MB: ${r.lines.toLocaleString('en')} lines in ${(r.wallMs / 1000).toFixed(1)} s (CPU ${(r.cpuMs / 1000).toFixed(1)} s): ` +
        `${Math.round(perMinute).toLocaleString('en')} lines per CPU-minute (goal ${GOAL_LINES_PER_MINUTE.toLocaleString('en')}: ` +
        `${perMinute >= GOAL_LINES_PER_MINUTE ? 'met' : 'MISSED'}); peak RSS ${r.peakRssMb.toFixed(0)} MB ` +
        `(${r.fixedPeakRssMb.toFixed(0)} MB with ${FIXED_YOUNG_GENERATION})`,
    );
  }
  const [small, large] = results;
  if (small && large) {
    console.log(
      `  peak RSS ${large.mb} MB / ${small.mb} MB: ${(large.peakRssMb / small.peakRssMb).toFixed(2)}; with ` +
        `${FIXED_YOUNG_GENERATION}: ${(large.fixedPeakRssMb / small.fixedPeakRssMb).toFixed(2)} (flat memory: about 1)`,
    );
  }
} finally {
  await rm(dir, { recursive: true, force: true });
}
