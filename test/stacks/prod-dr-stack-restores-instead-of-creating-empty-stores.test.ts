/**
 * prod-dr (Pulumi.prod-dr.yaml): prod stood up in the DR region from the copies prod's backups
 * component keeps there. Under mocks: RDS is restored from the newest AWS Backup recovery point of
 * prod's instance copied into the region, the videos bucket is prod's replica bucket (read, not
 * created), and the tier's sizing is prod's.
 */
import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { parseStackConfig } from '../../stacks/config.js';
import { TIERS } from '../../stacks/tiers.js';
import { evaluateStack, ofType, one, stackConfig } from './harness.js';
import type { Evaluation } from './harness.js';

let e: Evaluation;
before(async () => {
  e = await evaluateStack('prod-dr');
});

test('prod-dr evaluates in the DR region with every type and invoke known', () => {
  assert.deepEqual(e.unknownTypes, []);
  assert.deepEqual(e.unknownCalls, []);
  assert.equal(e.config['archibald:region'], 'eu-central-1');
  assert.equal(e.config['archibald:tier'], 'prod');
});

test('the primary is restored from the newest recovery point of prod copied into the region', () => {
  const lookups = e.calls.filter((c) => c.token === 'aws:rds/getSnapshot:getSnapshot');
  assert.equal(lookups.length, 1);
  assert.deepEqual(
    {
      dbInstanceIdentifier: lookups[0]!.inputs.dbInstanceIdentifier,
      snapshotType: lookups[0]!.inputs.snapshotType,
      mostRecent: lookups[0]!.inputs.mostRecent,
    },
    { dbInstanceIdentifier: 'archibald-prod-postgres', snapshotType: 'awsbackup', mostRecent: true },
    "AWS Backup's copies keep the source instance's identifier and are of type awsbackup",
  );
  const primary = one(e, 'aws:rds/instance:Instance', 'database-primary');
  assert.equal(primary.inputs.identifier, 'archibald-prod-dr-postgres');
  assert.match(
    String(primary.inputs.snapshotIdentifier),
    /^arn:aws:rds:eu-central-1:123456789012:snapshot:awsbackup:/,
  );
  // RestoreDBInstanceFromDBSnapshot takes these from the snapshot: setting them would ask for a new, empty database.
  for (const key of ['dbName', 'username', 'kmsKeyId', 'replicateSourceDb', 'restoreToPointInTime'])
    assert.equal(primary.inputs[key], undefined, `${key} comes from the snapshot`);
  assert.equal(primary.protect, true, 'the restored primary is protected like prod');
});

test('the restored database has prod sizing: instance class, Multi-AZ and read replicas', () => {
  const tier = TIERS.prod;
  const dbs = ofType(e, 'aws:rds/instance:Instance');
  const primary = one(e, 'aws:rds/instance:Instance', 'database-primary');
  assert.equal(primary.inputs.instanceClass, tier.postgres.instanceClass);
  assert.equal(primary.inputs.multiAz, tier.postgres.multiAz);
  assert.equal(primary.inputs.deletionProtection, true);
  const replicas = dbs.filter((d) => d !== primary);
  assert.equal(replicas.length, tier.postgres.readReplicas);
  for (const r of replicas) assert.equal(r.inputs.replicateSourceDb, primary.inputs.identifier);
});

test("the videos bucket is prod's replica bucket, read as it is: no new, empty videos bucket", () => {
  const replica = 'archibald-prod-videos-replica-123456789012';
  assert.deepEqual(
    e.reads.filter((r) => r.type === 'aws:s3/bucket:Bucket').map((r) => r.id),
    [replica],
  );
  const created = ofType(e, 'aws:s3/bucket:Bucket').map((b) => String(b.inputs.bucket));
  assert.deepEqual(
    created.filter((b) => b.includes('videos')),
    [],
    `no videos bucket created (created: ${created.join(', ')})`,
  );
  // The CDN serves it: its policy lets the distribution read that bucket.
  const policies = ofType(e, 'aws:s3/bucketPolicy:BucketPolicy').map((p) => String(p.inputs.bucket));
  assert.ok(policies.includes(replica), `bucket policies on ${policies.join(', ')}`);
  // And the runtime publishes there.
  const configMaps = ofType(e, 'kubernetes:core/v1:ConfigMap').map((c) =>
    JSON.stringify(c.inputs.data ?? {}),
  );
  assert.ok(
    configMaps.some((d) => d.includes(`"S3_BUCKET":"${replica}"`)),
    'the runtime ConfigMap names the replica bucket',
  );
});

test("prod-dr takes no backups of its own until it is the primary (the adopted replica keeps prod's)", () => {
  assert.equal(ofType(e, 'aws:backup/plan:Plan').length, 0);
  assert.equal(ofType(e, 'aws:s3/bucketReplicationConfig:BucketReplicationConfig').length, 0);
});

test('restore config: a named snapshot replaces latest; bad values fail with the key', () => {
  const raw = Object.fromEntries(
    Object.entries(stackConfig('prod-dr')).map(([k, v]) => [k.replace(/^archibald:/, ''), v]),
  );
  const named = parseStackConfig('prod-dr', {
    ...raw,
    restoreDatabaseSnapshot: 'arn:aws:rds:eu-central-1:123456789012:snapshot:awsbackup:copyjob-1234',
  });
  assert.deepEqual(named.restore, {
    fromStack: 'prod',
    databaseSnapshot: 'arn:aws:rds:eu-central-1:123456789012:snapshot:awsbackup:copyjob-1234',
  });
  assert.throws(
    () => parseStackConfig('prod-dr', { ...raw, backups: 'true', drRegion: 'eu-west-1' }),
    /backups/,
  );
  assert.throws(() => parseStackConfig('prod-dr', { ...raw, restoreFrom: 'prod-dr' }), /restoreFrom/);
  assert.throws(
    () => parseStackConfig('prod-dr', { ...raw, restoreDatabaseSnapshot: 'bad snapshot!' }),
    /restoreDatabaseSnapshot/,
  );
  assert.throws(
    () => parseStackConfig('prod', { ...raw, restoreFrom: '', restoreDatabaseSnapshot: 'snap-1' }),
    /restoreDatabaseSnapshot/,
  );
});
