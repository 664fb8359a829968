import assert from 'node:assert/strict';
import { test } from 'node:test';
import { backupRules } from '../../stacks/planning/backups.js';
import { cacheNodeIds, cacheTopology, hashTag } from '../../stacks/planning/cache.js';
import { databaseTopology, poolMaxPerProcess, rdsMaxConnections } from '../../stacks/planning/database.js';
import { prometheusRetentionSize, prometheusStorageGiB } from '../../stacks/planning/monitoring.js';
import {
  cidrContains,
  cidrsOverlap,
  natGatewayCount,
  parseCidr,
  planSubnets,
} from '../../stacks/planning/network.js';
import { TIERS } from '../../stacks/tiers.js';

test('subnets: one public and one private per AZ, inside the VPC, never overlapping', () => {
  for (const tier of Object.values(TIERS)) {
    const plan = planSubnets(tier.network.vpcCidr, tier.network.azCount);
    assert.equal(plan.public.length, tier.network.azCount);
    assert.equal(plan.private.length, tier.network.azCount);
    const all = [...plan.public, ...plan.private];
    for (const s of all) assert.ok(cidrContains(tier.network.vpcCidr, s), `${s} in ${tier.network.vpcCidr}`);
    for (let i = 0; i < all.length; i++) {
      for (let j = i + 1; j < all.length; j++)
        assert.ok(!cidrsOverlap(all[i] as string, all[j] as string), `${all[i]} vs ${all[j]}`);
    }
  }
  assert.deepEqual(planSubnets('10.30.0.0/16', 3), {
    private: ['10.30.0.0/19', '10.30.32.0/19', '10.30.64.0/19'],
    public: ['10.30.128.0/21', '10.30.136.0/21', '10.30.144.0/21'],
  });
});

test('adding an AZ keeps the existing subnets where they are', () => {
  const two = planSubnets('10.20.0.0/16', 2);
  const three = planSubnets('10.20.0.0/16', 3);
  assert.deepEqual(three.private.slice(0, 2), two.private);
  assert.deepEqual(three.public.slice(0, 2), two.public);
});

test('bad CIDRs and AZ counts are refused with the value named', () => {
  assert.throws(() => parseCidr('10.0.0.1/16'), /"10.0.0.1\/16": host bits are set/);
  assert.throws(() => parseCidr('10.0.0.0'), /invalid CIDR "10.0.0.0"/);
  assert.throws(() => planSubnets('10.0.0.0/16', 5), /azCount must be an integer between 1 and 4, got 5/);
});

test('NAT per AZ in prod, one otherwise; 3 AZs in prod, 2 in staging', () => {
  assert.equal(natGatewayCount(TIERS.prod), 3);
  assert.equal(natGatewayCount(TIERS.staging), 1);
  assert.equal(TIERS.staging.network.azCount, 2);
  assert.equal(TIERS.prod.network.azCount, 3);
});

test('Redis: one shard per hash tag the keyspace uses, the tier replicas, failover wherever there are replicas', () => {
  assert.deepEqual(cacheTopology(TIERS.prod, ['{archibald}']), {
    shards: 1,
    replicasPerShard: 2,
    totalNodes: 3,
    automaticFailover: true,
    multiAz: true,
  });
  // A second queue under the same tag still lives in the same slot; a second tag earns a shard.
  assert.equal(cacheTopology(TIERS.prod, ['{archibald}', '{archibald}:events']).shards, 1);
  assert.equal(cacheTopology(TIERS.prod, ['{archibald}', '{billing}']).shards, 2);
  assert.equal(cacheTopology(TIERS.staging, ['{archibald}']).totalNodes, 2);
  assert.throws(() => cacheTopology(TIERS.prod, ['archibald']), /"archibald" has no hash tag/);
  assert.throws(
    () =>
      cacheTopology({ ...TIERS.prod, redis: { ...TIERS.prod.redis, replicasPerShard: 0 } }, ['{archibald}']),
    /Multi-AZ Redis needs at least one replica per shard/,
  );
});

test('Redis: node IDs follow ElastiCache cluster-mode naming, shard-major', () => {
  const topology = cacheTopology(TIERS.prod, ['{archibald}']);
  assert.deepEqual(cacheNodeIds('archibald-prod-redis', topology), [
    'archibald-prod-redis-0001-001',
    'archibald-prod-redis-0001-002',
    'archibald-prod-redis-0001-003',
  ]);
  assert.equal(hashTag('{archibald}'), 'archibald');
  assert.equal(hashTag('jobs:{q1}:x'), 'q1');
  assert.equal(hashTag('{}'), undefined);
});

test('Postgres pools stay under max_connections with every pod at its ceiling', () => {
  assert.equal(rdsMaxConnections(16), 1802);
  assert.equal(rdsMaxConnections(1024), 5000);
  for (const tier of Object.values(TIERS)) {
    const pool = poolMaxPerProcess(tier);
    const total = pool * (tier.api.maxReplicas + tier.scale.workers);
    assert.ok(
      total < rdsMaxConnections(tier.postgres.instanceMemoryGiB),
      `${tier.name}: ${total} connections`,
    );
    assert.ok(pool >= 2, tier.name);
  }
  const tiny = { ...TIERS.prod, postgres: { ...TIERS.prod.postgres, instanceMemoryGiB: 0.25 } };
  assert.throws(() => poolMaxPerProcess(tiny), /use a larger instance/);
});

test('protected tiers keep a final snapshot and deletion protection; prod is multi-AZ', () => {
  assert.deepEqual(databaseTopology(TIERS.prod), {
    primaryMultiAz: true,
    readReplicas: 2,
    backupRetentionDays: 14,
    deletionProtection: true,
    skipFinalSnapshot: false,
  });
  assert.equal(databaseTopology(TIERS.staging).skipFinalSnapshot, false);
  assert.equal(databaseTopology(TIERS.dev).skipFinalSnapshot, true);
});

test('Prometheus volume grows with series and retention, and retention size stays below it', () => {
  const sizes = [TIERS.dev, TIERS.staging, TIERS.prod, TIERS.enterprise].map(prometheusStorageGiB);
  for (let i = 1; i < sizes.length; i++)
    assert.ok((sizes[i] as number) > (sizes[i - 1] as number), sizes.join(','));
  // 400k series every 30 s for 15 days at 2 bytes/sample with 1.5x head room ≈ 48.3 GiB → 50.
  assert.equal(prometheusStorageGiB(TIERS.prod), 50);
  assert.equal(prometheusRetentionSize(TIERS.prod), '45GB');
});

test('backups: daily/weekly/monthly with the tier retention, copied to the DR region; none in dev', () => {
  assert.deepEqual(backupRules(TIERS.dev), []);
  const prod = backupRules(TIERS.prod);
  assert.deepEqual(
    prod.map((r) => [r.name, r.deleteAfterDays, r.copyToDrRegion]),
    [
      ['daily', 14, true],
      ['weekly', 56, true],
      ['monthly', 365, true],
    ],
  );
  const broken = { ...TIERS.prod, backups: { ...TIERS.prod.backups, weeklyRetentionDays: 3 } };
  assert.throws(() => backupRules(broken), /weekly backups must be kept at least as long as daily ones/);
});
