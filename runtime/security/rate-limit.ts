/**
 * Per-key rate limit, counted in Redis so every API replica shares the budget. Runs after
 * authentication (it keys on the API key id) and before the body is parsed, so every request counts.
 */
import rateLimit from '@fastify/rate-limit';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { HttpError } from '../http-error.js';
import type { Config } from '../config/load.js';
import type { RedisClient } from '../queue/connection.js';
import type { Metrics } from '../metrics/registry.js';

export async function registerRateLimit(
  scope: FastifyInstance,
  options: { redis: RedisClient; config: Config['rateLimit']; keyPrefix: string; metrics: Metrics },
): Promise<void> {
  await scope.register(rateLimit, {
    global: true,
    hook: 'preParsing',
    max: options.config.max,
    timeWindow: options.config.windowSeconds * 1000,
    redis: options.redis,
    nameSpace: `${options.keyPrefix}:ratelimit:`,
    // Fail open: a Redis hiccup must not refuse every request; the queue write reports it anyway.
    skipOnError: true,
    keyGenerator: (request: FastifyRequest) => request.apiKey?.id ?? `ip:${request.ip}`,
    onExceeded: (request: FastifyRequest) => {
      options.metrics.rateLimitedRequests.inc({ route: request.routeOptions.url ?? 'unmatched' });
    },
    errorResponseBuilder: (_request, context) =>
      new HttpError(
        context.statusCode,
        `rate limit of ${context.max} requests per ${options.config.windowSeconds} s exceeded for this API key; ` +
          `retry in ${context.after}`,
      ),
  });
}
