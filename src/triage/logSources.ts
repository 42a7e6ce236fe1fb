import { createReadStream } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';

/** One place logs are read from: a file (plain or gzip-compressed) or standard input. */
export interface LogSource {
  /** How the source is named in evidence: the file's name, or `stdin`. */
  name: string;
  path?: string;
}

/** A log file of the stack, live or rotated: `checkout.log`, `checkout.3.log`, `checkout.2.log.gz`. */
const LOG_FILE = /^(?<base>.+?)(?:\.(?<index>\d+))?\.log(?:\.gz)?$/;

/**
 * The sources behind one `--logs` argument. A directory gives its log files, each live file after its
 * rotated ones, oldest first (the higher the rotation index, the older), so lines come roughly in order.
 */
export async function resolveLogSources(argument: string): Promise<LogSource[]> {
  if (argument === '-') return [{ name: 'stdin' }];
  const info = await stat(argument);
  if (!info.isDirectory()) return [{ name: baseName(argument), path: argument }];
  const files = (await readdir(argument)).flatMap((name) => {
    const match = LOG_FILE.exec(name);
    return match?.groups
      ? [{ name, base: match.groups.base ?? name, index: Number(match.groups.index ?? 0) }]
      : [];
  });
  files.sort((a, b) => a.base.localeCompare(b.base) || b.index - a.index);
  return files.map((file) => ({ name: file.name, path: join(argument, file.name) }));
}

/** The lines of a source, one at a time: memory stays flat however large the file. */
export async function* readLines(source: LogSource, stdin: Readable = process.stdin): AsyncGenerator<string> {
  const raw = source.path ? createReadStream(source.path) : stdin;
  const input = source.path && (await isGzip(source.path)) ? raw.pipe(createGunzip()) : raw;
  const lines = createInterface({ input, crlfDelay: Number.POSITIVE_INFINITY });
  try {
    for await (const line of lines) yield line;
  } finally {
    lines.close();
    if (source.path) raw.destroy();
  }
}

/** By its magic bytes, not its name: a rotated file may be compressed under any name. */
async function isGzip(path: string): Promise<boolean> {
  const stream = createReadStream(path, { start: 0, end: 1 });
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  const head = Buffer.concat(chunks);
  return head.length === 2 && head[0] === 0x1f && head[1] === 0x8b;
}

function baseName(path: string): string {
  return path.split(/[\\/]/).pop() ?? path;
}
