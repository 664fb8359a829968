/**
 * Bearer API-key authentication for /v1: the presented key is hashed and looked up among the
 * active keys on the primary (so a revocation applies at once). The caller is on request.apiKey.
 * Before the lookup, the request is counted against its client address (security/auth-limit.ts),
 * so that requests without a valid key are limited before they reach Postgres.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type pg from 'pg';
import { findActiveApiKey } from '../db/api-keys.js';
import type { ApiKeyRecord } from '../db/api-keys.js';
import type { AuthLimit } from './auth-limit.js';

declare module 'fastify' {
  interface FastifyRequest {
    apiKey?: ApiKeyRecord;
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

/** Adds an onRequest hook to every route of `scope` that requires a valid key. */
export function requireApiKey(scope: FastifyInstance, pool: pg.Pool, limit: AuthLimit): void {
  scope.decorateRequest('apiKey', undefined);
  scope.addHook('onRequest', async (request: FastifyRequest, reply: FastifyReply) => {
    await limit.take(request, reply);
    const header = request.headers.authorization;
    reply.header('WWW-Authenticate', 'Bearer realm="archibald"');
    if (!header)
      throw new UnauthorizedError('missing Authorization header: send "Authorization: Bearer <api key>"');
    const match = BEARER.exec(header);
    if (!match) throw new UnauthorizedError('Authorization header must be "Bearer <api key>"');
    const record = await findActiveApiKey(pool, match[1]!);
    if (!record) throw new UnauthorizedError('the API key is unknown or revoked');
    await limit.giveBack(request);
    request.apiKey = record;
    reply.removeHeader('WWW-Authenticate');
    request.log = request.log.child({ apiKeyId: record.id });
  });
}

/** The authenticated caller; only valid inside a requireApiKey scope. */
export function caller(request: FastifyRequest): ApiKeyRecord {
  if (!request.apiKey) throw new UnauthorizedError('not authenticated');
  return request.apiKey;
}
