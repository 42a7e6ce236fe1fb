/** One triage run over a log file, in its own process so its peak memory is its own: prints what it cost. */
import { diagnose } from '../src/triage/diagnose.ts';
import { gather } from '../src/triage/gather.ts';

const [file] = process.argv.slice(2);
const started = performance.now();
const report = diagnose(await gather({ logs: [file as string], metrics: [], health: [] }));
const usage = process.resourceUsage();
process.stdout.write(
  `${JSON.stringify({
    lines: report.read.logLines,
    headline: report.headline,
    wallMs: performance.now() - started,
    cpuMs: (usage.userCPUTime + usage.systemCPUTime) / 1000,
    peakRssMb: usage.maxRSS / 1024,
  })}\n`,
);
