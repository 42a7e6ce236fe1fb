import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Gathered } from './diagnose.ts';
import { LogEvidence } from './LogEvidence.ts';
import { readLines, resolveLogSources } from './logSources.ts';
import { type MetricFinding, type Resource, readHealth, readScrape } from './MetricsEvidence.ts';
import { parsePrometheusText } from './prometheusText.ts';

export interface Sources {
  logs: string[];
  metrics: string[];
  health: string[];
  /** Lines older than this (epoch ms) are not read as failures. */
  since?: number;
}

/** How long a live source gets to answer: triage must answer in seconds even when the service hangs. */
const FETCH_TIMEOUT_MS = 3000;

/** Reads every source: logs streamed line by line, metrics and health fetched or read from saved files. */
export async function gather(sources: Sources): Promise<Gathered> {
  const logs = new LogEvidence({ since: sources.since });
  const logFiles: string[] = [];
  for (const argument of sources.logs) {
    for (const source of await resolveLogSources(argument)) {
      logFiles.push(source.path ?? source.name);
      let lineNo = 0;
      for await (const line of readLines(source)) logs.add(source.name, ++lineNo, line);
    }
  }
  const resources: Resource[] = [];
  const findings: MetricFinding[] = [];
  const unreachable: string[] = [];
  for (const source of sources.metrics) {
    const text = isUrl(source)
      ? await fetchText(source).catch(() => undefined)
      : await readFile(source, 'utf8');
    if (text === undefined) {
      unreachable.push(source);
      continue;
    }
    const scrape = readScrape(source, parsePrometheusText(text));
    resources.push(...scrape.resources);
    findings.push(...scrape.findings);
  }
  for (const url of sources.health) {
    const answer = await fetchJson(url).catch(() => undefined);
    if (!answer) unreachable.push(url);
    else findings.push(...readHealth(url, answer.status, answer.body));
  }
  return {
    logs,
    resources,
    findings,
    now: new Date(),
    read: {
      logFiles,
      logLines: logs.lines,
      metrics: sources.metrics.filter((s) => !unreachable.includes(s)),
      health: sources.health.filter((s) => !unreachable.includes(s)),
      unreachable,
    },
  };
}

/** The local stack's sources, from the stack.json that `steadfast start` writes. */
export async function localStackSources(dataDir: string): Promise<Sources> {
  const info = JSON.parse(await readFile(join(dataDir, 'stack.json'), 'utf8')) as {
    inventoryUrl: string;
    paymentUrl: string;
    instances: { url: string }[];
  };
  const checkouts = info.instances.map((instance) => instance.url);
  return {
    logs: [join(dataDir, 'logs')],
    metrics: [...checkouts, info.inventoryUrl, info.paymentUrl].map((url) => `${url}/metrics`),
    health: checkouts.map((url) => `${url}/health`),
  };
}

function isUrl(source: string): boolean {
  return /^https?:\/\//.test(source);
}

async function fetchText(url: string): Promise<string> {
  const response = await fetch(url, { signal: AbortSignal.timeout(FETCH_TIMEOUT_MS) });
  if (!response.ok) throw new Error(`${url} answered ${response.status}`);
  return response.text();
}

async function fetchJson(url: string): Promise<{ status: number; body: unknown }> {
  const response = await fetch(url, { signal: AbortSignal.timeout(FETCH_TIMEOUT_MS) });
  return { status: response.status, body: await response.json().catch(() => undefined) };
}
