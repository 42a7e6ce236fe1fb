import { fileURLToPath } from 'node:url';
import { logEvent } from '../../contract/logEvents.ts';
import { Services } from '../../contract/services.ts';
import { databaseFromSettings } from '../../platform/database/Database.ts';
import { registerHealthRoutes } from '../../platform/health/healthRoutes.ts';
import { createHttpServer } from '../../platform/http/createHttpServer.ts';
import { databaseCheck } from '../../platform/preflight/preflight.ts';
import { bootService, type ServiceSpec } from '../../platform/process/bootService.ts';
import { FaultSwitch } from '../faultSwitch.ts';
import { registerInventoryRoutes } from './app.ts';
import { InventorySettings } from './config.ts';
import { StockStore } from './StockStore.ts';

export const INVENTORY_MIGRATIONS = [fileURLToPath(new URL('./migrations', import.meta.url))];

export const inventoryService: ServiceSpec<typeof InventorySettings> = {
  service: Services.inventory,
  schema: InventorySettings,
  preflight: (config) => [
    databaseCheck(config.DATABASE_URL, INVENTORY_MIGRATIONS, config.DB_CONNECT_TIMEOUT_MS),
  ],
  build: async (config, { logger, state, metrics, management }) => {
    const db = databaseFromSettings(config, 'inventory', metrics);
    metrics.watchPool(db);
    const store = new StockStore(db);
    const app = createHttpServer({
      logger,
      metrics,
      // With a management listener, that one serves /metrics.
      metricsRoute: !management,
      bodyLimit: config.BODY_LIMIT_BYTES,
      headersTimeoutMs: config.HEADERS_TIMEOUT_MS,
      requestTimeoutMs: config.REQUEST_TIMEOUT_MS,
      isDraining: () => state.draining,
    });
    registerHealthRoutes([app, management], {
      databaseUrl: config.DATABASE_URL,
      dependencies: [],
      settings: config,
      isDraining: () => state.draining,
    });
    registerInventoryRoutes(app, store, new FaultSwitch(), config.NODE_ENV === 'production');
    const sweeper = setInterval(() => {
      store
        .expireDue()
        .then((n) => n > 0 && logEvent(logger, 'info', 'reservations_expired', { expired: n }))
        .catch((error: Error) =>
          logEvent(logger, 'warn', 'reservation_sweep_failed', {
            errorClass: error.name,
            stack: error.stack,
          }),
        );
    }, config.RESERVATION_SWEEP_INTERVAL_MS);
    sweeper.unref();
    return {
      app,
      closeResources: async () => {
        clearInterval(sweeper);
        await db.close();
      },
    };
  },
};

// Run as a program (by `steadfast start`), not imported.
if (import.meta.filename === process.argv[1]) await bootService(inventoryService);
