import type { Tier } from '../tiers.js';

export interface CacheTopology {
  readonly shards: number;
  readonly replicasPerShard: number;
  readonly totalNodes: number;
  readonly automaticFailover: boolean;
  readonly multiAz: boolean;
}

export function cacheTopology(tier: Tier): CacheTopology {
  const { shards, replicasPerShard, multiAz } = tier.redis;
  if (multiAz && replicasPerShard < 1) {
    throw new Error(`tier ${tier.name}: Multi-AZ Redis needs at least one replica per shard`);
  }
  return {
    shards,
    replicasPerShard,
    totalNodes: shards * (1 + replicasPerShard),
    // Cluster mode with more than one shard requires automatic failover; replicas make it possible.
    automaticFailover: replicasPerShard > 0,
    multiAz,
  };
}
