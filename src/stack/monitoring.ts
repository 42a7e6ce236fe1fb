import { copyFile, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';
import { findBinary, type Supervise, superviseBinary } from './binaries.ts';
import { freePort } from './freePort.ts';
import type { ManagedProcess } from './ManagedProcess.ts';

/** The shipped monitoring configuration (ops/). */
export const RULES_FILE = fileURLToPath(
  new URL('../../ops/prometheus/rules/steadfast.rules.yml', import.meta.url),
);
export const ALERTMANAGER_CONFIG = fileURLToPath(
  new URL('../../ops/alertmanager/alertmanager.yml', import.meta.url),
);

export interface ScrapeTarget {
  /** The service's name, as its metrics' `service` label says it. */
  service: string;
  url: string;
}

/**
 * A Prometheus configuration that scrapes the given services (job `steadfast`, as the rules expect),
 * evaluates the given rule files and sends alerts to Alertmanager.
 */
export function prometheusConfig(options: {
  targets: readonly ScrapeTarget[];
  ruleFiles: readonly string[];
  alertmanagerUrl: string;
  interval: string;
}): string {
  return stringify({
    global: { scrape_interval: options.interval, evaluation_interval: options.interval },
    rule_files: options.ruleFiles,
    alerting: { alertmanagers: [{ static_configs: [{ targets: [new URL(options.alertmanagerUrl).host] }] }] },
    scrape_configs: [
      {
        job_name: 'steadfast',
        // The services label their own metrics with `service`; the target's label is the same name.
        honor_labels: true,
        static_configs: options.targets.map((target) => ({
          targets: [new URL(target.url).host],
          labels: { service: target.service },
        })),
      },
    ],
  });
}

/** Command lines of the two servers, bound to loopback, their data under `dataDir`. */
export function prometheusArgs(configFile: string, dataDir: string, port: number): string[] {
  return [
    `--config.file=${configFile}`,
    `--storage.tsdb.path=${dataDir}`,
    `--web.listen-address=127.0.0.1:${port}`,
    '--storage.tsdb.retention.time=7d',
  ];
}

export function alertmanagerArgs(configFile: string, dataDir: string, port: number): string[] {
  return [
    `--config.file=${configFile}`,
    `--storage.path=${dataDir}`,
    `--web.listen-address=127.0.0.1:${port}`,
    // One Alertmanager, not a cluster: nothing listens on the gossip port.
    '--cluster.listen-address=',
  ];
}

/** Debian's names first: `prometheus-alertmanager` is how Debian ships Alertmanager. */
export const BINARIES = {
  prometheus: ['prometheus'],
  alertmanager: ['prometheus-alertmanager', 'alertmanager'],
} as const;

export interface RunningMonitoring {
  prometheusUrl: string;
  alertmanagerUrl: string;
  processes: { prometheus: ManagedProcess; alertmanager: ManagedProcess };
}

/**
 * `steadfast start --monitoring`: Prometheus with the shipped rules, scraping `targets`, and Alertmanager
 * with the shipped routes; configuration and data under `dir`. Undefined when they are not installed
 * (`say` tells how to install them).
 */
export async function startMonitoring(options: {
  dir: string;
  targets: readonly ScrapeTarget[];
  prometheusPort: number;
  alertmanagerPort: number;
  supervise: Supervise;
  say: (message: string) => void;
}): Promise<RunningMonitoring | undefined> {
  const prometheusBinary = findBinary(BINARIES.prometheus);
  const alertmanagerBinary = findBinary(BINARIES.alertmanager);
  if (!prometheusBinary || !alertmanagerBinary) {
    options.say(
      'monitoring: Prometheus and Alertmanager are not installed; on Debian or Ubuntu: ' +
        'sudo apt-get install prometheus prometheus-alertmanager (elsewhere: prometheus.io/download), then start again',
    );
    return undefined;
  }
  const { dir } = options;
  await mkdir(dir, { recursive: true });
  const port = async (wanted: number) => (wanted === 0 ? freePort() : wanted);
  const alertmanagerPort = await port(options.alertmanagerPort);
  const prometheusPort = await port(options.prometheusPort);
  const alertmanagerUrl = `http://127.0.0.1:${alertmanagerPort}`;
  const prometheusUrl = `http://127.0.0.1:${prometheusPort}`;
  const alertmanagerConfig = join(dir, 'alertmanager.yml');
  await copyFile(ALERTMANAGER_CONFIG, alertmanagerConfig);
  const prometheusConfigFile = join(dir, 'prometheus.yml');
  await writeFile(
    prometheusConfigFile,
    prometheusConfig({ targets: options.targets, ruleFiles: [RULES_FILE], alertmanagerUrl, interval: '15s' }),
  );
  options.say('starting Prometheus and Alertmanager');
  const alertmanager = superviseBinary(
    options.supervise,
    'alertmanager',
    alertmanagerBinary,
    alertmanagerArgs(alertmanagerConfig, join(dir, 'alertmanager-data'), alertmanagerPort),
    `${alertmanagerUrl}/-/ready`,
  );
  const prometheus = superviseBinary(
    options.supervise,
    'prometheus',
    prometheusBinary,
    prometheusArgs(prometheusConfigFile, join(dir, 'prometheus-data'), prometheusPort),
    `${prometheusUrl}/-/ready`,
  );
  await Promise.all([alertmanager.start(), prometheus.start()]);
  return { prometheusUrl, alertmanagerUrl, processes: { prometheus, alertmanager } };
}
