import { setTimeout as sleep } from 'node:timers/promises';
import closeWithGrace from 'close-with-grace';
import type { Logger } from 'pino';

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
        logger.fatal(
          { errorClass: err.constructor?.name ?? 'Error', stack: err.stack, event: 'fatal_error' },
          `fatal: ${err.message}`,
        );
      } else {
        logger.info({ signal: signal ?? (manual ? 'parent_gone' : undefined) }, 'shutdown_started');
        await sleep(options.drainDelayMs);
      }
      await options.close();
      logger.info({ exitCode: err ? 1 : 0 }, 'shutdown_complete');
      if (err) throw err;
    },
  );
  // Started by `steadfast start`: when the supervisor goes away, so do we, gracefully.
  process.once('disconnect', () => grace.close());
}
