import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import { type LineHandler, LineSplitter } from './lineSplitter.ts';
import { openRegularFile } from './regularFile.ts';
import type { SourceReason } from './report.ts';

/** One place logs are read from: a file (plain or gzip-compressed) or standard input. */
export interface LogSource {
  /** How the source is named in evidence: the file's name, or `stdin`. */
  name: string;
  path?: string;
}

/** What reading one source bounds: no input, however hostile, makes triage hold more than these. */
export interface ReadLimits {
  /** A line longer than this is cut (passed over and counted), never held whole. */
  maxLineBytes: number;
  /** A compressed file is read up to this many bytes of its decompressed content. */
  maxDecompressedBytes: number;
}

export const DEFAULT_READ_LIMITS: ReadLimits = {
  maxLineBytes: 2 ** 20,
  // 25 times the default rotation size: a real rotated log fits, a gzip bomb is stopped early.
  maxDecompressedBytes: 256 * 2 ** 20,
};

/** How far one source was read. */
export interface ReadOutcome {
  state: 'read' | 'partial' | 'unreadable' | 'skipped';
  reason?: SourceReason;
  detail?: string;
  /** Lines seen, those passed over included. */
  lines: number;
}

/** A log file of the stack, live or rotated: `checkout.log`, `checkout.3.log`, `checkout.2.log.gz`. */
const LOG_FILE = /^(?<base>.+?)(?:\.(?<index>\d+))?\.log(?:\.gz)?$/;

/**
 * The sources behind one `--logs` argument. A directory gives its log files, each live file after its
 * rotated ones, oldest first (the higher the rotation index, the older), so lines come roughly in order.
 * Whether each is a file that can be read is decided when it is opened (readLog), not here.
 */
export async function resolveLogSources(argument: string): Promise<LogSource[]> {
  if (argument === '-') return [{ name: 'stdin' }];
  const info = await stat(argument).catch((error: NodeJS.ErrnoException) => {
    // A path that does not exist is a mistake of the caller's; one that exists but cannot be read is
    // reported as that source's state.
    if (error.code === 'ENOENT' || error.code === 'ENOTDIR') throw error;
    return undefined;
  });
  if (!info?.isDirectory()) return [{ name: baseName(argument), path: argument }];
  const files = (await readdir(argument)).flatMap((name) => {
    const match = LOG_FILE.exec(name);
    return match?.groups
      ? [{ name, base: match.groups.base ?? name, index: Number(match.groups.index ?? 0) }]
      : [];
  });
  files.sort((a, b) => a.base.localeCompare(b.base) || b.index - a.index);
  return files.map((file) => ({ name: file.name, path: join(argument, file.name) }));
}

/** Stops the decompression of a file past its limit. */
class DecompressedLimit extends Error {}

/**
 * Streams the lines of a source to `handler`: memory stays flat however large the file or its lines.
 * Only regular files are opened (a FIFO, a socket, a device, a directory, a dangling or looping link is
 * skipped); a compressed file stops at `maxDecompressedBytes`; `signal` ends the read where it is.
 */
export async function readLog(
  source: LogSource,
  handler: LineHandler,
  options: { limits?: ReadLimits; signal?: AbortSignal; stdin?: Readable } = {},
): Promise<ReadOutcome> {
  const limits = options.limits ?? DEFAULT_READ_LIMITS;
  if (options.signal?.aborted) return { state: 'skipped', reason: 'timeout', lines: 0 };
  const splitter = new LineSplitter(limits.maxLineBytes, handler);
  let input: Readable;
  let compressed = false;
  if (source.path) {
    const opened = await openRegularFile(source.path);
    if (!('handle' in opened)) {
      const skipped = ['not_a_file', 'dangling_link', 'link_loop', 'not_found'].includes(opened.reason);
      return { state: skipped ? 'skipped' : 'unreadable', ...opened, lines: 0 };
    }
    const head = Buffer.alloc(2);
    const bytesRead = await opened.handle.read(head, 0, 2, 0).then(
      (read) => read.bytesRead,
      async (error: NodeJS.ErrnoException) => {
        await opened.handle.close();
        return error;
      },
    );
    if (typeof bytesRead !== 'number')
      return {
        state: 'unreadable',
        reason: 'read_error',
        detail: bytesRead.code ?? bytesRead.message,
        lines: 0,
      };
    // By its magic bytes, not its name: a rotated file may be compressed under any name.
    compressed = bytesRead === 2 && head[0] === 0x1f && head[1] === 0x8b;
    input = opened.handle.createReadStream({ start: 0 });
  } else input = options.stdin ?? process.stdin;

  let handlerError: unknown;
  const consume = async (chunks: AsyncIterable<Buffer>) => {
    let decompressed = 0;
    for await (const chunk of chunks) {
      if (compressed) {
        decompressed += chunk.length;
        if (decompressed > limits.maxDecompressedBytes) throw new DecompressedLimit();
      }
      try {
        splitter.push(chunk);
      } catch (error) {
        handlerError = error;
        throw error;
      }
    }
    splitter.end();
  };
  try {
    if (compressed) await pipeline(input, createGunzip(), consume, { signal: options.signal });
    else await pipeline(input, consume, { signal: options.signal });
    return { state: 'read', lines: splitter.lines };
  } catch (error) {
    if (handlerError) throw handlerError;
    const lines = splitter.lines;
    if (error instanceof DecompressedLimit)
      return {
        state: 'partial',
        reason: 'decompressed_limit',
        detail: `cut at ${limits.maxDecompressedBytes} bytes decompressed`,
        lines,
      };
    if ((error as Error).name === 'AbortError') return { state: 'partial', reason: 'timeout', lines };
    const code = (error as NodeJS.ErrnoException).code ?? '';
    const corrupt = code.startsWith('Z_') || /unexpected end of file|incorrect header/i.test(String(error));
    return {
      state: lines > 0 ? 'partial' : 'unreadable',
      reason: corrupt ? 'corrupt' : 'read_error',
      detail: code || (error as Error).message,
      lines,
    };
  }
}

function baseName(path: string): string {
  return path.split(/[\\/]/).pop() ?? path;
}
