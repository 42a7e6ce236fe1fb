import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { test } from 'node:test';
import { TriageReport } from './report.ts';

// The published schema of `steadfast triage --format json` is the TypeBox schema the command checks its
// own output against, written out; UPDATE_SCHEMA=1 rewrites it after a change (and schemaVersion with it),
// then `npm run format` lays it out.
const PUBLISHED = new URL('../../docs/triage-report.schema.json', import.meta.url);

test('docs/triage-report.schema.json is the schema the command holds its output to', async () => {
  const current = JSON.parse(JSON.stringify(TriageReport));
  if (process.env.UPDATE_SCHEMA) await writeFile(PUBLISHED, `${JSON.stringify(current, null, 2)}\n`);
  assert.deepEqual(
    JSON.parse(await readFile(PUBLISHED, 'utf8')),
    current,
    'stale: run UPDATE_SCHEMA=1 node --test src/triage/report.test.ts',
  );
});
