/**
 * The baseline: bare fastify with the same two routes answering fixed JSON (JSON parsing, no
 * auth, no validation, no database, no queue), so the ratio shows what Archibald's work costs.
 */
import Fastify from 'fastify';

const app = Fastify({ logger: false });
const video = {
  id: '00000000-0000-4000-8000-000000000000',
  status: 'queued',
  stage: null,
  progress: 0,
  links: { self: '/v1/videos/00000000-0000-4000-8000-000000000000' },
};
app.post('/v1/videos', async (_request, reply) => reply.code(202).send(video));
app.get('/v1/videos/:id', async () => video);
const address = await app.listen({ port: 0, host: '127.0.0.1' });
process.stdout.write(`ready ${address}\n`);
process.once('SIGTERM', () => void app.close().then(() => process.exit(0)));
