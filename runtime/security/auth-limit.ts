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

// INCR, starting the window on the first count; returns the count and the window's time left.
const TAKE = `local n = redis.call('INCR', KEYS[1])
if n == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
return {n, redis.call('PTTL', KEYS[1])}`;
// DECR only within the same window: after it expired, a DECR would create a key with no expiry.
const GIVE_BACK = `if redis.call('EXISTS', KEYS[1]) == 1 then return redis.call('DECR', KEYS[1]) end
return 0`;

export interface AuthLimitOptions {
  redis: RedisClient;
  keyPrefix: string;
  max: number;
  windowSeconds: number;
  onLimited(request: FastifyRequest): void;
}

export class AuthLimit {
  constructor(private readonly options: AuthLimitOptions) {}

  private key(request: FastifyRequest): string {
    return `${this.options.keyPrefix}:authlimit:${request.ip}`;
  }

  /**
   * Counts the request against its address; throws a 429 when the address is over budget. Fails
   * open: a Redis outage must not refuse every caller (the per-key limit does the same).
   */
  async take(request: FastifyRequest, reply: FastifyReply): Promise<void> {
    let count: number;
    let ttlMs: number;
    try {
      [count, ttlMs] = (await this.options.redis.eval(
        TAKE,
        1,
        this.key(request),
        this.options.windowSeconds * 1000,
      )) as [number, number];
    } catch (error) {
      request.log.warn({ err: error }, 'authentication limit unavailable; letting the request through');
      return;
    }
    if (count <= this.options.max) return;
    const retryAfter = Math.max(1, Math.ceil(ttlMs / 1000));
    this.options.onLimited(request);
    reply.header('Retry-After', String(retryAfter));
    throw new HttpError(
      429,
      `too many requests without a valid API key from this address (limit ${this.options.max} per ` +
        `${this.options.windowSeconds} s); retry in ${retryAfter} s`,
    );
  }

  /** Gives the count back: the request had a valid key. */
  async giveBack(request: FastifyRequest): Promise<void> {
    await this.options.redis.eval(GIVE_BACK, 1, this.key(request)).catch((error: unknown) => {
      request.log.warn({ err: error }, 'could not give back an authentication count');
    });
  }
}
