import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { before, test } from 'node:test';
import { alertNames } from '../../dashboards/index.js';
import { at, evaluateStack, kubernetesObject, REPO_ROOT } from './harness.js';
import type { Evaluation } from './harness.js';

// Where the operators' copy of runbooks/ is served differs per organisation, so it is stack config.
const BASE = 'https://git.example.org/platform/archibald/-/blob/main/runbooks/';
let e: Evaluation;
before(async () => {
  e = await evaluateStack('dev', { configOverrides: { runbookBaseUrl: BASE } });
});

test('every alert the stack provisions links to its runbook under the configured URL', () => {
  const groups = at(kubernetesObject(e, 'PrometheusRule', 'archibald').inputs, 'spec.groups') as {
    rules: { alert?: string; annotations?: { runbook_url?: string } }[];
  }[];
  const alerts = groups.flatMap((g) => g.rules).filter((r) => r.alert !== undefined);
  assert.deepEqual([...new Set(alerts.map((a) => a.alert))].sort(), alertNames().sort());
  for (const a of alerts) {
    const url = a.annotations?.runbook_url ?? '';
    assert.equal(url, `${BASE}${a.alert}.md`, `${a.alert} links under the configured base`);
    assert.ok(
      existsSync(`${REPO_ROOT}runbooks/${url.slice(BASE.length)}`),
      `${url} names a runbook that exists`,
    );
  }
});
