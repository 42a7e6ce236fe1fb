import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import Value from 'typebox/value';
import { diagnose } from '../../src/triage/diagnose.ts';
import { gather } from '../../src/triage/gather.ts';
import { renderText } from '../../src/triage/renderText.ts';
import { TriageReport } from '../../src/triage/report.ts';

// A failure no rule of the decision tree knows: 503s whose only account is a warning in words triage has
// no pattern for (no stack, no errorId, no dependency named). The log templates are then the evidence.
const START = Date.parse('2026-11-30T10:00:00.000Z');
const FAILURE_AT = START + 30_000;

function line(at: number, fields: Record<string, unknown>): string {
  return JSON.stringify({
    level: 'info',
    time: new Date(at).toISOString(),
    service: 'checkout',
    version: '0.1.0',
    commit: 'abc123',
    ...fields,
  });
}

function log(): string {
  const lines: string[] = [line(START - 1000, { event: 'service_started', msg: 'service_started', pid: 1 })];
  for (let at = START; at < START + 60_000; at += 250) {
    const failing = at >= FAILURE_AT;
    // A warning that is there all along, at the same rate: not what changed.
    if (at % 5000 === 0) lines.push(line(at, { level: 'warn', msg: `cache refreshed late by ${at % 97}ms` }));
    if (failing)
      lines.push(
        line(at, {
          level: 'warn',
          msg: `ledger append refused: quota of tenant ${at % 13} exhausted (request ${at.toString(16)})`,
        }),
      );
    lines.push(
      line(at, {
        msg: 'request_completed',
        endpoint: 'POST /api/checkout/complete',
        statusCode: failing ? 503 : 201,
        ...(failing ? { error: 'SERVICE_TEMPORARILY_UNAVAILABLE' } : {}),
        durationMs: 12,
      }),
    );
  }
  return `${lines.join('\n')}\n`;
}

describe('an error no rule knows', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'triage-unknown-'));
    await writeFile(join(dir, 'checkout.log'), log());
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  test('its new log template is the evidence of the fallback verdict, never dropped', async () => {
    const report = diagnose(await gather({ logs: [dir], metrics: [], health: [] }));
    assert.ok(Value.Check(TriageReport, report), 'the report matches its schema');
    assert.equal(report.status, 'problem');
    assert.equal(report.cause?.category, 'unhandled_exception', 'the tree falls back to "any other 5xx"');
    assert.equal(report.when.firstFailure, new Date(FAILURE_AT).toISOString());
    const named =
      'new since the failure: `ledger append refused: quota of tenant <*> exhausted (request <*>` (120 times)';
    assert.match(report.cause?.summary ?? '', /no rule explains/);
    assert.ok(
      report.cause?.evidence.some((e) => e.line === named),
      JSON.stringify(report.cause?.evidence, null, 1),
    );
    assert.ok(report.headline.includes(named), report.headline);
    // The steady warning is not a finding; the 503s are a new template of their own.
    assert.deepEqual(
      report.templates.changes.map((c) => [c.template, c.change, c.before, c.after]),
      [
        [
          'checkout answered 503 SERVICE_TEMPORARILY_UNAVAILABLE to POST /api/checkout/complete',
          'new',
          0,
          120,
        ],
        ['ledger append refused: quota of tenant <*> exhausted (request <*>', 'new', 0, 120],
      ],
    );
    const text = renderText(report, { color: false });
    assert.match(text, /What the logs began to say \(templates\)/);
    assert.ok(text.includes(named), text);
  });
});
