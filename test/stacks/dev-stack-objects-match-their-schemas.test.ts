import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { evaluateStack } from './harness.js';
import type { Evaluation } from './harness.js';
import {
  assertCustomResourcesValid,
  assertHelmValuesReal,
  assertKubernetesObjectsValid,
} from './schema-assertions.js';

let e: Evaluation;
before(async () => {
  e = await evaluateStack('dev');
});

test('dev: every Kubernetes object validates against the Kubernetes schema', () => {
  assert.ok(assertKubernetesObjectsValid(e) > 20);
});
test('dev: every custom resource validates against its CRD in ../shared/crds', () => {
  assert.ok(assertCustomResourcesValid(e) >= 6);
});
test('dev: every Helm value is a real key of the pinned chart', () => {
  assert.ok(assertHelmValuesReal(e) >= 3);
});
