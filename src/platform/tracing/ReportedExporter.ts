import { context, ROOT_CONTEXT } from '@opentelemetry/api';
import { type ExportResult, ExportResultCode } from '@opentelemetry/core';
import type { ReadableSpan, SpanExporter } from '@opentelemetry/sdk-trace';
import type { Logger } from 'pino';
import { logEvent } from '../../contract/logEvents.ts';

/** How often failed exports are said so in the log: a collector that is down fails every batch. */
const NOTICE_INTERVAL_MS = 60_000;

/**
 * An exporter that says in the log when its spans do not reach the collector: the SDK reports export
 * failures to nobody, so a wrong endpoint would otherwise lose every span in silence. One line a
 * minute at most, with the spans lost since the last one.
 */
export class ReportedExporter implements SpanExporter {
  readonly #inner: SpanExporter;
  readonly #logger: Logger;
  readonly #now: () => number;
  #noticedAt = Number.NEGATIVE_INFINITY;
  #lost = 0;

  constructor(inner: SpanExporter, logger: Logger, now: () => number = Date.now) {
    this.#inner = inner;
    this.#logger = logger;
    this.#now = now;
  }

  export(spans: ReadableSpan[], done: (result: ExportResult) => void): void {
    this.#inner.export(spans, (result) => {
      if (result.code !== ExportResultCode.SUCCESS) this.#failed(spans.length, result.error);
      done(result);
    });
  }

  #failed(spans: number, error: Error | undefined): void {
    this.#lost += spans;
    if (this.#now() - this.#noticedAt < NOTICE_INTERVAL_MS) return;
    this.#noticedAt = this.#now();
    // Outside any trace: the batch's timer runs in the context of whichever span started it, and the
    // line would name that request.
    context.with(ROOT_CONTEXT, () =>
      logEvent(this.#logger, 'warn', 'span_export_failed', {
        errorClass: error?.name ?? 'Error',
        reason: error?.message ?? 'the collector refused the spans',
        spansLost: this.#lost,
      }),
    );
    this.#lost = 0;
  }

  shutdown(): Promise<void> {
    return this.#inner.shutdown();
  }

  forceFlush(): Promise<void> {
    return this.#inner.forceFlush?.() ?? Promise.resolve();
  }
}
