/**
 * `npm run triage:evaluate`: triage on every recorded scenario, printed as the table docs/triage.md
 * publishes (scenario, expected cause, triage's verdict, right or wrong, time to verdict). Exit 1 on any
 * wrong verdict. The test suite runs the same through corpus.test.ts.
 */
import { readdir } from 'node:fs/promises';
import { CORPUS, EXPECTED, type Row, row, table, triageScenario } from './evaluation.ts';

const rows: Row[] = [];
for (const scenario of (await readdir(CORPUS)).sort()) {
  const expected = EXPECTED[scenario];
  if (!expected) throw new Error(`${scenario}: recorded, but no expected cause in evaluation.ts`);
  const { report, ms } = await triageScenario(scenario);
  rows.push(row(scenario, expected, report, ms));
}
process.stdout.write(table(rows));
process.exitCode = rows.every((r) => r.right) ? 0 : 1;
