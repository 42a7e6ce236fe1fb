import Type, { type Static } from 'typebox';
import {
  databaseSettings,
  healthSettings,
  httpSettings,
  logSettings,
  metricsSettings,
  tracingSettings,
} from '../../platform/config/settings.ts';

export const PaymentSettings = Type.Object({
  ...httpSettings,
  PORT: Type.Integer({ minimum: 0, maximum: 65535, default: 3002 }),
  ...logSettings,
  ...metricsSettings,
  ...tracingSettings,
  ...databaseSettings,
  ...healthSettings,
  PAYMENT_API_KEY: Type.String({ minLength: 8, default: 'sk_test_steadfast_sandbox' }),
  // The webhook endpoint events are sent to, and its signing secret: both, or no webhooks.
  WEBHOOK_URL: Type.Optional(Type.String({ pattern: '^https?://', description: 'an http(s) URL' })),
  WEBHOOK_SECRET: Type.Optional(
    Type.String({ pattern: '^whsec_[A-Za-z0-9_-]{8,}$', description: 'a signing secret: whsec_...' }),
  ),
});

/** WEBHOOK_URL and WEBHOOK_SECRET come together: an endpoint with no secret could not check a signature. */
export function webhookSettingsProblems(config: Static<typeof PaymentSettings>): string[] {
  if ((config.WEBHOOK_URL === undefined) === (config.WEBHOOK_SECRET === undefined)) return [];
  const missing = config.WEBHOOK_URL === undefined ? 'WEBHOOK_URL' : 'WEBHOOK_SECRET';
  return [`Required environment variable '${missing}' is not set (the webhook endpoint needs both).`];
}
