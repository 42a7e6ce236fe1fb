import { randomBytes } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

export interface StackSecrets {
  postgresPassword: string;
  jwtSecret: string;
  paymentApiKey: string;
  /** The signing secret of the checkout's webhook endpoint, which the payment sandbox signs its events with. */
  webhookSecret: string;
  /** With `--ha`: the standby's login to the primary, for streaming replication. */
  replicationPassword: string;
}

const newSecrets = (): StackSecrets => ({
  postgresPassword: randomBytes(18).toString('base64url'),
  jwtSecret: randomBytes(32).toString('base64url'),
  paymentApiKey: `sk_test_${randomBytes(18).toString('base64url')}`,
  webhookSecret: `whsec_${randomBytes(24).toString('base64url')}`,
  replicationPassword: randomBytes(18).toString('base64url'),
});

/**
 * Secrets of a local stack: made once per data directory, kept beside the data so a restart reuses them.
 * A secret an older version did not make is added, the others kept.
 */
export async function loadOrCreateSecrets(dataDir: string): Promise<StackSecrets> {
  const path = join(dataDir, 'secrets.json');
  const kept = await readFile(path, 'utf8').then(
    (text) => JSON.parse(text) as Partial<StackSecrets>,
    () => ({}),
  );
  const secrets = { ...newSecrets(), ...kept };
  if (Object.keys(kept).length < Object.keys(secrets).length)
    await writeFile(path, `${JSON.stringify(secrets, null, 2)}\n`, { mode: 0o600 });
  return secrets;
}
