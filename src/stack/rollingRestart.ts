import type { HaproxyAdmin } from './HaproxyAdmin.ts';
import type { ManagedProcess } from './ManagedProcess.ts';

/** How long a drained instance may take to finish its requests before it is restarted anyway. */
const DRAIN_TIMEOUT_MS = 20_000;
const READY_TIMEOUT_MS = 60_000;

/**
 * Restarts the checkout instances one by one, so that the others serve meanwhile: HAProxy first stops
 * sending the instance new requests (drain) and lets it finish the ones it has; then the instance gets
 * SIGTERM, drains in its turn and exits; it starts again on the same port; HAProxy sends it traffic again
 * once its readiness check passes. Without a balancer (one instance) it is a plain restart.
 */
export async function rollingRestart(
  instances: readonly ManagedProcess[],
  balancer: HaproxyAdmin | undefined,
  say: (message: string) => void,
): Promise<void> {
  for (const instance of instances) {
    const { name } = instance;
    if (balancer) {
      await balancer.setState(name, 'drain');
      await balancer
        .waitFor(name, (s) => s.sessions === 0, DRAIN_TIMEOUT_MS, 'idle')
        .catch(() => {
          say(
            `rolling restart: ${name} still had requests after ${DRAIN_TIMEOUT_MS} ms; restarting it anyway`,
          );
        });
    }
    say(`rolling restart: restarting ${name}`);
    await instance.restart();
    if (balancer) {
      await balancer.setState(name, 'ready');
      await balancer.waitFor(name, (s) => s.status === 'UP', READY_TIMEOUT_MS, 'UP behind HAProxy');
    }
  }
  say(`rolling restart: ${instances.length} instance(s) restarted`);
}
