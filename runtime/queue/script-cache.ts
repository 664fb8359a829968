/**
 * The script response cache in Redis: `<QUEUE_PREFIX>:script-cache:<request hash>` holds a
 * model-written script as JSON for SCRIPT_CACHE_TTL_SECONDS. The prefix keeps the keys in the
 * deployment's hash slot on a Redis Cluster, beside the queue's.
 */
import type { ScriptDocument } from '../stages/script/document.js';
import type { ScriptCache } from '../stages/script/script-cache.js';
import type { RedisClient } from './connection.js';

export function scriptCacheRedisKey(prefix: string, hash: string): string {
  return `${prefix}:script-cache:${hash}`;
}

export class RedisScriptCache implements ScriptCache {
  constructor(
    private readonly redis: RedisClient,
    private readonly prefix: string,
    private readonly ttlSeconds: number,
  ) {
    if (!(ttlSeconds > 0)) throw new Error(`a script cache needs a TTL above 0 s (got ${ttlSeconds})`);
  }

  async get(hash: string): Promise<ScriptDocument | undefined> {
    const value = await this.redis.get(scriptCacheRedisKey(this.prefix, hash));
    if (value === null) return undefined;
    const doc = JSON.parse(value) as ScriptDocument;
    // Not a script (a foreign or damaged value): treated as a miss, and overwritten by the write.
    return Array.isArray(doc?.sections) && typeof doc.writer === 'string' ? doc : undefined;
  }

  async put(hash: string, doc: ScriptDocument): Promise<void> {
    await this.redis.set(scriptCacheRedisKey(this.prefix, hash), JSON.stringify(doc), 'EX', this.ttlSeconds);
  }
}
