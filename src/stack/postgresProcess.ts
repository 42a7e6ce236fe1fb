/**
 * PostgreSQL as a child process of `steadfast start`, so that the supervisor decides when it stops:
 * after the services that use it, never at the same moment as they do.
 */
import { startEmbeddedPostgres } from './embeddedPostgres.ts';

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

let stopping = false;
const stop = async () => {
  if (stopping) return;
  stopping = true;
  clearInterval(watch);
  await server.stop();
  process.exit(0);
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
