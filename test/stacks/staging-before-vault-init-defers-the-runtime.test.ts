import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { at, defaultSecrets, evaluateStack, ofType } from './harness.js';
import type { Evaluation } from './harness.js';

// A fresh staging stack: Vault is created but not yet initialised, so no token is set.
let e: Evaluation;
before(async () => {
  const { vaultToken: _notYet, ...secrets } = defaultSecrets('staging');
  e = await evaluateStack('staging', { secrets });
});

test('without a Vault token the platform is created and Vault left to initialise', () => {
  assert.deepEqual(e.unknownTypes, []);
  const vault = ofType(e, 'kubernetes:helm.sh/v3:Release').find((r) => r.inputs.chart === 'vault');
  assert.equal(vault?.inputs.skipAwait, true);
  assert.equal(
    ofType(e, 'kubernetes:batch/v1:Job').filter((j) =>
      String(at(j.inputs, 'metadata.name')).startsWith('vault-configure-'),
    ).length,
    0,
  );
  assert.deepEqual(e.outputs.vaultConfigured, { value: false, secret: false });
  assert.equal(ofType(e, 'aws:rds/instance:Instance').length, 2, 'data stores exist');
  assert.equal(ofType(e, 'aws:elasticache/replicationGroup:ReplicationGroup').length, 1);
});

test('pods that need Vault secrets wait for the next up: no runtime workloads or exporters yet', () => {
  assert.deepEqual(
    ofType(e, 'kubernetes:apps/v1:Deployment').map((d) => at(d.inputs, 'metadata.name')),
    [],
  );
  assert.equal(ofType(e, 'kubernetes:batch/v1:Job').length, 0);
  assert.equal(ofType(e, 'kubernetes:keda.sh/v1alpha1:ScaledObject').length, 0);
  // The namespace, the service account (IRSA) and the image repository are there for the image push.
  assert.equal(ofType(e, 'aws:ecr/repository:Repository').length, 1);
  assert.ok(
    ofType(e, 'kubernetes:core/v1:ServiceAccount').some((s) => at(s.inputs, 'metadata.name') === 'archibald'),
  );
  assert.equal(e.outputs.apiUrl?.value, 'https://staging.archibald.example.com');
});
