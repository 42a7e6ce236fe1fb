import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { findBinary, type Supervise, superviseBinary } from './binaries.ts';
import { freePort } from './freePort.ts';
import type { ManagedProcess } from './ManagedProcess.ts';

/** The shipped collector configuration (ops/): it reads where to listen and write from three variables. */
export const RSYSLOG_CONFIG = fileURLToPath(new URL('../../ops/rsyslog/rsyslog.conf', import.meta.url));

export interface RunningLogCollector {
  /** What the services ship to: LOG_SYSLOG_URL. */
  url: string;
  /** One file per instance and day: what `steadfast triage --logs` reads. */
  logsDir: string;
  process: ManagedProcess;
}

/**
 * `steadfast start --central-logs`: rsyslog with the shipped configuration on a free loopback port, its
 * files under `<dir>/logs`, its queue under `<dir>/work`. Undefined when rsyslog is not installed (`say`
 * tells how to install it).
 */
export async function startLogCollector(options: {
  dir: string;
  supervise: Supervise;
  say: (message: string) => void;
}): Promise<RunningLogCollector | undefined> {
  const binary = findBinary(['rsyslogd']);
  if (!binary) {
    options.say(
      'central logs: rsyslog is not installed; on Debian or Ubuntu: sudo apt-get install rsyslog, then start again',
    );
    return undefined;
  }
  const logsDir = join(options.dir, 'logs');
  const workDir = join(options.dir, 'work');
  await mkdir(logsDir, { recursive: true, mode: 0o700 });
  await mkdir(workDir, { recursive: true, mode: 0o700 });
  const port = await freePort();
  options.say(`starting the log collector (rsyslog; one file per service and day in ${logsDir})`);
  const collector = superviseBinary(
    options.supervise,
    'rsyslog',
    binary,
    // In the foreground, under the wrapper; its pid file in the work directory, not /run.
    ['-n', '-f', RSYSLOG_CONFIG, '-i', join(workDir, 'rsyslogd.pid')],
    `tcp://127.0.0.1:${port}`,
    { COLLECTOR_PORT: String(port), COLLECTOR_LOGS_DIR: logsDir, COLLECTOR_WORK_DIR: workDir },
  );
  await collector.start();
  return { url: `tcp://127.0.0.1:${port}`, logsDir, process: collector };
}
