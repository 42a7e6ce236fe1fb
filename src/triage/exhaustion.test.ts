import assert from 'node:assert/strict';
import { test } from 'node:test';
import { diagnose } from './diagnose.ts';
import { LogEvidence } from './LogEvidence.ts';
import { readScrape } from './MetricsEvidence.ts';
import { parsePrometheusText } from './prometheusText.ts';

const TIME = '2026-11-30T10:00:00.000Z';

/** The line createLogger writes on standard output when its log file's write failed. */
const fileWriteFailed = (errorClass: string, reason: string) =>
  JSON.stringify({
    level: 'error',
    time: TIME,
    service: 'checkout',
    version: '1.0.0',
    commit: 'abc',
    errorClass,
    reason,
    msg: 'log_file_write_failed',
  });

const served = JSON.stringify({
  level: 'info',
  time: TIME,
  service: 'checkout',
  msg: 'request_completed',
  endpoint: 'POST /api/carts',
  statusCode: 201,
});

function triage(lines: string[], scrape: string) {
  const logs = new LogEvidence();
  for (const [index, line] of lines.entries()) logs.add('checkout.log', index + 1, line);
  const { resources, findings } = readScrape('checkout.prom', parsePrometheusText(scrape));
  return diagnose({
    logs,
    resources,
    findings,
    now: new Date(TIME),
    read: {
      logFiles: ['checkout.log'],
      logLines: logs.lines,
      metrics: ['checkout.prom'],
      health: [],
      unreachable: [],
      sources: [{ kind: 'logs', source: 'checkout.log', state: 'read', lines: logs.lines }],
      passedOver: logs.passedOver,
      timedOut: false,
    },
  });
}

const FULL_LOG_DISK = `disk_free_bytes{path="data",service="checkout"} 8e10
disk_size_bytes{path="data",service="checkout"} 2.7e11
disk_free_bytes{path="logs",service="checkout"} 0
disk_size_bytes{path="logs",service="checkout"} 1048576
`;

test("a log file's failed write (ENOSPC) and the logs path's free bytes: one cause, the logs disk, with a time", () => {
  const report = triage(
    [served, fileWriteFailed('ENOSPC', 'ENOSPC: no space left on device, write')],
    FULL_LOG_DISK,
  );
  assert.equal(report.status, 'problem', report.headline);
  assert.equal(report.cause?.category, 'resource_exhaustion');
  assert.equal(report.cause?.kind, 'disk');
  assert.equal(report.cause?.subject, 'disk logs');
  assert.match(report.cause?.summary ?? '', /the log file's filesystem \(path "logs"\) is full \(ENOSPC\)/);
  // No request failed: the time is the failed write's.
  assert.equal(report.when.failures, 0);
  assert.equal(report.when.firstFailure, TIME);
  assert.deepEqual(
    report.cause?.evidence.map((e) => e.line.slice(0, 28)),
    ['msg=log_file_write_failed re', 'disk logs at 1048576 of 1048'],
  );
  assert.deepEqual(report.symptoms, [], 'the scrape and the line are the same cause');
  assert.equal(report.advice?.runbook, 'docs/runbooks.md#diskusage');
});

test("the logs path's free bytes alone name the logs disk; a failed write for another reason names no resource", () => {
  const scraped = triage([served], FULL_LOG_DISK);
  assert.equal(scraped.cause?.subject, 'disk logs');
  const lost = triage([served, fileWriteFailed('EACCES', 'EACCES: permission denied, open')], '');
  assert.equal(lost.status, 'healthy', lost.headline);
  // The file gone out of descriptors is that resource, not a disk.
  const emfile = triage([served, fileWriteFailed('EMFILE', 'EMFILE: too many open files, open')], '');
  assert.equal(emfile.cause?.kind, 'file_descriptors');
});

test('requests shed for the heap: the heap named as the cause, its bytes in use quoted, above the overload', () => {
  const report = triage(
    [served],
    `http_requests_shed_total{reason="heap_used",service="checkout"} 247
http_requests_shed_total{reason="in_flight",service="checkout"} 0
nodejs_heap_size_used_bytes{service="checkout"} 129201088
`,
  );
  assert.equal(report.cause?.kind, 'memory');
  assert.equal(report.cause?.subject, 'heap');
  assert.equal(report.cause?.summary, 'the V8 heap is near its limit');
  assert.match(
    report.cause?.evidence[0]?.line ?? '',
    /heap_used"\} 247: .*nodejs_heap_size_used_bytes 129201088$/,
  );
  assert.deepEqual(
    report.symptoms.map((s) => s.kind),
    ['overload'],
  );
});
