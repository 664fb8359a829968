import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { VideoEventHub } from '../../runtime/api/video-events.js';
import { closeConfig } from '../../runtime/config/load.js';
import { createDatabase } from '../../runtime/db/pool.js';
import { getVideoWithStages, type VideoWithStages } from '../../runtime/db/videos.js';
import { apiClient, createTestKey, startTestApi } from '../support/api.js';
import { useTestEnvironment } from '../support/environment.js';
import { eventually } from '../support/processes.js';

const environment = await useTestEnvironment();
const api = await startTestApi(environment);
const { key } = await createTestKey(environment);
const call = apiClient(api.url, key);
const redis = new Redis(environment.env.REDIS_URL!);
environment.defer(() => redis.quit());

test('cancelling a queued video reaches its watchers through the queue, not the backstop', async () => {
  const config = environment.config();
  const db = createDatabase(config.database);
  // A backstop that never fires inside the test: only the queue's own event can deliver the cancel.
  const hub = new VideoEventHub({ config, db, log: pino({ level: 'silent' }), backstopMs: 3_600_000 });
  environment.defer(async () => {
    await hub.close();
    await db.close();
    closeConfig(config);
  });

  // No worker runs, so the video stays queued until it is cancelled.
  const created = await call('POST', '/v1/videos', { body: { topic: 'cancelled before it starts' } });
  assert.equal(created.status, 202);
  const id = created.body.id as string;
  const seen: VideoWithStages[] = [];
  const stop = hub.watch((await getVideoWithStages(db.primary, id))!, (video) => seen.push(video));
  // The subscriber reads the queue's events from the moment its XREAD blocks: wait for that (the
  // API's own hub and this one), or a cancel sent earlier would be missed by design.
  await eventually('both event subscribers blocked reading the queue', async () => {
    const clients = String(await redis.client('LIST')).split('\n');
    const reading = clients.filter(
      (c) => c.includes(` name=${environment.keyPrefix}:`) && /:qe .* cmd=xread /.test(c),
    );
    return reading.length >= 2 ? true : undefined;
  });

  const cancelled = await call('DELETE', `/v1/videos/${id}`);
  assert.equal(cancelled.status, 200);
  const last = await eventually('the cancelled status delivered to the watcher', async () =>
    seen.find((video) => video.status === 'cancelled'),
  );
  assert.equal(last.id, id);
  stop();
  assert.equal(hub.size, 0);
});
