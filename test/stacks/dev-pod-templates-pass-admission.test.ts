import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { admissionViolations, enforcedLevel, namespaceLabels, podTemplates } from './admission.js';
import { evaluateStack } from './harness.js';
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
