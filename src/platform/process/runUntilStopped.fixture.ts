// A process run by runUntilStopped.test.ts: fails in the way named by its argument.
import pino from 'pino';
import { runUntilStopped, type ShutdownState } from './runUntilStopped.ts';

// Synchronous writes, as the services' own logger: the test reads the order of the lines.
const logger = pino(
  { base: null, timestamp: false, formatters: { level: (label) => ({ level: label }) } },
  pino.destination({ dest: 1, sync: true }),
);
const state: ShutdownState = { draining: false };
runUntilStopped({
  logger,
  state,
  drainDelayMs: 50,
  timeoutMs: 5000,
  close: async () => {
    logger.info({ draining: state.draining }, 'closed');
  },
});
const keepAlive = setInterval(() => {}, 1000);
logger.info('ready');
const mode = process.argv[2];
if (mode === 'reject') void Promise.reject(new Error('nobody caught this'));
if (mode === 'throw') {
  setTimeout(() => {
    throw new Error('thrown from a timer');
  }, 10);
}
if (mode === 'none') clearInterval(keepAlive);
