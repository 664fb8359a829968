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
import { auditFirstExpiredUse, findApiKey } from '../db/api-keys.js';
import type { ApiKeyRecord, ApiKeyScope } from '../db/api-keys.js';
import type { AuthLimit } from './auth-limit.js';

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

/** Adds an onRequest hook to every route of `scope` that requires a valid, unexpired key. */
export function requireApiKey(
  scope: FastifyInstance,
  pool: pg.Pool,
  limit: AuthLimit,
  options: { defaultScope: ApiKeyScope },
): void {
  scope.decorateRequest('apiKey', undefined);
  scope.addHook('onRequest', async (request: FastifyRequest, reply: FastifyReply) => {
    await limit.take(request, reply);
    const header = request.headers.authorization;
    reply.header('WWW-Authenticate', 'Bearer realm="archibald"');
    if (!header)
      throw new UnauthorizedError('missing Authorization header: send "Authorization: Bearer <api key>"');
    const match = BEARER.exec(header);
    if (!match) throw new UnauthorizedError('Authorization header must be "Bearer <api key>"');
    const record = await findApiKey(pool, match[1]!);
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
    await limit.giveBack(request);
    request.apiKey = key;
    reply.removeHeader('WWW-Authenticate');
    request.log = request.log.child({ apiKeyId: key.id });
    const required = request.routeOptions.config.requiredScope ?? options.defaultScope;
    if (!key.scopes.includes(required))
      throw new HttpError(
        403,
        `the API key lacks the "${required}" scope this route requires (it has: ${key.scopes.join(', ')})`,
      );
  });
}

/** The authenticated caller; only valid inside a requireApiKey scope. */
export function caller(request: FastifyRequest): ApiKeyRecord {
  if (!request.apiKey) throw new UnauthorizedError('not authenticated');
  return request.apiKey;
}
