import type { FastifyInstance } from 'fastify';
import type pg from 'pg';

/**
 * Listens on a free port, tells the bench (the parent process) its URL, and stops cleanly on SIGTERM:
 * `beforeClose` ends the server's own background work before its pool goes.
 */
export async function runBenchServer(
  app: FastifyInstance,
  pool?: pg.Pool,
  beforeClose: () => Promise<void> = async () => {},
): Promise<void> {
  const address = await app.listen({ host: '127.0.0.1', port: 0 });
  process.send?.({ type: 'listening', url: address });
  process.on('SIGTERM', async () => {
    await app.close();
    await beforeClose();
    await pool?.end();
    process.exit(0);
  });
}
