/**
 * Guardrails for the stacks that hold real data (staging, prod): every data store encrypted and
 * private, deletion protection, backups with the tier's retention, multi-AZ where the tier says,
 * replicas that follow the primary, and secrets that never appear in plain state or outputs.
 */
import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { TIERS } from '../../stacks/tiers.js';
import type { Tier } from '../../stacks/tiers.js';
import { at, defaultSecrets, evaluateStack, ofType, one } from './harness.js';
import type { Evaluation } from './harness.js';

export function assertDataStoresEncrypted(e: Evaluation): void {
  for (const db of ofType(e, 'aws:rds/instance:Instance')) {
    assert.equal(db.inputs.storageEncrypted, true, `${db.name} encrypted`);
    assert.match(String(db.inputs.kmsKeyId), /^arn:aws:kms:/, `${db.name} uses the stack's KMS key`);
    assert.match(String(db.inputs.performanceInsightsKmsKeyId), /^arn:aws:kms:/);
  }
  const redis = one(e, 'aws:elasticache/replicationGroup:ReplicationGroup');
  assert.equal(redis.inputs.atRestEncryptionEnabled, true);
  assert.equal(redis.inputs.transitEncryptionEnabled, true, 'TLS in transit');
  assert.match(String(redis.inputs.kmsKeyId), /^arn:aws:kms:/);
  const buckets = ofType(e, 'aws:s3/bucket:Bucket');
  const encrypted = ofType(
    e,
    'aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration',
  ).map((s) => s.inputs.bucket);
  for (const b of buckets)
    assert.ok(encrypted.includes(b.inputs.bucket), `bucket ${String(b.inputs.bucket)} encrypted`);
  for (const v of ofType(e, 'aws:backup/vault:Vault'))
    assert.match(String(v.inputs.kmsKeyArn), /^arn:aws:kms:/, `${v.name} KMS`);
  assert.match(
    String(at(one(e, 'aws:eks/cluster:Cluster').inputs, 'encryptionConfig.provider.keyArn')),
    /^arn:aws:kms:/,
    'EKS secrets envelope-encrypted',
  );
  for (const key of ofType(e, 'aws:kms/key:Key'))
    assert.equal(key.inputs.enableKeyRotation, true, `${key.name} rotates`);
}

export function assertDataStoresPrivate(e: Evaluation): void {
  for (const db of ofType(e, 'aws:rds/instance:Instance'))
    assert.equal(db.inputs.publiclyAccessible, false, `${db.name} private`);
  const nodesSg = one(e, 'aws:ec2/securityGroup:SecurityGroup', 'network-nodes');
  for (const name of ['network-redis', 'network-postgres']) {
    const sg = one(e, 'aws:ec2/securityGroup:SecurityGroup', name);
    const ingress = sg.inputs.ingress as { cidrBlocks?: string[]; securityGroups?: string[] }[];
    assert.equal(ingress.length, 1, `${name}: one rule`);
    assert.equal(ingress[0]?.cidrBlocks, undefined, `${name}: no CIDR sources`);
    assert.equal(ingress[0]?.securityGroups?.length, 1);
    assert.equal(ingress[0]?.securityGroups?.[0], nodesSg.id, `${name}: admits the node security group only`);
  }
  const redis = one(e, 'aws:elasticache/replicationGroup:ReplicationGroup');
  assert.equal((redis.inputs.securityGroupIds as string[]).length, 1);
  for (const db of ofType(e, 'aws:rds/instance:Instance'))
    assert.equal((db.inputs.vpcSecurityGroupIds as string[]).length, 1);

  const buckets = ofType(e, 'aws:s3/bucket:Bucket').map((b) => b.inputs.bucket);
  const blocks = ofType(e, 'aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock');
  for (const bucket of buckets) {
    const block = blocks.find((b) => b.inputs.bucket === bucket);
    assert.ok(block, `bucket ${String(bucket)} has a public access block`);
    for (const flag of [
      'blockPublicAcls',
      'blockPublicPolicy',
      'ignorePublicAcls',
      'restrictPublicBuckets',
    ]) {
      assert.equal(block.inputs[flag], true, `${String(bucket)}: ${flag}`);
    }
  }
  for (const policy of ofType(e, 'aws:s3/bucketPolicy:BucketPolicy')) {
    const doc = JSON.parse(String(policy.inputs.policy)) as {
      Statement: { Effect: string; Principal: unknown; Condition?: Record<string, Record<string, string>> }[];
    };
    for (const s of doc.Statement.filter((x) => x.Effect === 'Allow')) {
      assert.notDeepEqual(s.Principal, '*', 'no public allow');
      assert.notDeepEqual(s.Principal, { AWS: '*' }, 'no public allow');
      assert.match(
        s.Condition?.StringEquals?.['AWS:SourceArn'] ?? '',
        /^arn:aws:cloudfront::\d+:distribution\//,
        'reads bound to the distribution',
      );
    }
  }
}

export function assertDeletionProtectionAndBackups(e: Evaluation, tier: Tier): void {
  const instances = ofType(e, 'aws:rds/instance:Instance');
  const primary = instances.find((i) => !i.inputs.replicateSourceDb);
  assert.ok(primary);
  assert.equal(primary.inputs.deletionProtection, true);
  assert.equal(primary.inputs.skipFinalSnapshot, false);
  assert.ok(primary.inputs.finalSnapshotIdentifier, 'a final snapshot on delete');
  assert.equal(primary.protect, true, 'protected in Pulumi state too');
  assert.equal(
    primary.inputs.backupRetentionPeriod,
    tier.postgres.backupRetentionDays,
    'PITR retention from the tier',
  );
  assert.equal(
    one(e, 'aws:elasticache/replicationGroup:ReplicationGroup').inputs.snapshotRetentionLimit,
    tier.redis.snapshotRetentionDays,
  );
  const rules = one(e, 'aws:backup/plan:Plan').inputs.rules as {
    lifecycle: { deleteAfter: number };
    copyActions: unknown[];
  }[];
  assert.deepEqual(
    rules.map((r) => r.lifecycle.deleteAfter),
    [tier.backups.dailyRetentionDays, tier.backups.weeklyRetentionDays, tier.backups.monthlyRetentionDays],
  );
  for (const r of rules) assert.equal(r.copyActions.length, 1, 'every rule copies to the DR vault');
  for (const v of ofType(e, 'aws:s3/bucketVersioning:BucketVersioning'))
    assert.equal(at(v.inputs, 'versioningConfiguration.status'), 'Enabled');
}

export function assertMultiAz(e: Evaluation, expected: boolean): void {
  const primary = ofType(e, 'aws:rds/instance:Instance').find((i) => !i.inputs.replicateSourceDb);
  assert.equal(primary?.inputs.multiAz, expected, 'RDS primary multi-AZ');
  const redis = one(e, 'aws:elasticache/replicationGroup:ReplicationGroup');
  assert.equal(redis.inputs.multiAzEnabled, expected, 'Redis multi-AZ');
  if (expected) assert.equal(redis.inputs.automaticFailoverEnabled, true);
}

export function assertReplicasFollowPrimary(e: Evaluation, replicas: number): void {
  const instances = ofType(e, 'aws:rds/instance:Instance');
  const primary = instances.find((i) => !i.inputs.replicateSourceDb);
  const followers = instances.filter((i) => i.inputs.replicateSourceDb);
  assert.equal(followers.length, replicas);
  for (const r of followers) {
    assert.equal(r.inputs.replicateSourceDb, primary?.inputs.identifier, `${r.name} replicates the primary`);
    assert.ok(r.dependencies.includes(primary?.urn ?? ''), `${r.name} is created after the primary`);
  }
}

export function assertSecretsStaySecret(e: Evaluation): void {
  const redis = one(e, 'aws:elasticache/replicationGroup:ReplicationGroup');
  assert.equal(redis.inputs.authToken, undefined, 'no auth token stored in state');
  assert.ok(redis.secretPaths.includes('authTokenWo'), 'the write-only token is a secret');
  for (const db of ofType(e, 'aws:rds/instance:Instance'))
    assert.equal(db.inputs.password, undefined, `${db.name}: no password in state`);
  const primary = ofType(e, 'aws:rds/instance:Instance').find((i) => !i.inputs.replicateSourceDb);
  assert.ok(primary?.secretPaths.includes('passwordWo'));
  for (const s of ofType(e, 'kubernetes:core/v1:Secret')) {
    assert.ok(
      s.secretPaths.some((p) => p.startsWith('stringData')),
      `Secret ${String(at(s.inputs, 'metadata.name'))} content is secret in state`,
    );
  }
  for (const key of ['kubeconfig', 'grafanaAdminPassword'])
    assert.equal(e.outputs[key]?.secret, true, `output ${key} is secret`);
  // Every secret the operator sets, wherever it travels (Vault bootstrap, Alertmanager config, …),
  // only ever inside an input the engine stores encrypted, and in no plain output.
  const stackSecrets = Object.values(defaultSecrets(e.stack));
  assert.ok(stackSecrets.length >= 4, 'the check covers every stack secret');
  for (const r of e.resources) {
    const plain = JSON.stringify(withoutSecretPaths(r.inputs, new Set(r.secretPaths)));
    for (const value of stackSecrets)
      assert.ok(!plain.includes(value), `${r.type} ${r.name}: a stack secret sits in a plain input`);
  }
  for (const [key, output] of Object.entries(e.outputs)) {
    if (output.secret) continue;
    const plain = JSON.stringify(output.value ?? null);
    for (const value of stackSecrets)
      assert.ok(!plain.includes(value), `output ${key} carries a stack secret`);
  }
}

/** The inputs with every secret-marked value blanked, i.e. what a state file shows in plain text. */
function withoutSecretPaths(value: unknown, secret: ReadonlySet<string>, path = ''): unknown {
  if (secret.has(path || '(root)')) return '[secret]';
  if (Array.isArray(value))
    return value.map((v, i) => withoutSecretPaths(v, secret, path ? `${path}.${i}` : `${i}`));
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(
    Object.entries(value).map(([k, v]) => [k, withoutSecretPaths(v, secret, path ? `${path}.${k}` : k)]),
  );
}

/** Registers the guardrail tests for one stack file (Pulumi's runtime is global: one stack per test file). */
export function guardrailTests(stack: 'staging' | 'prod'): void {
  const tier = TIERS[stack];
  let e: Evaluation;
  before(async () => {
    e = await evaluateStack(stack);
  });

  test(`${stack}: every data store is encrypted`, () => assertDataStoresEncrypted(e));
  test(`${stack}: data stores are private and reachable from the cluster nodes only; no public bucket`, () =>
    assertDataStoresPrivate(e));
  test(`${stack}: deletion protection, final snapshot and backups with the tier retention`, () =>
    assertDeletionProtectionAndBackups(e, tier));
  test(`${stack}: multi-AZ exactly where the tier asks for it`, () =>
    assertMultiAz(e, tier.postgres.multiAz));
  test(`${stack}: read replicas point at the primary`, () =>
    assertReplicasFollowPrimary(e, tier.postgres.readReplicas));
  test(`${stack}: secrets never reach plain state or outputs`, () => assertSecretsStaySecret(e));
}
