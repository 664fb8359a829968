/**
 * The admission tests for one stack file (Pulumi's runtime is global: one stack per test file):
 * every pod template passes the Vault injector's validation and its namespace's Pod Security
 * level, and the Vault chart's own pods pass restricted.
 */
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

export function admissionTests(stack: 'dev' | 'staging' | 'prod'): void {
  let e: Evaluation;
  before(async () => {
    e = await evaluateStack(stack);
  });

  test(`${stack}: every pod template passes the Vault injector and the namespace Pod Security level`, () => {
    // The runtime, the exporters, the Vault configure Job (and Redis in dev, the snapshot CronJob elsewhere).
    assert.ok(podTemplates(e).length >= 5, `${podTemplates(e).length} pod templates`);
    assert.deepEqual(admissionViolations(e), []);
  });

  test(`${stack}: every namespace our pod templates run in enforces restricted`, () => {
    const labels = namespaceLabels(e);
    for (const t of podTemplates(e)) assert.equal(enforcedLevel(labels[t.namespace]), 'restricted', t.owner);
  });

  test(`${stack}: the Vault chart server and injector pods pass restricted in the vault namespace`, () => {
    assert.equal(enforcedLevel(namespaceLabels(e).vault), 'restricted');
    const vault = ofType(e, 'kubernetes:helm.sh/v3:Release').find((r) => r.inputs.chart === 'vault');
    assert.ok(vault);
    const pods = vaultChartPodSpecs(vault.inputs.values as Record<string, unknown>);
    assert.deepEqual(
      pods.flatMap((p) => restrictedViolations(p.spec, p.owner)),
      [],
    );
  });
}
