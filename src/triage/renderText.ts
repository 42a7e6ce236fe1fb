import { styleText } from 'node:util';
import { describeDeploy } from './deploys.ts';
import type { Finding, SourceRead, TriageReport } from './report.ts';
import { describeChange } from './templates.ts';
import { terminalSafe } from './terminalSafe.ts';

type Style = Parameters<typeof styleText>[0];
type Line = { text: string; style?: Style };

const EVIDENCE_WIDTH = 200;
/** A list a person reads; logs made to fill it (a thousand made-up dependencies) are in the JSON whole. */
const SHOWN_AT_MOST = 20;
const STATUS_STYLE: Record<TriageReport['status'], Style> = {
  healthy: ['bold', 'green'],
  problem: ['bold', 'red'],
  unknown: ['bold', 'yellow'],
};

/**
 * The report as a person reads it at 3 a.m.: the verdict first, then what decided it. Colour only on a
 * TTY. Each line is built as plain text and made terminal-safe whole before it is painted: evidence (log
 * text, labels, file names) can hold escape sequences, and none reaches the terminal raw.
 */
export function renderText(report: TriageReport, options: { color: boolean }): string {
  const out: Line[] = [];
  const push = (text: string, style?: Style) => out.push({ text, style });
  push(report.headline, STATUS_STYLE[report.status]);
  const { cause, when, advice } = report;
  if (cause) {
    push('');
    push('Cause', 'bold');
    push(`  ${cause.category}: ${cause.summary}`);
    push(
      `  ${cause.count} seen${cause.first ? `, first ${cause.first}` : ''}${cause.last ? `, last ${cause.last}` : ''}`,
    );
    for (const text of evidence(cause)) push(text, 'dim');
  }
  if (report.symptoms.length) {
    push('');
    push('Symptoms (explained by the cause)', 'bold');
    for (const symptom of report.symptoms.slice(0, SHOWN_AT_MOST)) {
      push(`  - ${symptom.summary} (${symptom.count}${symptom.first ? `, from ${symptom.first}` : ''})`);
      for (const text of evidence(symptom).slice(0, 2)) push(text, 'dim');
    }
    more(report.symptoms.length, 'symptoms', push);
  }
  if (when.firstFailure || when.failures) {
    push('');
    push('When', 'bold');
    push(
      `  first failure ${when.firstFailure ?? '-'}, last ${when.lastFailure ?? '-'}; ${when.failures} 5xx of ${when.requests} requests`,
    );
    push(`  shape: ${when.shape.join(', ') || '-'}`);
    if (when.deploy) push(`  follows ${describeDeploy(when.deploy)}`);
    const endpoints = Object.entries(when.endpoints);
    for (const [endpoint, count] of endpoints.slice(0, SHOWN_AT_MOST)) push(`  ${count} × ${endpoint}`);
    more(endpoints.length, 'endpoints', push);
  }
  if (report.abruptStops?.length) {
    push('');
    push('Lines that stopped with no shutdown logged (killed, or the machine gone)', 'bold');
    for (const stop of report.abruptStops.slice(0, SHOWN_AT_MOST)) {
      const after = stop.restartedAt
        ? `started again ${stop.restartedAt}`
        : `silent since, while others logged ${stop.silentForSeconds} s more`;
      push(`  ${stop.instance}: last line ${stop.lastLine.time ?? '-'}; ${after}`);
      push(`      ${stop.lastLine.at}  ${stop.lastLine.line}`, 'dim');
    }
    more(report.abruptStops.length, 'stops', push);
  }
  if (report.edge) {
    const { edge } = report;
    const kinds = Object.entries(edge.failuresByKind)
      .map(([kind, found]) => `${kind} ${found.count}`)
      .join(', ');
    push('');
    push("HAProxy's log, joined to the instances' by request id", 'bold');
    push(
      `  ${edge.requests} requests, ${edge.joined} joined, ${edge.failures} 5xx of which ${edge.madeByBalancer} made by HAProxy itself${kinds ? ` (${kinds})` : ''}${edge.joinHorizonReached ? '; some lines waited past the join' : ''}`,
    );
  }
  if (report.exceptionGroups.length) {
    push('');
    push('Exception groups', 'bold');
    for (const group of report.exceptionGroups.slice(0, 5)) {
      push(`  ${group.count} × ${group.errorClass} at ${group.frame}: ${group.message}`);
      push(
        `      ${group.first} .. ${group.last}; ${group.endpoints.join(', ')}; build ${group.versions.join(', ')}; e.g. ${group.sampleErrorIds.join(', ')}`,
        'dim',
      );
    }
  }
  if (report.templates.changes.length) {
    push('');
    push('What the logs began to say (templates)', 'bold');
    for (const change of report.templates.changes.slice(0, 5)) push(`  ${describeChange(change)}`);
  }
  const shown = report.resources.filter((r) => r.exhausted || r.name.startsWith('database pool'));
  if (shown.length) {
    push('');
    push('Resources (current of max)', 'bold');
    for (const resource of shown) {
      const of = resource.max !== undefined ? ` of ${format(resource.max, resource.unit)}` : '';
      const line = `  ${resource.name}: ${format(resource.current, resource.unit)}${of}, ${resource.source}`;
      if (resource.exhausted) push(`${line}  EXHAUSTED`, 'red');
      else push(line);
    }
  }
  if (advice) {
    push('');
    push('What to do', 'bold');
    push(`  ${advice.fix}`);
    push(`  runbook: ${advice.runbook}`);
    push(`  alerts: ${advice.alerts.map((a) => `${a.name} (${a.state})`).join(', ')}`);
  }
  sources(report.read, push);
  return `${out
    .map(({ text, style }) => {
      const safe = terminalSafe(text);
      return options.color && style ? styleText(style, safe, { validateStream: false }) : safe;
    })
    .join('\n')}\n`;
}

/** What was read and what was not: every source that was not read whole, and the lines passed over. */
function sources(read: TriageReport['read'], push: (text: string, style?: Style) => void): void {
  const missed = read.sources.filter((s) => s.state !== 'read');
  if (missed.length) {
    push('');
    push('Not read, or not whole', 'yellow');
    for (const source of missed.slice(0, SHOWN_AT_MOST)) push(`  ${source.source}: ${describe(source)}`);
    more(missed.length, 'sources', push);
  }
  const { passedOver } = read;
  if (passedOver.total) {
    const reasons = Object.entries(passedOver.reasons)
      .filter(([, count]) => count > 0)
      .map(([reason, count]) => `${reason} ${count}`);
    push('');
    push(`Log lines passed over: ${passedOver.total} (${reasons.join(', ')})`, 'yellow');
    for (const sample of passedOver.samples)
      push(`  ${sample.at}: ${sample.reason}: ${sample.detail}`, 'dim');
  }
  const count = (kind: SourceRead['kind']) =>
    read.sources.filter((s) => s.kind === kind && (s.state === 'read' || s.state === 'partial')).length;
  const of = (kind: SourceRead['kind']) => read.sources.filter((s) => s.kind === kind).length;
  push('');
  push(
    `Read ${read.logLines} log lines from ${count('logs')} of ${of('logs')} file(s), ${count('metrics')} of ${of('metrics')} metrics source(s), ${count('health')} of ${of('health')} health source(s)${read.timedOut ? '; the timeout ended the run' : ''}.`,
    'dim',
  );
}

function more(total: number, what: string, push: (text: string) => void): void {
  if (total > SHOWN_AT_MOST) push(`  ... and ${total - SHOWN_AT_MOST} more ${what} (all in --format json)`);
}

function describe(source: SourceRead): string {
  const lines =
    source.lines !== undefined && source.state !== 'skipped' ? `, ${source.lines} lines read` : '';
  return `${source.state}${source.reason ? ` (${source.reason})` : ''}${source.detail ? `: ${source.detail}` : ''}${lines}`;
}

function evidence(finding: Finding): string[] {
  // A line a person scans: shortened; the whole line is in the JSON and the log.
  return finding.evidence.map((e) => {
    const text = `    ${e.at}${e.time ? ` ${e.time}` : ''}  ${e.line}`;
    return text.length > EVIDENCE_WIDTH ? `${text.slice(0, EVIDENCE_WIDTH - 1)}…` : text;
  });
}

function format(value: number, unit: string): string {
  if (unit === 'bytes') return `${(value / 2 ** 20).toFixed(0)} MiB`;
  if (unit === 'seconds') return `${(value * 1000).toFixed(0)} ms`;
  return String(value);
}
