/**
 * GET /delegation/stats and GET /memory/patterns: what the workers' paid provider calls did, and
 * what pattern memory holds, from Postgres (and the circuit states the workers publish to Redis).
 * Operational, so they need a key with the `ops` scope.
 */
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { listPatterns, policyFrom } from '../../db/pattern-memory.js';
import { cacheStats, costPerCompletedVideo, modelStats } from '../../db/provider-records.js';
import type { CircuitState } from '../../providers/circuit-breaker.js';
import { readCircuitStates } from '../../queue/circuit-states.js';
import { chooseStart } from '../../stages/script/delegation.js';
import type { ApiContext } from '../context.js';
import { DelegationStatsView, PatternList } from '../delegation-schemas.js';
import { ErrorBody } from '../schemas.js';

const security = [{ bearerAuth: [] }];

export async function delegationRoutes(scope: FastifyInstance, ctx: ApiContext): Promise<void> {
  const app = scope.withTypeProvider<TypeBoxTypeProvider>();
  const { delegation } = ctx.config;

  app.get(
    '/delegation/stats',
    {
      config: { requiredScope: 'ops' },
      schema: {
        summary: 'Paid provider calls per provider and model, the response cache and the cost per video',
        tags: ['ops'],
        security,
        response: { 200: DelegationStatsView, '4xx': ErrorBody, 503: ErrorBody },
      },
    },
    async (request) => {
      const pool = ctx.db.reader();
      const [models, cache, lastHour, lastDay] = await Promise.all([
        modelStats(pool),
        cacheStats(pool),
        costPerCompletedVideo(pool, 1),
        costPerCompletedVideo(pool, 24),
      ]);
      // The circuits are a live view from Redis: without it the figures still answer, all closed.
      const circuits = await readCircuitStates(ctx.redis, ctx.config.queue.prefix).catch((error: unknown) => {
        request.log.warn({ err: error }, 'circuit states unavailable; reported as closed');
        return {} as Record<string, CircuitState>;
      });
      return {
        since: new Date(Date.now() - delegation.callRetentionHours * 3_600_000).toISOString(),
        models: models.map((m) => ({ ...m, circuit: circuits[`${m.provider}:${m.model}`] ?? 'closed' })),
        cache: Object.fromEntries(
          Object.entries(cache).map(([task, c]) => [
            task,
            { ...c, hitRate: c.hits + c.misses > 0 ? c.hits / (c.hits + c.misses) : null },
          ]),
        ),
        costPerCompletedVideo: { lastHour, lastDay },
      };
    },
  );

  app.get(
    '/memory/patterns',
    {
      config: { requiredScope: 'ops' },
      schema: {
        summary: 'Pattern memory: each request pattern, its stats and where delegation starts it',
        tags: ['ops'],
        security,
        response: { 200: PatternList, '4xx': ErrorBody, 503: ErrorBody },
      },
    },
    async () => {
      const policy = policyFrom(delegation);
      const rows = await listPatterns(ctx.db.reader());
      return {
        policy,
        retentionHours: delegation.patternRetentionHours,
        items: rows.map((row) => {
          // The streak only times the next probe; the choice below says what it means.
          const { premiumStreak, ...shown } = row;
          return {
            ...shown,
            choice: chooseStart({ ...row, premiumStreak }, policy),
            averageCostUsd: row.writes > 0 ? row.costUsd / row.writes : 0,
            averageLatencyMs: row.writes > 0 ? row.latencyMs / row.writes : 0,
            lastUsedAt: row.lastUsedAt.toISOString(),
          };
        }),
      };
    },
  );
}
