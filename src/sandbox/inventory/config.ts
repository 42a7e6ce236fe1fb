import Type from 'typebox';
import {
  databaseSettings,
  healthSettings,
  httpSettings,
  logSettings,
  metricsSettings,
  tracingSettings,
} from '../../platform/config/settings.ts';

export const InventorySettings = Type.Object({
  ...httpSettings,
  PORT: Type.Integer({ minimum: 0, maximum: 65535, default: 3001 }),
  ...logSettings,
  ...metricsSettings,
  ...tracingSettings,
  ...databaseSettings,
  ...healthSettings,
  RESERVATION_SWEEP_INTERVAL_MS: Type.Integer({ minimum: 100, default: 5000 }),
});
