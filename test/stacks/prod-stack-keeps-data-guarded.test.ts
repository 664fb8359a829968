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

const tier = TIERS.prod;
let e: Evaluation;
before(async () => {
  e = await evaluateStack('prod');
});

test('prod: every data store is encrypted', () => assertDataStoresEncrypted(e));
test('prod: data stores are private and reachable from the cluster nodes only; no public bucket', () =>
  assertDataStoresPrivate(e));
test('prod: deletion protection, final snapshot and backups with the tier retention', () =>
  assertDeletionProtectionAndBackups(e, tier));
test('prod: multi-AZ exactly where the tier asks for it', () => assertMultiAz(e, tier.postgres.multiAz));
test('prod: read replicas point at the primary', () =>
  assertReplicasFollowPrimary(e, tier.postgres.readReplicas));
test('prod: secrets never reach plain state or outputs', () => assertSecretsStaySecret(e));
