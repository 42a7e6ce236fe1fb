import type { FileHandle } from 'node:fs/promises';
import { openRegularFile } from './regularFile.ts';
import type { SourceRead } from './report.ts';

/** How long a live source gets to answer: triage must answer in seconds even when the service hangs. */
const FETCH_TIMEOUT_MS = 3000;
/** A scrape of the stack's services is tens of kilobytes; one past this is not read. */
export const MAX_SCRAPE_BYTES = 16 * 2 ** 20;
export const MAX_HEALTH_BYTES = 2 ** 20;

/** The text of a source, or what became of it (unreachable, unreadable, skipped). */
export type Fetched = { text: string; status: number } | Omit<SourceRead, 'kind' | 'source'>;

export function isUrl(source: string): boolean {
  return /^https?:\/\//i.test(source);
}

/**
 * A metrics or health URL's answer, bounded in time (its own timeout and the run's) and in size. Any
 * status is an answer (a /health that answers 503 says why); the caller decides what it means.
 */
export async function fetchBounded(url: string, maxBytes: number, signal?: AbortSignal): Promise<Fetched> {
  const timeout = AbortSignal.timeout(FETCH_TIMEOUT_MS);
  const both = signal ? AbortSignal.any([signal, timeout]) : timeout;
  try {
    const response = await fetch(url, { signal: both });
    const chunks: Uint8Array[] = [];
    let size = 0;
    for await (const chunk of response.body ?? []) {
      size += chunk.length;
      if (size > maxBytes) {
        await response.body?.cancel();
        return { state: 'unreadable', reason: 'too_large', detail: `more than ${maxBytes} bytes` };
      }
      chunks.push(chunk);
    }
    return { text: Buffer.concat(chunks).toString('utf8'), status: response.status };
  } catch (error) {
    if (signal?.aborted) return { state: 'unreachable', reason: 'timeout', detail: 'the run timed out' };
    const cause = (error as { cause?: NodeJS.ErrnoException }).cause;
    const detail = timeout.aborted
      ? `no answer within ${FETCH_TIMEOUT_MS} ms`
      : (cause?.code ?? cause?.message ?? (error as Error).message);
    return { state: 'unreachable', reason: 'no_answer', detail };
  }
}

/** A saved scrape: a regular file, read whole only when it is small enough to be one. */
export async function readSavedScrape(path: string): Promise<Fetched> {
  const opened = await openRegularFile(path);
  if (!('handle' in opened))
    return {
      state: ['not_a_file', 'dangling_link', 'link_loop'].includes(opened.reason) ? 'skipped' : 'unreadable',
      ...opened,
    };
  return readBounded(opened.handle, MAX_SCRAPE_BYTES);
}

async function readBounded(handle: FileHandle, maxBytes: number): Promise<Fetched> {
  try {
    const { size } = await handle.stat();
    if (size > maxBytes)
      return { state: 'unreadable', reason: 'too_large', detail: `${size} bytes, more than ${maxBytes}` };
    const buffer = Buffer.alloc(size);
    const { bytesRead } = await handle.read(buffer, 0, size, 0);
    return { text: buffer.toString('utf8', 0, bytesRead), status: 200 };
  } catch (error) {
    return { state: 'unreadable', reason: 'read_error', detail: (error as NodeJS.ErrnoException).code ?? '' };
  } finally {
    await handle.close();
  }
}
