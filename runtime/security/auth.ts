/**
 * Bearer API-key authentication for /v1: the presented key is hashed and looked up among the
 * unrevoked keys on the primary (so a revocation applies at once). The caller is on request.apiKey.
 * Before the lookup, the request is counted against its client address (security/auth-limit.ts),
 * so that requests without a valid key are limited before they reach Postgres. An expired key is
 * not a valid key: it is refused with a 401 naming its expiry, keeps its count against the
 * address, and its first refusal is audited (key.expired).
 *
 * Scopes are declared per route: `config: { requiredScope: 'ops' }` in a route's options; routes
 * that declare none need the scope's default (`videos` for /v1). A valid key without the scope
 * gets a 403 naming it.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type pg from 'pg';
import { HttpError } from '../http-error.js';
import { auditFirstExpiredUse, findApiKeyByHash, hashApiKey } from '../db/api-keys.js';
import type { ApiKeyRecord, ApiKeyScope, PresentedApiKey } from '../db/api-keys.js';
import type { AuthLimit } from './auth-limit.js';
import { keyEpochKey } from './key-cache.js';
import type { KeyCache } from './key-cache.js';
import type { RateLimit } from './rate-limit.js';

declare module 'fastify' {
  interface FastifyRequest {
    apiKey?: ApiKeyRecord;
  }
  interface FastifyContextConfig {
    /** The scope a key needs for this route; the requireApiKey default when absent. */
    requiredScope?: ApiKeyScope;
  }
}

export class UnauthorizedError extends Error {
  readonly statusCode = 401;
  constructor(message: string) {
    super(message);
    this.name = 'UnauthorizedError';
  }
}

const BEARER = /^Bearer ([A-Za-z0-9_\-.~+/]+=*)$/;

/**
 * Adds an onRequest hook to every route of `scope` that requires a valid, unexpired key and counts
 * the request against the key's rate limit. A key found valid in the last few seconds comes from
 * `cache` (key-cache.ts) with one Redis round trip; otherwise: the address is counted, the key
 * looked up in Postgres, then the count given back and the key counted in one more.
 */
export function requireApiKey(
  scope: FastifyInstance,
  options: {
    pool: pg.Pool;
    limit: AuthLimit;
    rateLimit: RateLimit;
    cache: KeyCache;
    keyPrefix: string;
    defaultScope: ApiKeyScope;
  },
): void {
  const { pool, limit, rateLimit, cache } = options;
  const epochKey = keyEpochKey(options.keyPrefix);
  const lookups = new Map<
    string,
    Promise<{ epoch: string | undefined; record: PresentedApiKey | undefined }>
  >();
  const accept = (request: FastifyRequest, key: ApiKeyRecord) => {
    // Its id goes on the request's log line (app.ts): a child logger per request costs more.
    request.apiKey = key;
    const required = request.routeOptions.config.requiredScope ?? options.defaultScope;
    if (!key.scopes.includes(required))
      throw new HttpError(
        403,
        `the API key lacks the "${required}" scope this route requires (it has: ${key.scopes.join(', ')})`,
      );
  };
  const authenticate = async (request: FastifyRequest, reply: FastifyReply, state: { owned?: string }) => {
    const header = request.headers.authorization;
    const match = header ? BEARER.exec(header) : null;
    const hash = match ? hashApiKey(match[1]!) : undefined;
    const hit = hash ? cache.get(hash) : undefined;
    if (hit) {
      const result = await rateLimit
        .cached(hit.key.id, limit.key(request), epochKey, limit.options.max, hit.epoch)
        .catch((error: unknown) => {
          request.log.warn({ err: error }, 'key cache check unavailable; looking the key up');
          return undefined;
        });
      if (result?.outcome === 'address over budget') throw limit.refuse(request, reply, result.ttlMs);
      if (result?.outcome === 'counted') {
        rateLimit.apply(request, reply, result.count, result.ttlMs);
        return accept(request, hit.key);
      }
      cache.delete(hash!);
    }
    reply.header('WWW-Authenticate', 'Bearer realm="archibald"');
    if (!header) {
      await limit.take(request, reply, epochKey);
      throw new UnauthorizedError('missing Authorization header: send "Authorization: Bearer <api key>"');
    }
    if (!match) {
      await limit.take(request, reply, epochKey);
      throw new UnauthorizedError('Authorization header must be "Bearer <api key>"');
    }
    // Concurrent requests from one address with the same key share one count and one lookup
    // (a burst when a key's cache entry lapses would otherwise spend the address's budget).
    const flightKey = `${request.ip}\n${hash}`;
    let flight = lookups.get(flightKey);
    let counted = false;
    if (flight) {
      request.log.debug('key lookup shared with a request in flight');
    } else {
      counted = true;
      flight = (async () => {
        const epoch = await limit.take(request, reply, epochKey);
        return { epoch, record: await findApiKeyByHash(pool, hash!) };
      })();
      lookups.set(flightKey, flight);
      // Shared until this request has given its count back (or failed): one count at a time.
      state.owned = flightKey;
    }
    let looked: Awaited<typeof flight>;
    try {
      looked = await flight;
    } catch (error) {
      if (error instanceof HttpError && error.statusCode === 429) {
        // The first request's address was over budget: this one's count refuses it with its own
        // Retry-After.
        if (!counted) await limit.take(request, reply, epochKey);
      } else if (counted) {
        // The lookup failed (Postgres unreachable): the key is neither valid nor invalid, so the
        // address keeps its budget for when the database is back.
        await limit.giveBack(request);
      }
      throw error;
    }
    const { epoch, record } = looked;
    // A request that shared a lookup which found no valid key still counts against its address.
    if (!counted && (!record || record.expired)) await limit.take(request, reply, epochKey);
    if (!record) throw new UnauthorizedError('the API key is unknown or revoked');
    const { expired, expiryAudited, ...key } = record;
    if (expired) {
      // Only the first refusal is audited; later ones do not write at all.
      if (!expiryAudited)
        await auditFirstExpiredUse(pool, key, { route: request.routeOptions.url ?? request.url });
      const rotated = key.successorId ? ' (it was rotated: use its successor)' : '';
      throw new UnauthorizedError(
        `the API key expired at ${key.expiresAt.toISOString()}${rotated}; create or rotate a key`,
      );
    }
    reply.removeHeader('WWW-Authenticate');
    if (epoch !== undefined) cache.set(hash!, key, epoch);
    await rateLimit.admit(request, reply, key.id, limit.key(request), counted);
    accept(request, key);
  };
  scope.decorateRequest('apiKey', undefined);
  scope.addHook('onRequest', async (request: FastifyRequest, reply: FastifyReply) => {
    const state: { owned?: string } = {};
    try {
      await authenticate(request, reply, state);
    } finally {
      if (state.owned) lookups.delete(state.owned);
    }
  });
}

/** The authenticated caller; only valid inside a requireApiKey scope. */
export function caller(request: FastifyRequest): ApiKeyRecord {
  if (!request.apiKey) throw new UnauthorizedError('not authenticated');
  return request.apiKey;
}
