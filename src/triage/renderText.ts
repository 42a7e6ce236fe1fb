import { styleText } from 'node:util';
import type { Finding, TriageReport } from './report.ts';

type Style = Parameters<typeof styleText>[0];

const EVIDENCE_WIDTH = 200;

/** The report as a person reads it at 3 a.m.: the verdict first, then what decided it. Colour only on a TTY. */
export function renderText(report: TriageReport, options: { color: boolean }): string {
  const paint = (style: Style, text: string) =>
    options.color ? styleText(style, text, { validateStream: false }) : text;
  const out: string[] = [];
  out.push(paint(['bold', report.status === 'healthy' ? 'green' : 'red'], report.headline));
  const { cause, when, advice } = report;
  if (cause) {
    out.push('', paint('bold', 'Cause'), `  ${cause.category}: ${cause.summary}`);
    out.push(
      `  ${cause.count} seen${cause.first ? `, first ${cause.first}` : ''}${cause.last ? `, last ${cause.last}` : ''}`,
    );
    out.push(...evidence(cause, paint));
  }
  if (report.symptoms.length) {
    out.push('', paint('bold', 'Symptoms (explained by the cause)'));
    for (const symptom of report.symptoms) {
      out.push(`  - ${symptom.summary} (${symptom.count}${symptom.first ? `, from ${symptom.first}` : ''})`);
      out.push(...evidence(symptom, paint).slice(0, 2));
    }
  }
  if (when.firstFailure || when.failures) {
    out.push('', paint('bold', 'When'));
    out.push(
      `  first failure ${when.firstFailure ?? '-'}, last ${when.lastFailure ?? '-'}; ${when.failures} 5xx of ${when.requests} requests`,
    );
    out.push(`  shape: ${when.shape.join(', ') || '-'}`);
    if (when.deploy)
      out.push(
        `  follows the deploy of ${when.deploy.service} ${when.deploy.version}+${when.deploy.commit} at ${when.deploy.time} (was ${when.deploy.previousVersion}+${when.deploy.previousCommit})`,
      );
    for (const [endpoint, count] of Object.entries(when.endpoints)) out.push(`  ${count} × ${endpoint}`);
  }
  if (report.exceptionGroups.length) {
    out.push('', paint('bold', 'Exception groups'));
    for (const group of report.exceptionGroups.slice(0, 5)) {
      out.push(`  ${group.count} × ${group.errorClass} at ${group.frame}: ${group.message}`);
      out.push(
        paint(
          'dim',
          `      ${group.first} .. ${group.last}; ${group.endpoints.join(', ')}; build ${group.versions.join(', ')}; e.g. ${group.sampleErrorIds.join(', ')}`,
        ),
      );
    }
  }
  const shown = report.resources.filter((r) => r.exhausted || r.name.startsWith('database pool'));
  if (shown.length) {
    out.push('', paint('bold', 'Resources (current of max)'));
    for (const resource of shown) {
      const of = resource.max !== undefined ? ` of ${format(resource.max, resource.unit)}` : '';
      const line = `  ${resource.name}: ${format(resource.current, resource.unit)}${of}, ${resource.source}`;
      out.push(resource.exhausted ? paint('red', `${line}  EXHAUSTED`) : line);
    }
  }
  if (advice) {
    out.push('', paint('bold', 'What to do'), `  ${advice.fix}`, `  runbook: ${advice.runbook}`);
    out.push(`  alerts: ${advice.alerts.map((a) => `${a.name} (${a.state})`).join(', ')}`);
  }
  if (report.read.unreachable.length)
    out.push('', paint('yellow', `Did not answer: ${report.read.unreachable.join(', ')}`));
  out.push(
    '',
    paint(
      'dim',
      `Read ${report.read.logLines} log lines from ${report.read.logFiles.length} file(s), ${report.read.metrics.length} metrics source(s), ${report.read.health.length} health source(s).`,
    ),
  );
  return `${out.join('\n')}\n`;
}

function evidence(finding: Finding, paint: (style: Style, text: string) => string): string[] {
  // A line a person scans: shortened; the whole line is in the JSON and the log.
  return finding.evidence.map((e) => {
    const text = `    ${e.at}${e.time ? ` ${e.time}` : ''}  ${e.line}`;
    return paint('dim', text.length > EVIDENCE_WIDTH ? `${text.slice(0, EVIDENCE_WIDTH - 1)}…` : text);
  });
}

function format(value: number, unit: string): string {
  if (unit === 'bytes') return `${(value / 2 ** 20).toFixed(0)} MiB`;
  if (unit === 'seconds') return `${(value * 1000).toFixed(0)} ms`;
  return String(value);
}
