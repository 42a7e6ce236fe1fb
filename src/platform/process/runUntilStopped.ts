import { setTimeout as sleep } from 'node:timers/promises';
import closeWithGrace from 'close-with-grace';
import type { Logger } from 'pino';
import { logEvent } from '../../contract/logEvents.ts';

export interface ShutdownState {
  draining: boolean;
}

export interface RunOptions {
  logger: Logger;
  state: ShutdownState;
  /** How long readiness answers 503 before the listener closes, so load balancers stop sending traffic. */
  drainDelayMs: number;
  /** The longest the whole shutdown may take before the process is ended anyway. */
  timeoutMs: number;
  /** Closes the listener (after in-flight requests finish), then pools and clients, in this order. */
  close: () => Promise<void>;
  /** Delivers the log lines still held for a collector, the last ones included, before the exit. */
  flushLogs?: (() => Promise<void>) | undefined;
}

/**
 * Owns the end of the process. SIGTERM/SIGINT: readiness goes 503, the drain delay passes, in-flight
 * requests finish, resources close, exit 0. An uncaught exception or unhandled rejection is logged as
 * fatal with its stack, never swallowed, and the process exits 1 after a short close.
 */
export function runUntilStopped(options: RunOptions): void {
  const { logger, state } = options;
  const grace = closeWithGrace(
    { delay: options.timeoutMs, logger: false },
    async ({ signal, err, manual }) => {
      state.draining = true;
      if (err) {
        logEvent(
          logger,
          'fatal',
          'fatal_error',
          { errorClass: err.constructor?.name ?? 'Error', stack: err.stack },
          `fatal: ${err.message}`,
        );
      } else {
        logEvent(logger, 'info', 'shutdown_started', {
          signal: signal ?? (manual ? 'parent_gone' : undefined),
        });
        await sleep(options.drainDelayMs);
      }
      await options.close();
      logEvent(logger, 'info', 'shutdown_complete', { exitCode: err ? 1 : 0 });
      await options.flushLogs?.();
      if (err) throw err;
    },
  );
  // Started by `steadfast start`: when the supervisor goes away, so do we, gracefully.
  process.once('disconnect', () => grace.close());
}
