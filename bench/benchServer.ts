import type { FastifyInstance } from 'fastify';
import type pg from 'pg';

/** Listens on a free port, tells the bench (the parent process) its URL, and stops cleanly on SIGTERM. */
export async function runBenchServer(app: FastifyInstance, pool: pg.Pool): Promise<void> {
  const address = await app.listen({ host: '127.0.0.1', port: 0 });
  process.send?.({ type: 'listening', url: address });
  process.on('SIGTERM', async () => {
    await app.close();
    await pool.end();
    process.exit(0);
  });
}
