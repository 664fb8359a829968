/**
 * Builds the API's fastify instance from its dependencies (no listening, no connecting), so
 * tests and the server entry share one assembly.
 */
import { randomUUID } from 'node:crypto';
import cors from '@fastify/cors';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import { context } from '@opentelemetry/api';
import type { Context } from '@opentelemetry/api';
import Fastify, { LogController } from 'fastify';
import type { FastifyBaseLogger, FastifyInstance, FastifyRequest } from 'fastify';
import type { IncomingMessage } from 'node:http';
import type { Migration } from '../db/migrate.js';
import { loadMigrations } from '../db/migrate.js';
import { requireApiKey } from '../security/auth.js';
import { AuthLimit } from '../security/auth-limit.js';
import { KeyCache } from '../security/key-cache.js';
import { RateLimit } from '../security/rate-limit.js';
import type { ApiContext } from './context.js';
import { installErrorHandlers } from './errors.js';
import { delegationRoutes } from './routes/delegation.js';
import { securityHeaders } from './security-headers.js';
import { eventRoutes } from './routes/events.js';
import { fileRoutes } from './routes/files.js';
import { healthRoutes } from './routes/health.js';
import { videoRoutes } from './routes/videos.js';
import { typeboxValidatorCompiler } from './validation.js';

const REQUEST_ID = /^[A-Za-z0-9._-]{1,64}$/;

/** Keeps a caller's request id when it is safe to log, otherwise makes one. */
function requestId(req: IncomingMessage): string {
  const incoming = req.headers['x-request-id'];
  return typeof incoming === 'string' && REQUEST_ID.test(incoming) ? incoming : randomUUID();
}

export async function buildApi(
  ctx: ApiContext,
  migrations: Migration[] = loadMigrations(),
): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: ctx.log as FastifyBaseLogger,
    genReqId: requestId,
    requestIdHeader: false,
    bodyLimit: ctx.config.bodyLimitBytes,
    // Behind the ALB, only its hops are believed: X-Forwarded-For is read from the right through
    // the TRUST_PROXY addresses, so a client cannot pick its own address by sending the header.
    trustProxy: ctx.config.trustProxy.length > 0 ? ctx.config.trustProxy : false,
    return503OnClosing: true,
    // One line per request (below, with route and duration) instead of fastify's two.
    logController: new LogController({ disableRequestLogging: true }),
    routerOptions: { ignoreTrailingSlash: true },
  });
  app.setValidatorCompiler(typeboxValidatorCompiler);
  installErrorHandlers(app, ctx.config.bodyLimitBytes);
  // Only JSON bodies: without this, text/plain would be parsed and then fail as "not an object".
  app.removeContentTypeParser(['text/plain']);

  const headers = securityHeaders();
  // onResponse runs after the response went out, outside the request's trace context: with tracing
  // on, the context is kept from onRequest (where the request's span is active) so that the latency
  // exemplar and the request log line name the request's trace.
  const traced = ctx.config.tracing !== undefined;
  const requestContexts = new WeakMap<FastifyRequest, Context>();
  // Callback-style hooks: an async hook costs a promise per request on every route.
  app.addHook('onRequest', (request, reply, done) => {
    reply.headers(headers);
    reply.header('x-request-id', request.id);
    if (traced) requestContexts.set(request, context.active());
    done();
  });
  const httpDuration = ctx.metrics.metrics.httpRequestDuration;
  const record = (request: FastifyRequest, statusCode: number, elapsedMs: number) => {
    const route = request.routeOptions.url ?? 'unmatched';
    httpDuration.observe(
      { route, method: request.method, status_code: String(statusCode) },
      elapsedMs / 1000,
    );
    request.log.info(
      {
        method: request.method,
        route,
        statusCode,
        ms: Math.round(elapsedMs * 10) / 10,
        ...(request.apiKey ? { apiKeyId: request.apiKey.id } : {}),
      },
      'request',
    );
  };
  app.addHook('onResponse', (request, reply, done) => {
    const kept = traced ? requestContexts.get(request) : undefined;
    if (kept) context.with(kept, () => record(request, reply.statusCode, reply.elapsedTime));
    else record(request, reply.statusCode, reply.elapsedTime);
    done();
  });

  if (ctx.config.corsOrigins.length > 0) await app.register(cors, { origin: ctx.config.corsOrigins });

  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Archibald API',
        version: ctx.config.version,
        description: 'Guided-meditation videos: submit a request, follow it, download the result.',
      },
      components: { securitySchemes: { bearerAuth: { type: 'http', scheme: 'bearer' } } },
      tags: [
        { name: 'videos', description: 'Video jobs (API key required)' },
        { name: 'ops', description: 'Health, readiness, delegation stats and pattern memory' },
      ],
    },
  });
  await app.register(swaggerUi, { routePrefix: '/docs', staticCSP: true });

  await healthRoutes(app, ctx, migrations);
  await app.register(async (v1) => {
    const authLimit = new AuthLimit({
      redis: ctx.redis,
      keyPrefix: ctx.config.queue.prefix,
      max: ctx.config.rateLimit.authFailuresMax,
      windowSeconds: ctx.config.rateLimit.windowSeconds,
      onLimited: (request) =>
        ctx.metrics.metrics.rateLimitedRequests.inc({ route: request.routeOptions.url ?? 'unmatched' }),
    });
    requireApiKey(v1, {
      pool: ctx.db.primary,
      limit: authLimit,
      rateLimit: new RateLimit({
        redis: ctx.redis,
        config: ctx.config.rateLimit,
        keyPrefix: ctx.config.queue.prefix,
        metrics: ctx.metrics.metrics,
      }),
      cache: new KeyCache(ctx.config.apiKeys.cacheSeconds * 1000),
      keyPrefix: ctx.config.queue.prefix,
      defaultScope: 'videos',
    });
    await videoRoutes(v1, ctx);
    await eventRoutes(v1, ctx);
    await fileRoutes(v1, ctx);
    // Outside /v1 but behind the same keys: they need the "ops" scope (their config says so).
    await delegationRoutes(v1, ctx);
  });
  return app;
}
