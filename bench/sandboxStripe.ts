import Stripe from 'stripe';

/** Stripe's SDK with its defaults, pointed at the payment sandbox (`apiBase`), as its README shows. */
export function sandboxStripe(apiBase: string, secretKey: string): Stripe {
  const base = new URL(apiBase);
  return new Stripe(secretKey, {
    host: base.hostname,
    port: base.port,
    protocol: base.protocol === 'https:' ? 'https' : 'http',
  });
}
