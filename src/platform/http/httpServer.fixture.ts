import { Writable } from 'node:stream';
import pino from 'pino';
import type { ServerErrorNote } from '../dashboard/RecentErrors.ts';
import { PlatformMetrics } from '../metrics/PlatformMetrics.ts';
import { createHttpServer, type HttpServerOptions } from './createHttpServer.ts';

/**
 * A server of the HTTP contract as the tests of this folder use it, with no route of its own: its log
 * lines parsed as they are written, its metrics, and the 5xx notes the dashboard would list.
 */
export function serverWithLogs(options: Partial<Omit<HttpServerOptions, 'logger' | 'metrics'>> = {}) {
  const lines: Record<string, unknown>[] = [];
  const serverErrors: ServerErrorNote[] = [];
  const sink = new Writable({
    write(chunk, _encoding, done) {
      lines.push(JSON.parse(String(chunk)));
      done();
    },
  });
  const metrics = new PlatformMetrics('test');
  const app = createHttpServer({
    logger: pino(sink),
    metrics,
    bodyLimit: 1024,
    onServerError: (note) => serverErrors.push(note),
    ...options,
  });
  return { app, lines, metrics, serverErrors };
}
