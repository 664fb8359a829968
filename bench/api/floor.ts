/**
 * The I/O floor: a bare fastify doing only the I/O each route must do, with pg, ioredis and
 * BullMQ at their default settings, no auth, no validation, no logging.
 *   GET  /v1/videos/:id  one Redis command (INCR) + one Postgres primary-key select;
 *   POST /v1/videos      one Redis command (INCR) + one Postgres insert + one BullMQ add.
 * Reads DATABASE_URL, REDIS_URL and QUEUE_PREFIX; the table and queue it uses are its own.
 */
import { randomUUID } from 'node:crypto';
import Fastify from 'fastify';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import pg from 'pg';

const prefix = `${process.env.QUEUE_PREFIX ?? 'bench'}-floor`;
const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL });
const redis = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379', { maxRetriesPerRequest: null });
const queue = new Queue('floor', { connection: redis, prefix });

await pool.query(
  `CREATE TABLE IF NOT EXISTS bench_floor (id uuid PRIMARY KEY, status text NOT NULL,
     spec jsonb NOT NULL, created_at timestamptz NOT NULL DEFAULT now())`,
);
const seed = randomUUID();
await pool.query(`INSERT INTO bench_floor (id, status, spec) VALUES ($1, 'queued', '{}')`, [seed]);

const app = Fastify({ logger: false });
app.post('/v1/videos', async (request, reply) => {
  const id = randomUUID();
  await redis.incr(`${prefix}:count`);
  const rows = await pool.query(
    `INSERT INTO bench_floor (id, status, spec) VALUES ($1, 'queued', $2) RETURNING id, status, created_at`,
    [id, request.body],
  );
  await queue.add('video', { videoId: id }, { jobId: id });
  return reply.code(202).send(rows.rows[0]);
});
app.get('/v1/videos/:id', async () => {
  await redis.incr(`${prefix}:count`);
  const rows = await pool.query('SELECT id, status, spec, created_at FROM bench_floor WHERE id = $1', [seed]);
  return rows.rows[0];
});
const address = await app.listen({ port: 0, host: '127.0.0.1' });
process.stdout.write(`ready ${address}\n`);
process.once('SIGTERM', () => {
  void (async () => {
    await app.close();
    await queue.obliterate({ force: true }).catch(() => {});
    await queue.close();
    redis.disconnect();
    await pool.query('DROP TABLE IF EXISTS bench_floor').catch(() => {});
    await pool.end();
    process.exit(0);
  })();
});
