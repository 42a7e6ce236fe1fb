import Type from 'typebox';
import {
  databaseSettings,
  healthSettings,
  httpSettings,
  logSettings,
  metricsSettings,
} from '../../platform/config/settings.ts';

export const PaymentSettings = Type.Object({
  ...httpSettings,
  PORT: Type.Integer({ minimum: 0, maximum: 65535, default: 3002 }),
  ...logSettings,
  ...metricsSettings,
  ...databaseSettings,
  ...healthSettings,
  PAYMENT_API_KEY: Type.String({ minLength: 8, default: 'sk_test_steadfast_sandbox' }),
});
