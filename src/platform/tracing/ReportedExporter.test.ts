import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { Writable } from 'node:stream';
import { test } from 'node:test';
import { type ExportResult, ExportResultCode } from '@opentelemetry/core';
import type { ReadableSpan, SpanExporter } from '@opentelemetry/sdk-trace';
import pino from 'pino';
import { ReportedExporter } from './ReportedExporter.ts';

/** An exporter that answers what it is told to: the collector's side is not this module's. */
class ScriptedExporter implements SpanExporter {
  next: ExportResult = { code: ExportResultCode.SUCCESS };
  export(_spans: ReadableSpan[], done: (result: ExportResult) => void): void {
    done(this.next);
  }
  async shutdown(): Promise<void> {}
}

test('failed exports are logged once a minute with the spans lost since; successes are not', () => {
  const lines: Record<string, unknown>[] = [];
  const logger = pino(
    new Writable({
      write(chunk, _encoding, done) {
        lines.push(JSON.parse(String(chunk)));
        done();
      },
    }),
  );
  let now = 0;
  const inner = new ScriptedExporter();
  const exporter = new ReportedExporter(inner, logger, () => now);
  const spans = (n: number) => Array.from({ length: n }) as ReadableSpan[];
  const results: ExportResultCode[] = [];
  const send = (n: number) => exporter.export(spans(n), (result) => results.push(result.code));

  send(3);
  inner.next = { code: ExportResultCode.FAILED, error: new Error('connect ECONNREFUSED 127.0.0.1:4318') };
  send(5);
  now = 30_000;
  send(7);
  now = 61_000;
  send(2);
  assert.deepEqual(results, [0, 1, 1, 1], 'every result goes back to the processor as it came');
  assert.deepEqual(
    lines.map((l) => [l.msg, l.spansLost, l.reason]),
    [
      ['span_export_failed', 5, 'connect ECONNREFUSED 127.0.0.1:4318'],
      ['span_export_failed', 9, 'connect ECONNREFUSED 127.0.0.1:4318'],
    ],
  );
});

test('the failure line names no trace, whatever span the batch was started in', () => {
  const script = `
    const { enablePropagation, startTrace, runInTrace } = await import(${JSON.stringify(new URL('./traceContext.ts', import.meta.url).href)});
    const { createLogger } = await import(${JSON.stringify(new URL('../logging/createLogger.ts', import.meta.url).href)});
    const { ReportedExporter } = await import(${JSON.stringify(new URL('./ReportedExporter.ts', import.meta.url).href)});
    enablePropagation();
    const log = await createLogger({ service: 's', version: '1', commit: 'c', level: 'info' });
    const down = { export: (_spans, done) => done({ code: 1, error: new Error('connect ECONNREFUSED') }), shutdown: async () => {} };
    const exporter = new ReportedExporter(down, log);
    runInTrace(startTrace('POST /api/carts'), () => exporter.export([], () => {}));`;
  const run = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
    encoding: 'utf8',
    timeout: 20_000,
  });
  assert.equal(run.status, 0, run.stderr);
  const line = JSON.parse(run.stdout.trim()) as Record<string, unknown>;
  assert.equal(line.msg, 'span_export_failed');
  assert.equal(line.trace_id, undefined, 'no request of its own to name');
});
