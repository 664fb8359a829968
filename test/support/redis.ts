/**
 * A unique Redis key prefix per test file (`{archibald-test-<random>}`, a Cluster hash tag like the
 * real one) and its clean-up. Every key the runtime writes starts with QUEUE_PREFIX.
 */
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';

export const TEST_REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

export function testKeyPrefix(): string {
  return `{archibald-test-${randomBytes(6).toString('hex')}}`;
}

/** Deletes every key starting with the prefix; returns how many. */
export async function deleteKeys(prefix: string, url = TEST_REDIS_URL): Promise<number> {
  const redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1 });
  await redis.connect();
  try {
    let deleted = 0;
    let cursor = '0';
    // The prefix holds glob characters ({ } are literal in MATCH, but escape [ ] * ? \ anyway).
    const pattern = `${prefix.replace(/[[\]*?\\]/g, '\\$&')}*`;
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 500);
      cursor = next;
      if (keys.length > 0) deleted += await redis.del(...keys);
    } while (cursor !== '0');
    return deleted;
  } finally {
    redis.disconnect();
  }
}
