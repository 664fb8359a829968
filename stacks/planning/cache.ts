import type { Tier } from '../tiers.js';

export interface CacheTopology {
  readonly shards: number;
  readonly replicasPerShard: number;
  readonly totalNodes: number;
  readonly automaticFailover: boolean;
  readonly multiAz: boolean;
}

/** The hash tag of a Redis Cluster key prefix ("{archibald}" → "archibald"), or undefined if none. */
export function hashTag(prefix: string): string | undefined {
  const open = prefix.indexOf('{');
  const close = prefix.indexOf('}', open + 1);
  return open >= 0 && close > open + 1 ? prefix.slice(open + 1, close) : undefined;
}

/**
 * One shard per hash tag the keyspace uses: Redis Cluster places every key with the same tag in
 * one slot, so a queue under one prefix ("{archibald}") lives on one shard and more shards would
 * sit empty. Capacity grows with the node type; availability with replicas.
 */
export function cacheTopology(tier: Tier, keyPrefixes: readonly string[]): CacheTopology {
  const { replicasPerShard, multiAz } = tier.redis;
  const tags = keyPrefixes.map((p) => {
    const tag = hashTag(p);
    if (tag === undefined)
      throw new Error(`key prefix "${p}" has no hash tag: its keys would scatter over every shard`);
    return tag;
  });
  const shards = Math.max(1, new Set(tags).size);
  if (multiAz && replicasPerShard < 1) {
    throw new Error(`tier ${tier.name}: Multi-AZ Redis needs at least one replica per shard`);
  }
  return {
    shards,
    replicasPerShard,
    totalNodes: shards * (1 + replicasPerShard),
    // Failover needs a replica to promote.
    automaticFailover: replicasPerShard > 0,
    multiAz,
  };
}

/**
 * ElastiCache's node IDs in a cluster-mode replication group: <group>-<shard:0001>-<node:001>,
 * shard-major. Each node's endpoint replaces "clustercfg" in the configuration endpoint with it.
 */
export function cacheNodeIds(groupId: string, topology: CacheTopology): string[] {
  const ids: string[] = [];
  for (let shard = 1; shard <= topology.shards; shard++)
    for (let node = 1; node <= 1 + topology.replicasPerShard; node++)
      ids.push(`${groupId}-${String(shard).padStart(4, '0')}-${String(node).padStart(3, '0')}`);
  return ids;
}
