import { createHash } from 'node:crypto';

/**
 * Settings left out of the hash by their name. A hash of a secret is no safe thing to log: a guessable
 * one (a short password, a key from a leaked list) is found again by hashing the guesses.
 */
const SECRET_NAME = /(SECRET|PASSWORD|PASSWD|TOKEN|API_KEY|PRIVATE_KEY|CREDENTIAL)/i;

/**
 * A short fingerprint of a service's effective configuration (after defaults), for its `service_started`
 * line: two starts of the same version with different hashes ran with different settings, so a change
 * of behaviour can be told a configuration change, not a code change. Secrets are left out (settings
 * named like one, and `extraSecrets`), as is the password inside a URL: rotating one does not change
 * the hash, and the hash reveals nothing of them.
 */
export function configHash(config: Record<string, unknown>, extraSecrets: readonly string[] = []): string {
  const secrets = new Set(secretSettings(Object.keys(config), extraSecrets));
  const hashed = Object.keys(config)
    .filter((key) => !secrets.has(key))
    .sort()
    .map((key) => [key, withoutPassword(config[key])]);
  return createHash('sha256').update(JSON.stringify(hashed)).digest('hex').slice(0, 16);
}

/** The settings among `names` that are secrets: named like one, or among `extraSecrets`. */
export function secretSettings(names: readonly string[], extraSecrets: readonly string[] = []): string[] {
  return names.filter((name) => SECRET_NAME.test(name) || extraSecrets.includes(name));
}

/** A URL's password is a secret inside a setting that is not one (DATABASE_URL). */
function withoutPassword(value: unknown): unknown {
  if (typeof value !== 'string' || !URL.canParse(value)) return value;
  const url = new URL(value);
  if (!url.password) return value;
  url.password = '';
  return url.href;
}
