import { stat } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import Value from 'typebox/value';
import { parseOptions } from '../cli/parseOptions.ts';
import { diagnose } from './diagnose.ts';
import { lookupError, renderLookup } from './errorLookup.ts';
import { gather, localStackSources, type Sources } from './gather.ts';
import { isUrl } from './liveSources.ts';
import { DEFAULT_READ_LIMITS } from './logSources.ts';
import { renderText } from './renderText.ts';
import { TriageReport } from './report.ts';
import { jsonSafe, terminalSafe } from './terminalSafe.ts';

export const TRIAGE_USAGE = `Usage: steadfast triage [--logs <file|dir|->]... [--metrics <url|file>]... [--health <url>]...
                        [--since 30m] [--format text|json] [--error-id ERR-...]
                        [--timeout 60s] [--max-decompressed 256m] [--haproxy-config <file>]
With no source it reads the local stack (stack.json in the data directory): its logs, every service's
/metrics and every checkout instance's /health (and HAProxy's configuration, when it runs one). Exit 0: healthy; 1: a problem found (or the error id
not found); 2: bad usage; 3: unknown (too little could be read to tell, or the timeout came first);
4: triage itself failed.`;

/** The exit codes of `steadfast triage`, documented in docs/triage.md. */
export const TRIAGE_EXIT = { healthy: 0, problem: 1, usage: 2, unknown: 3, failed: 4 } as const;

const DURATION = /^(\d+)(s|m|h|d)$/;
const UNIT_MS = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;
const SIZE = /^(\d+)([kmg]?)$/i;
const UNIT_BYTES = { '': 1, k: 2 ** 10, m: 2 ** 20, g: 2 ** 30 } as const;
/** Triage answers in seconds; past this it stops reading and says what it could not read. */
const DEFAULT_TIMEOUT = '60s';

/** Where triage writes and reads: the process's own streams, or a test's. */
export interface TriageIo {
  stdout(text: string): void;
  stderr(text: string): void;
  stdin: Readable;
  /** Colour is used only on a terminal. */
  isTTY: boolean;
}

const processIo = (): TriageIo => {
  // A reader that goes away (`| head`) is not triage's failure: the rest of the output has nowhere to go.
  const ignoreBrokenPipe = (error: NodeJS.ErrnoException) => {
    if (error.code !== 'EPIPE') throw error;
  };
  process.stdout.on('error', ignoreBrokenPipe);
  return {
    stdout: (text) => process.stdout.write(text),
    stderr: (text) => process.stderr.write(text),
    stdin: process.stdin,
    isTTY: Boolean(process.stdout.isTTY),
  };
};

/**
 * `steadfast triage`: returns the exit code, never throws. A failure of triage's own is one line on
 * stderr and exit 4, not a stack trace and exit 1 (which would read as "a problem was found").
 */
export async function runTriage(
  args: string[],
  env: NodeJS.ProcessEnv,
  io: TriageIo = processIo(),
): Promise<number> {
  try {
    return await triage(args, env, io);
  } catch (error) {
    io.stderr(`steadfast triage: failed: ${terminalSafe(String((error as Error)?.message ?? error))}\n`);
    return TRIAGE_EXIT.failed;
  }
}

async function triage(args: string[], env: NodeJS.ProcessEnv, io: TriageIo): Promise<number> {
  const usage = (problem: string) => {
    io.stderr(`steadfast triage: ${terminalSafe(problem)}\n\n${TRIAGE_USAGE}\n`);
    return TRIAGE_EXIT.usage;
  };
  let values: {
    logs?: string[];
    metrics?: string[];
    health?: string[];
    since?: string;
    format?: string;
    'error-id'?: string;
    timeout?: string;
    'max-decompressed'?: string;
    'haproxy-config'?: string;
  };
  try {
    values = parseOptions(args, {
      logs: { type: 'string', multiple: true },
      metrics: { type: 'string', multiple: true },
      health: { type: 'string', multiple: true },
      since: { type: 'string' },
      format: { type: 'string', default: 'text' },
      'error-id': { type: 'string' },
      timeout: { type: 'string', default: DEFAULT_TIMEOUT },
      'max-decompressed': { type: 'string' },
      'haproxy-config': { type: 'string' },
    });
  } catch (error) {
    return usage((error as Error).message);
  }
  if (values.format !== 'text' && values.format !== 'json') return usage('--format is text or json');
  const since = values.since ? DURATION.exec(values.since) : undefined;
  if (values.since && !since) return usage('--since takes a duration such as 90s, 30m, 2h or 1d');
  const timeout = DURATION.exec(values.timeout ?? DEFAULT_TIMEOUT);
  const timeoutMs = timeout ? Number(timeout[1]) * UNIT_MS[timeout[2] as keyof typeof UNIT_MS] : 0;
  // AbortSignal.timeout takes at most 2^32-1 ms (49 days): far past any use.
  if (!timeout || timeoutMs < 1 || timeoutMs > 2 ** 31)
    return usage('--timeout takes a duration such as 30s or 5m (at least 1s)');
  const size = values['max-decompressed'] ? SIZE.exec(values['max-decompressed']) : undefined;
  if (values['max-decompressed'] && (!size || Number(size[1]) < 1))
    return usage('--max-decompressed takes a size in bytes, such as 500k, 256m or 2g');
  const maxDecompressedBytes = size
    ? Number(size[1]) * UNIT_BYTES[(size[2] ?? '').toLowerCase() as keyof typeof UNIT_BYTES]
    : DEFAULT_READ_LIMITS.maxDecompressedBytes;
  let sources: Sources = {
    logs: values.logs ?? [],
    metrics: values.metrics ?? [],
    health: values.health ?? [],
  };
  for (const url of sources.health) if (!isUrl(url)) return usage(`--health takes an http(s) URL: ${url}`);
  for (const file of sources.metrics.filter((source) => !isUrl(source))) {
    const missing = await stat(file).then(
      () => false,
      (error: NodeJS.ErrnoException) => error.code === 'ENOENT' || error.code === 'ENOTDIR',
    );
    if (missing) return usage(`no such metrics file: ${file}`);
  }
  if (!sources.logs.length && !sources.metrics.length && !sources.health.length) {
    // steadfast start's data directory (triage imports nothing of the stack it reads: the default is repeated).
    const dataDir = env.STEADFAST_DATA_DIR ?? '.steadfast';
    try {
      sources = await localStackSources(dataDir);
    } catch {
      return usage(`no source given, and no local stack in ${dataDir} (stack.json)`);
    }
  }
  const haproxyConfig = values['haproxy-config'];
  if (haproxyConfig) {
    const missing = await stat(haproxyConfig).then(
      () => false,
      () => true,
    );
    if (missing) return usage(`no such HAProxy configuration: ${haproxyConfig}`);
    sources.haproxyConfig = haproxyConfig;
  }
  sources.haproxyEnv = env;
  if (since) sources.since = Date.now() - Number(since[1]) * UNIT_MS[since[2] as keyof typeof UNIT_MS];
  const json = values.format === 'json';
  const signal = AbortSignal.timeout(timeoutMs);
  try {
    const errorId = values['error-id'];
    if (errorId) {
      const lookup = await lookupError(sources.logs, errorId, { stdin: io.stdin, signal });
      io.stdout(json ? `${jsonSafe(JSON.stringify(lookup, null, 2))}\n` : renderLookup(lookup));
      if (lookup.found) return TRIAGE_EXIT.healthy;
      return lookup.timedOut ? TRIAGE_EXIT.unknown : TRIAGE_EXIT.problem;
    }
    const gathered = await gather(sources, {
      limits: { ...DEFAULT_READ_LIMITS, maxDecompressedBytes },
      signal,
      stdin: io.stdin,
    });
    const report = diagnose(gathered);
    if (!Value.Check(TriageReport, report)) {
      const [first] = Value.Errors(TriageReport, report);
      throw new Error(`the report does not match its own schema (${first?.instancePath} ${first?.message})`);
    }
    io.stdout(
      json
        ? `${jsonSafe(JSON.stringify(report, null, 2))}\n`
        : renderText(report, { color: io.isTTY && !env.NO_COLOR }),
    );
    return TRIAGE_EXIT[report.status];
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR' || code === 'EACCES') return usage((error as Error).message);
    throw error;
  }
}
