import { before, test } from 'node:test';
import { TIERS } from '../../stacks/tiers.js';
import { evaluateStack } from './harness.js';
import type { Evaluation } from './harness.js';
import {
  assertDataStoresEncrypted,
  assertDataStoresPrivate,
  assertDeletionProtectionAndBackups,
  assertMultiAz,
  assertReplicasFollowPrimary,
  assertSecretsStaySecret,
} from './guardrails.js';

const tier = TIERS.staging;
let e: Evaluation;
before(async () => {
  e = await evaluateStack('staging');
});

test('staging: every data store is encrypted', () => assertDataStoresEncrypted(e));
test('staging: data stores are private and reachable from the cluster nodes only; no public bucket', () =>
  assertDataStoresPrivate(e));
test('staging: deletion protection, final snapshot and backups with the tier retention', () =>
  assertDeletionProtectionAndBackups(e, tier));
test('staging: multi-AZ exactly where the tier asks for it', () => assertMultiAz(e, tier.postgres.multiAz));
test('staging: read replicas point at the primary', () =>
  assertReplicasFollowPrimary(e, tier.postgres.readReplicas));
test('staging: secrets never reach plain state or outputs', () => assertSecretsStaySecret(e));
