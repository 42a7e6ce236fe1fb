import { randomBytes } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

export interface StackSecrets {
  postgresPassword: string;
  jwtSecret: string;
  paymentApiKey: string;
}

/** Secrets of a local stack: made once per data directory, kept beside the data so a restart reuses them. */
export async function loadOrCreateSecrets(dataDir: string): Promise<StackSecrets> {
  const path = join(dataDir, 'secrets.json');
  try {
    return JSON.parse(await readFile(path, 'utf8')) as StackSecrets;
  } catch {
    const secrets: StackSecrets = {
      postgresPassword: randomBytes(18).toString('base64url'),
      jwtSecret: randomBytes(32).toString('base64url'),
      paymentApiKey: `sk_test_${randomBytes(18).toString('base64url')}`,
    };
    await writeFile(path, `${JSON.stringify(secrets, null, 2)}\n`, { mode: 0o600 });
    return secrets;
  }
}
