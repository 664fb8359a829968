/**
 * Per-key rate limit, counted in Redis so every API replica shares the budget: RATE_LIMIT_MAX
 * requests per RATE_LIMIT_WINDOW_SECONDS and key, in fixed windows. It runs in the authentication
 * hook, before the body is parsed, so every request counts, and in one Redis script per request:
 *   - a key found in Postgres: the address's count given back (auth-limit.ts) and the key counted;
 *   - a key from the in-process cache (key-cache.ts): the address's budget checked, the
 *     key-change epoch compared, and the key counted, all in one round trip.
 * Fails open, as @fastify/rate-limit did with skipOnError: a Redis hiccup must not refuse every
 * request (the queue write reports it anyway).
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { HttpError } from '../http-error.js';
import type { Config } from '../config/load.js';
import type { RedisClient } from '../queue/connection.js';
import { LuaScript } from '../queue/lua-script.js';
import type { Metrics } from '../metrics/registry.js';

// KEYS: address count, key count. ARGV: window ms, '1' to give the address's count back.
// DECR only within the same window: after it expired, a DECR would create a key with no expiry.
const ADMIT = new LuaScript(
  'archibaldRateLimitAdmit',
  2,
  `if ARGV[2] == '1' and redis.call('EXISTS', KEYS[1]) == 1 then redis.call('DECR', KEYS[1]) end
local c = redis.call('INCR', KEYS[2])
if c == 1 then redis.call('PEXPIRE', KEYS[2], ARGV[1]) end
return {c, redis.call('PTTL', KEYS[2])}`,
);

// KEYS: address count, key count, key-change epoch. ARGV: window ms, address max, cached epoch.
// {-1, ttl}: the address is over budget; {-2, 0}: a key changed since the entry was cached.
const CACHED = new LuaScript(
  'archibaldRateLimitCached',
  3,
  `local n = tonumber(redis.call('GET', KEYS[1]) or '0')
if n >= tonumber(ARGV[2]) then return {-1, redis.call('PTTL', KEYS[1])} end
if (redis.call('GET', KEYS[3]) or '0') ~= ARGV[3] then return {-2, 0} end
local c = redis.call('INCR', KEYS[2])
if c == 1 then redis.call('PEXPIRE', KEYS[2], ARGV[1]) end
return {c, redis.call('PTTL', KEYS[2])}`,
);

export type CachedOutcome = 'counted' | 'address over budget' | 'stale';

export class RateLimit {
  private readonly windowMs: number;

  constructor(
    private readonly options: {
      redis: RedisClient;
      config: Config['rateLimit'];
      keyPrefix: string;
      metrics: Metrics;
    },
  ) {
    this.windowMs = options.config.windowSeconds * 1000;
  }

  private key(keyId: string): string {
    return `${this.options.keyPrefix}:ratelimit:${keyId}`;
  }

  /**
   * After a Postgres lookup found the key valid: gives the address's count back (when this request
   * was counted), counts the key.
   */
  async admit(
    request: FastifyRequest,
    reply: FastifyReply,
    keyId: string,
    addressKey: string,
    giveBack = true,
  ): Promise<void> {
    let result: [number, number];
    try {
      result = (await ADMIT.run(
        this.options.redis,
        [addressKey, this.key(keyId)],
        [this.windowMs, giveBack ? '1' : '0'],
      )) as [number, number];
    } catch (error) {
      request.log.warn({ err: error }, 'rate limit unavailable; letting the request through');
      return;
    }
    this.apply(request, reply, result[0], result[1]);
  }

  /**
   * For a key from the cache: one round trip that checks the address's budget and the epoch, and
   * counts the key (the caller then calls apply). Throws when Redis does not answer (the caller
   * then takes the uncached path).
   */
  async cached(
    keyId: string,
    addressKey: string,
    epochKey: string,
    addressMax: number,
    epoch: string,
  ): Promise<{ outcome: CachedOutcome; count: number; ttlMs: number }> {
    const [count, ttlMs] = (await CACHED.run(
      this.options.redis,
      [addressKey, this.key(keyId), epochKey],
      [this.windowMs, addressMax, epoch],
    )) as [number, number];
    if (count === -1) return { outcome: 'address over budget', count, ttlMs };
    if (count === -2) return { outcome: 'stale', count, ttlMs };
    return { outcome: 'counted', count, ttlMs };
  }

  /** The X-RateLimit-* headers, and the 429 when the key is over its budget. */
  apply(request: FastifyRequest, reply: FastifyReply, count: number, ttlMs: number): void {
    const max = this.options.config.max;
    const reset = Math.max(0, Math.ceil(ttlMs / 1000));
    reply.header('x-ratelimit-limit', max);
    reply.header('x-ratelimit-remaining', Math.max(0, max - count));
    reply.header('x-ratelimit-reset', reset);
    if (count <= max) return;
    this.options.metrics.rateLimitedRequests.inc({ route: request.routeOptions.url ?? 'unmatched' });
    reply.header('retry-after', Math.max(1, reset));
    throw new HttpError(
      429,
      `rate limit of ${max} requests per ${this.options.config.windowSeconds} s exceeded for this API key; ` +
        `retry in ${Math.max(1, reset)} s`,
    );
  }
}
