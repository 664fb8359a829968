import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import {
  admissionViolations,
  enforcedLevel,
  namespaceLabels,
  podTemplates,
  restrictedViolations,
  vaultChartPodSpecs,
} from './admission.js';
import { evaluateStack, ofType } from './harness.js';
import type { Evaluation } from './harness.js';

let e: Evaluation;
before(async () => {
  e = await evaluateStack('dev');
});

test('dev: every pod template passes the Vault injector and the namespace Pod Security level', () => {
  assert.ok(podTemplates(e).length >= 5, 'the runtime, exporters, Redis and the configure Job');
  assert.deepEqual(admissionViolations(e), []);
});

test('dev: every namespace our pod templates run in enforces restricted', () => {
  const labels = namespaceLabels(e);
  for (const t of podTemplates(e)) assert.equal(enforcedLevel(labels[t.namespace]), 'restricted', t.owner);
});

test('dev: the Vault chart server and injector pods pass restricted in the vault namespace', () => {
  assert.equal(enforcedLevel(namespaceLabels(e).vault), 'restricted');
  const vault = ofType(e, 'kubernetes:helm.sh/v3:Release').find((r) => r.inputs.chart === 'vault');
  assert.ok(vault);
  const pods = vaultChartPodSpecs(vault.inputs.values as Record<string, unknown>);
  assert.deepEqual(
    pods.flatMap((p) => restrictedViolations(p.spec, p.owner)),
    [],
  );
});
