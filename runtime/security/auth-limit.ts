/**
 * The per-address limit in front of authentication: a /v1 request is counted against its client
 * address in Redis (shared by every replica) *before* its key is looked up in Postgres, and the
 * count is given back when the key turns out to be valid. So requests with no key or a bad key
 * use up the address's budget (RATE_LIMIT_AUTH_FAILURES_MAX per RATE_LIMIT_WINDOW_SECONDS) and,
 * once it is spent, are refused with a 429 without any database lookup, while clients with a
 * valid key never spend it. Counting before the lookup (not after a failure) bounds a concurrent
 * burst too. Once an address is over budget even its valid keys wait for the window: telling
 * them apart would take the lookup this limit exists to avoid.
 *
 * @fastify/rate-limit (the per-key limit) cannot do this: it counts every request and cannot give
 * a count back, so a per-address budget there would also cap valid clients that share an address.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { HttpError } from '../http-error.js';
import type { RedisClient } from '../queue/connection.js';
import { LuaScript } from '../queue/lua-script.js';

// INCR, starting the window on the first count; returns the count, the window's time left and the
// key-change epoch (key-cache.ts), read before the lookup so that a key it finds is tagged with it.
const TAKE = new LuaScript(
  'archibaldAuthLimitTake',
  2,
  `local n = redis.call('INCR', KEYS[1])
if n == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
return {n, redis.call('PTTL', KEYS[1]), redis.call('GET', KEYS[2]) or '0'}`,
);

// DECR, unless the window has already ended (the key expired): never below a fresh window's start.
const GIVE_BACK = new LuaScript(
  'archibaldAuthLimitGiveBack',
  1,
  `if redis.call('EXISTS', KEYS[1]) == 1 then redis.call('DECR', KEYS[1]) end`,
);

export interface AuthLimitOptions {
  redis: RedisClient;
  keyPrefix: string;
  max: number;
  windowSeconds: number;
  onLimited(request: FastifyRequest): void;
}

export class AuthLimit {
  constructor(readonly options: AuthLimitOptions) {}

  key(request: FastifyRequest): string {
    return `${this.options.keyPrefix}:authlimit:${request.ip}`;
  }

  /** The 429 for an address over budget (counts it in the metrics, sets Retry-After). */
  refuse(request: FastifyRequest, reply: FastifyReply, ttlMs: number): HttpError {
    const retryAfter = Math.max(1, Math.ceil(ttlMs / 1000));
    this.options.onLimited(request);
    reply.header('Retry-After', String(retryAfter));
    return new HttpError(
      429,
      `too many requests without a valid API key from this address (limit ${this.options.max} per ` +
        `${this.options.windowSeconds} s); retry in ${retryAfter} s`,
    );
  }

  /**
   * Counts the request against its address; throws a 429 when the address is over budget. Returns
   * the key-change epoch, or undefined when Redis did not answer. Fails open: a Redis outage must
   * not refuse every caller (the per-key limit does the same).
   */
  async take(request: FastifyRequest, reply: FastifyReply, epochKey: string): Promise<string | undefined> {
    let count: number;
    let ttlMs: number;
    let epoch: string;
    try {
      [count, ttlMs, epoch] = (await TAKE.run(
        this.options.redis,
        [this.key(request), epochKey],
        [this.options.windowSeconds * 1000],
      )) as [number, number, string];
    } catch (error) {
      request.log.warn({ err: error }, 'authentication limit unavailable; letting the request through');
      return undefined;
    }
    if (count <= this.options.max) return String(epoch);
    throw this.refuse(request, reply, ttlMs);
  }

  /**
   * Gives a request's count back when its key could not be judged (the lookup itself failed, e.g.
   * Postgres down): an outage must not leave valid clients refused for the rest of the window.
   */
  async giveBack(request: FastifyRequest): Promise<void> {
    try {
      await GIVE_BACK.run(this.options.redis, [this.key(request)], []);
    } catch (error) {
      request.log.warn({ err: error }, 'could not give the authentication count back');
    }
  }
}
