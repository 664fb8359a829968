/**
 * /health (the process is alive) and /ready (Postgres, Redis, migrations). /metrics is not here:
 * the API serves it on its internal API_METRICS_PORT (runtime/api/server.ts), never to the public.
 */
import type { FastifyBaseLogger, FastifyInstance } from 'fastify';
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

/**
 * /ready is public (the load balancer probes it), so a failed check says what failed, in our own
 * words: a server's error text (Postgres names databases, roles, relations) or a system error's
 * (addresses, host names) goes to the log, and the answer only says the dependency is failing.
 */
function publicReason(error: unknown): string | undefined {
  if (!(error instanceof Error)) return undefined;
  const e = error as Error & { code?: unknown; severity?: unknown; errno?: unknown; address?: unknown };
  if (e.severity !== undefined || e.code !== undefined || e.errno !== undefined || e.address !== undefined)
    return undefined;
  return e.message || undefined;
}

async function check(what: string, probe: () => Promise<unknown>, log: FastifyBaseLogger): Promise<Check> {
  try {
    await withTimeout(what, probe());
    return { ok: true };
  } catch (error) {
    log.warn({ err: error, check: what }, 'readiness check failed');
    return { ok: false, error: `${what}: ${publicReason(error) ?? 'failing (the reason is in the log)'}` };
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
    async (request, reply) => {
      const checks: Record<string, Check> = {};
      const [postgres, redis] = await Promise.all([
        check('postgres', () => ctx.db.primary.query('SELECT 1'), request.log),
        check('redis', () => ctx.redis.ping(), request.log),
      ]);
      checks.postgres = postgres;
      checks.redis = redis;
      if (ctx.db.replicas.length > 0)
        checks.postgresReplica = await check(
          'postgres replica',
          () => Promise.all(ctx.db.replicas.map((replica) => replica.query('SELECT 1'))),
          request.log,
        );
      if (postgres.ok) {
        checks.migrations = await check(
          'migrations',
          async () => {
            const pending = await pendingMigrations(ctx.db.primary, migrations);
            if (pending.length > 0) throw new Error(`pending: ${pending.join(', ')} (run archibald migrate)`);
          },
          request.log,
        );
      }
      const ready = Object.values(checks).every((c) => c.ok);
      return reply.code(ready ? 200 : 503).send({ status: ready ? 'ready' : 'not ready', checks });
    },
  );
}
