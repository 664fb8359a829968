/**
 * /health (the process is alive) and /ready (Postgres, Redis, migrations). /metrics is not here:
 * the API serves it on its internal API_METRICS_PORT (runtime/api/server.ts), never to the public.
 */
import type { FastifyInstance } from 'fastify';
import type {} from '@fastify/swagger';
import { pendingMigrations } from '../../db/migrate.js';
import type { Migration } from '../../db/migrate.js';
import type { ApiContext } from '../context.js';
import { HealthBody, ReadyBody } from '../schemas.js';

const CHECK_TIMEOUT_MS = 2000;

async function withTimeout<T>(what: string, work: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`${what} did not answer within ${CHECK_TIMEOUT_MS} ms`)),
      CHECK_TIMEOUT_MS,
    );
  });
  try {
    return await Promise.race([work, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

type Check = { ok: boolean; error?: string };

async function check(what: string, probe: () => Promise<unknown>): Promise<Check> {
  try {
    await withTimeout(what, probe());
    return { ok: true };
  } catch (error) {
    return { ok: false, error: `${what}: ${(error as Error).message || String(error)}` };
  }
}

export async function healthRoutes(
  app: FastifyInstance,
  ctx: ApiContext,
  migrations: Migration[],
): Promise<void> {
  app.get(
    '/health',
    { schema: { summary: 'Liveness: the process is up', tags: ['ops'], response: { 200: HealthBody } } },
    async () => ({ status: 'ok' }),
  );

  app.get(
    '/ready',
    {
      schema: {
        summary:
          'Readiness: Postgres and Redis reachable, migrations applied (503 with the reason otherwise)',
        tags: ['ops'],
        response: { 200: ReadyBody, 503: ReadyBody },
      },
    },
    async (_request, reply) => {
      const checks: Record<string, Check> = {};
      const [postgres, redis] = await Promise.all([
        check('postgres', () => ctx.db.primary.query('SELECT 1')),
        check('redis', () => ctx.redis.ping()),
      ]);
      checks.postgres = postgres;
      checks.redis = redis;
      if (ctx.db.replicas.length > 0)
        checks.postgresReplica = await check('postgres replica', () =>
          Promise.all(ctx.db.replicas.map((replica) => replica.query('SELECT 1'))),
        );
      if (postgres.ok) {
        checks.migrations = await check('migrations', async () => {
          const pending = await pendingMigrations(ctx.db.primary, migrations);
          if (pending.length > 0) throw new Error(`pending: ${pending.join(', ')} (run archibald migrate)`);
        });
      }
      const ready = Object.values(checks).every((c) => c.ok);
      return reply.code(ready ? 200 : 503).send({ status: ready ? 'ready' : 'not ready', checks });
    },
  );
}
