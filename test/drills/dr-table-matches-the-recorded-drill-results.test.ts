/**
 * The DR table in runbooks/README.md and each DR runbook's figures are generated from
 * runbooks/dr/results.json (`npm run drill -- <scenario> --record`): they must match it, and every
 * drill must have a verified result there.
 */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { test } from 'node:test';
import {
  README_FILE,
  SCENARIO_TITLES,
  readResults,
  runbookFile,
  withFigures,
  withTable,
} from '../../drills/results.js';
import { SCENARIOS } from '../../drills/scenarios/index.js';

test('runbooks/README.md carries the DR table generated from results.json', async () => {
  const results = await readResults();
  const readme = await readFile(README_FILE, 'utf8');
  assert.equal(
    readme,
    withTable(readme, results),
    'run `npm run drill -- <scenario> --record` to regenerate it',
  );
});

test('every drill has a recorded, verified result and a runbook quoting it', async () => {
  const results = await readResults();
  assert.deepEqual(results.map((r) => r.scenario).sort(), Object.keys(SCENARIOS).sort());
  assert.deepEqual(Object.keys(SCENARIO_TITLES).sort(), Object.keys(SCENARIOS).sort());
  for (const result of results) {
    assert.equal(result.verified, true, `${result.scenario} recorded unverified`);
    const runbook = await readFile(runbookFile(result.scenario), 'utf8');
    assert.equal(
      runbook,
      withFigures(runbook, result),
      `${runbookFile(result.scenario)} figures differ from results.json`,
    );
  }
});
