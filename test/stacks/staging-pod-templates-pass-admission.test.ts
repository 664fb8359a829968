import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { admissionViolations, enforcedLevel, namespaceLabels, podTemplates } from './admission.js';
import { evaluateStack } from './harness.js';
import type { Evaluation } from './harness.js';

let e: Evaluation;
before(async () => {
  e = await evaluateStack('staging');
});

test('staging: every pod template passes the Vault injector and the namespace Pod Security level', () => {
  assert.ok(
    podTemplates(e).length >= 5,
    'the runtime, exporters, the configure Job and the snapshot CronJob',
  );
  assert.deepEqual(admissionViolations(e), []);
});

test('staging: every namespace our pod templates run in enforces restricted', () => {
  const labels = namespaceLabels(e);
  for (const t of podTemplates(e)) assert.equal(enforcedLevel(labels[t.namespace]), 'restricted', t.owner);
});
