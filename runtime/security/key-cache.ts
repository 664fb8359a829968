/**
 * The in-process cache of valid API keys, and how a revocation or rotation reaches it.
 *
 * A key found valid in Postgres is kept for API_KEY_CACHE_SECONDS (5 s by default), tagged with the key-change epoch (a
 * Redis counter) read *before* that lookup. Whoever revokes or rotates a key bumps the epoch and
 * publishes the key id (announceKeyChange) after the change has committed. Every request served
 * from the cache reads the epoch in the same Redis script that counts its rate limit
 * (rate-limit.ts), and an entry from an older epoch is not used: the key is looked up again. So a
 * revocation applies at once on every replica, with no round trip added and no window between a
 * message being published and a replica acting on it. The TTL bounds what a change made without
 * announcing it (SQL by hand, or Redis down at revocation) can go on being served.
 *
 * A key close to its expiry is not cached: its expiry is then decided by the database's clock on
 * every request, as before.
 */
import type { ApiKeyRecord } from '../db/api-keys.js';
import type { RedisClient } from '../queue/connection.js';

export const KEY_CACHE_MS = 5000;
const MAX_ENTRIES = 10_000;

export function keyEpochKey(prefix: string): string {
  return `${prefix}:apikeys:epoch`;
}

export function keyChangeChannel(prefix: string): string {
  return `${prefix}:apikeys:changed`;
}

/** After a revocation or rotation has committed: invalidates every replica's cached keys. */
export async function announceKeyChange(redis: RedisClient, prefix: string, keyId: string): Promise<void> {
  await redis.incr(keyEpochKey(prefix));
  await redis.publish(keyChangeChannel(prefix), keyId);
}

interface Entry {
  key: ApiKeyRecord;
  epoch: string;
  until: number;
}

export class KeyCache {
  private readonly entries = new Map<string, Entry>();

  constructor(private readonly ttlMs = KEY_CACHE_MS) {}

  /** A cached valid key for this hash, with the epoch it was read under. */
  get(hash: string, now = Date.now()): Entry | undefined {
    const entry = this.entries.get(hash);
    if (!entry) return undefined;
    if (entry.until <= now) {
      this.entries.delete(hash);
      return undefined;
    }
    return entry;
  }

  set(hash: string, key: ApiKeyRecord, epoch: string, now = Date.now()): void {
    if (this.ttlMs <= 0) return;
    // Expiring within the TTL (with a second's margin): leave it to the database's clock.
    if (key.expiresAt.getTime() - now <= this.ttlMs + 1000) return;
    if (this.entries.size >= MAX_ENTRIES) this.entries.clear();
    this.entries.set(hash, { key, epoch, until: now + this.ttlMs });
  }

  delete(hash: string): void {
    this.entries.delete(hash);
  }
}
