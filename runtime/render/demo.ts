/**
 * `npm run demo`: the main job end to end on this machine. Starts the API and a worker (in this
 * process) against local PostgreSQL and Redis, submits the standard video through the API —
 * "morning calm", 60 s, 16:9, 720p — shows its progress, and prints the file and its ffprobe
 * summary. scripts/ensure-machine.sh has installed what was missing before this runs.
 */
import { join } from 'node:path';
import { startApiServer, createLogger } from '../api/server.js';
import { closeConfig, ConfigError, loadConfig, type Config } from '../config/load.js';
import { createApiKey, revokeApiKey } from '../db/api-keys.js';
import { createDatabase } from '../db/pool.js';
import { createStages } from '../pipeline/stages.js';
import { stageOptions } from '../worker/pipeline-stages.js';
import { startWorkerProcess } from '../worker/process.js';
import { renderThroughApi } from './api-client.js';
import { ensurePostgres, ensureRedis, MissingServiceError } from './local-services.js';
import { ProgressLine } from './progress-line.js';
import { STANDARD_VIDEO } from './request.js';
import { describeVideo } from './summary.js';

// A demo must not collide with a service already on the default ports, and should be quiet;
// the environment still overrides these.
const DEMO_DEFAULTS = { PORT: '0', METRICS_PORT: '0', API_METRICS_PORT: '0', LOG_LEVEL: 'warn' };

async function demo(config: Config): Promise<void> {
  const started = performance.now();
  // Both checked before anything is created, so a missing Redis leaves no new database behind.
  await ensureRedis(config.redis);
  const db = await ensurePostgres(config.database);
  if (db === 'created') console.log(`created the database ${new URL(config.database.url).pathname.slice(1)}`);

  const api = await startApiServer(config);
  const pool = createDatabase(config.database);
  const cleanups: Array<() => Promise<unknown>> = [() => api.close(), () => pool.close()];
  try {
    const { record, key } = await createApiKey(pool.primary, 'demo', 'demo');
    cleanups.unshift(() => revokeApiKey(pool.primary, record.id, 'demo'));
    const worker = await startWorkerProcess(
      config,
      createStages(stageOptions(config)),
      createLogger(config, 'worker'),
    );
    cleanups.unshift(() => worker.stop());
    console.log(
      `API on ${api.url}, worker running; rendering "${STANDARD_VIDEO.topic}" (${STANDARD_VIDEO.durationSeconds} s, ${STANDARD_VIDEO.aspect}, ${STANDARD_VIDEO.resolution})`,
    );

    const controller = new AbortController();
    const interrupt = () => controller.abort(new Error('interrupted'));
    process.once('SIGINT', interrupt);
    const bar = new ProgressLine();
    try {
      const { video } = await renderThroughApi({
        apiUrl: api.url,
        apiKey: key,
        spec: STANDARD_VIDEO,
        signal: controller.signal,
        onProgress: (stage, percent) => bar.update(stage, percent),
      });
      bar.done();
      const seconds = ((performance.now() - started) / 1000).toFixed(1);
      if (config.s3) {
        console.log(`published to ${video.outputUrl} in ${seconds} s`);
      } else {
        const file = join(config.storageDir, 'videos', `${video.id}.mp4`);
        console.log(`\nvideo:    ${file}`);
        console.log(`captions: ${file.replace(/\.mp4$/, '.vtt')}`);
        console.log(`ffprobe:  ${await describeVideo(file)}`);
        console.log(`done in ${seconds} s`);
      }
    } finally {
      bar.done();
      process.off('SIGINT', interrupt);
    }
  } finally {
    for (const cleanup of cleanups) await cleanup().catch(() => {});
  }
}

let config: Config | undefined;
try {
  config = loadConfig(undefined, DEMO_DEFAULTS);
  await demo(config);
} catch (error) {
  process.exitCode = 1;
  if (error instanceof ConfigError || error instanceof MissingServiceError)
    console.error(`demo: ${error.message}`);
  else console.error('demo failed:', error instanceof Error ? error.message : error);
} finally {
  if (config) closeConfig(config);
}
