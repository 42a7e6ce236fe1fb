import { parseHaproxyConfig } from '../doctor/haproxyConfig.ts';
import type { BalancerConfig } from './edgeDiagnosis.ts';
import { openRegularFile } from './regularFile.ts';

/** A configuration file is small; one larger than this is not read (it could be anything). */
const MAX_CONFIG_BYTES = 1024 * 1024;
const BACKEND = 'checkout';

/**
 * The `timeout server` of the HAProxy configuration at `path`, read as HAProxy reads it (the doctor's
 * reader: `"${NAME-default}"` taken from `env`), for the backend of the checkout (or the only one).
 */
export async function readBalancerConfig(path: string, env: NodeJS.ProcessEnv): Promise<BalancerConfig> {
  const opened = await openRegularFile(path);
  if (!('handle' in opened))
    return { file: path, state: 'unreadable', detail: opened.detail ?? opened.reason };
  let text: string;
  try {
    const { size } = await opened.handle.stat();
    if (size > MAX_CONFIG_BYTES)
      return { file: path, state: 'unreadable', detail: `larger than ${MAX_CONFIG_BYTES} bytes` };
    text = await opened.handle.readFile('utf8');
  } catch (error) {
    return { file: path, state: 'unreadable', detail: (error as NodeJS.ErrnoException).code ?? 'read error' };
  } finally {
    await opened.handle.close();
  }
  const config = parseHaproxyConfig(text, env);
  const backend =
    config.backends.find((b) => b.name === BACKEND) ??
    (config.backends.length === 1 ? config.backends[0] : undefined);
  const timeout = backend?.timeouts.server;
  if (!timeout)
    return { file: path, state: 'read', detail: `no 'timeout server' for the backend ${BACKEND}` };
  return { file: path, state: 'read', timeoutServerMs: timeout.value, line: timeout.line };
}
