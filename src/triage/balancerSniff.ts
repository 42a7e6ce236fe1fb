import { constants, createGunzip } from 'node:zlib';
import { looksLikeBalancerLine, looksLikeBalancerMessage } from './balancerLog.ts';
import type { LogSource } from './logSources.ts';
import { openRegularFile } from './regularFile.ts';

/** How much of a file's head is looked at: a few lines of any log. */
const HEAD_BYTES = 16 * 1024;

/**
 * True when a source may hold HAProxy's lines: standard input (it cannot be looked at twice), or a file
 * whose first lines are the balancer's (compressed or not; by its bytes, not its name). Only then do the
 * instances' lines wait for their twin in the balancer's log: without one, the join costs nothing.
 */
export async function mayHoldBalancerLines(source: LogSource): Promise<boolean> {
  if (!source.path) return true;
  const opened = await openRegularFile(source.path);
  if (!('handle' in opened)) return false;
  try {
    const head = Buffer.alloc(HEAD_BYTES);
    const { bytesRead } = await opened.handle.read(head, 0, HEAD_BYTES, 0);
    let bytes: Buffer = head.subarray(0, bytesRead);
    if (bytes[0] === 0x1f && bytes[1] === 0x8b) bytes = await inflatedHead(bytes);
    return bytes
      .toString('utf8')
      .split('\n')
      .some((line) => looksLikeBalancerLine(line) || looksLikeBalancerMessage(line));
  } catch {
    return false;
  } finally {
    await opened.handle.close();
  }
}

/** The first bytes a cut gzip stream inflates to (at most HEAD_BYTES): the rest is not wanted. */
function inflatedHead(compressed: Buffer): Promise<Buffer> {
  return new Promise((resolve) => {
    const gunzip = createGunzip({ finishFlush: constants.Z_SYNC_FLUSH });
    const parts: Buffer[] = [];
    let length = 0;
    const done = () => {
      gunzip.destroy();
      resolve(Buffer.concat(parts).subarray(0, HEAD_BYTES));
    };
    gunzip.on('data', (chunk: Buffer) => {
      parts.push(chunk);
      length += chunk.length;
      if (length >= HEAD_BYTES) done();
    });
    gunzip.on('end', done);
    gunzip.on('error', done);
    gunzip.end(compressed);
  });
}
