import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';

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

/** The first of `names` found on PATH, as an absolute path; undefined when none is installed. */
export function findBinary(names: readonly string[]): string | undefined {
  for (const name of names) {
    for (const dir of (process.env.PATH ?? '').split(delimiter)) {
      const candidate = join(dir, name);
      try {
        accessSync(candidate, constants.X_OK);
        return candidate;
      } catch {}
    }
  }
  return undefined;
}
