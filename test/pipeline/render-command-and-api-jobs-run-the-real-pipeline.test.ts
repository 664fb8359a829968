import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Command } from 'commander';
import { renderCommand } from '../../runtime/cli/commands/render.js';
import { CliError } from '../../runtime/cli/run.js';
import { probeMedia } from '../../runtime/media/ffmpeg.js';
import { createStages } from '../../runtime/pipeline/stages.js';
import { renderThroughApi, type ApiVideo } from '../../runtime/render/api-client.js';
import { stageOptions } from '../../runtime/worker/pipeline-stages.js';
import { apiClient, createTestKey, startTestApi } from '../support/api.js';
import { useTestEnvironment } from '../support/environment.js';
import { eventually } from '../support/processes.js';
import { startTestWorker } from '../support/worker.js';
import { ffmpegDescendants } from './processes.js';
import { parseWebVtt } from './webvtt.js';
import { STANDARD_VIDEO } from '../../runtime/render/request.js';

const environment = await useTestEnvironment();
const api = await startTestApi(environment);
await startTestWorker(environment, createStages(stageOptions(environment.config())));
const { key } = await createTestKey(environment);
const call = apiClient(api.url, key);
const spec = { ...STANDARD_VIDEO, durationSeconds: 15 } as const;

async function runRender(args: string[], env: Record<string, string> = {}): Promise<void> {
  const saved = { ...process.env };
  Object.assign(process.env, env);
  try {
    const program = new Command('archibald').exitOverride();
    renderCommand(program);
    await program.parseAsync(['node', 'archibald', 'render', ...args]);
  } finally {
    for (const name of Object.keys(env)) {
      if (saved[name] === undefined) delete process.env[name];
      else process.env[name] = saved[name];
    }
  }
}

test('a video submitted to the API is rendered by the worker, published and downloadable', async () => {
  const out = join(environment.dir, 'downloads', 'calm.mp4');
  const percents: number[] = [];
  const { video } = await renderThroughApi({
    apiUrl: api.url,
    apiKey: key,
    spec,
    out,
    signal: new AbortController().signal,
    onProgress: (_stage, percent) => percents.push(percent),
    pollMs: 200,
  });
  assert.equal(video.status, 'completed');
  assert.equal(video.outputUrl, `http://127.0.0.1:8080/v1/videos/${video.id}/file`);
  const info = await probeMedia(out);
  assert.ok(Math.abs(info.durationSeconds - 15) <= 0.5);
  assert.deepEqual(
    info.streams.map((s) => [s.type, s.codec]),
    [
      ['video', 'h264'],
      ['audio', 'aac'],
    ],
  );
  assert.ok(parseWebVtt(await readFile(join(environment.dir, 'downloads', 'calm.vtt'), 'utf8')).length > 0);
  const stored = await call('GET', `/v1/videos/${video.id}`);
  assert.deepEqual(
    stored.body.stages.map((s: { name: string; status: string }) => `${s.name}:${s.status}`),
    ['script', 'narration', 'visuals', 'captions', 'ambient', 'assemble', 'publish'].map(
      (s) => `${s}:completed`,
    ),
  );
  assert.ok(percents.length > 0);
  // The worker removed the job's work directory after success.
  assert.deepEqual(await readdir(environment.env.WORK_DIR as string).catch(() => []), []);
});

test('cancelling a job mid-assembly stops its ffmpeg and removes its work directory', async () => {
  const created = await call('POST', '/v1/videos', { body: { ...spec, durationSeconds: 120 } });
  assert.equal(created.status, 202);
  const id = created.body.id as string;
  await eventually('the job to reach assembly', async () => {
    const { body } = await call<ApiVideo>('GET', `/v1/videos/${id}`);
    return body.stage === 'assemble' && body.status === 'running' ? true : undefined;
  });
  const cancelled = await call('DELETE', `/v1/videos/${id}`);
  assert.ok([200, 202].includes(cancelled.status), `DELETE answered ${cancelled.status}`);
  await eventually(
    'the job to be cancelled with nothing left behind',
    async () => {
      const { body } = await call<ApiVideo>('GET', `/v1/videos/${id}`);
      const ffmpeg = await ffmpegDescendants();
      const work = await readdir(environment.env.WORK_DIR as string).catch(() => []);
      return body.status === 'cancelled' && ffmpeg.length === 0 && work.length === 0 ? true : undefined;
    },
    30_000,
  );
  const { body } = await call<ApiVideo>('GET', `/v1/videos/${id}`);
  assert.equal(body.outputUrl, null);
});

test('archibald render goes through the API when API_URL is set, and names a bad flag', async () => {
  const out = join(environment.dir, 'cli', 'evening.mp4');
  await runRender(['evening rest', '--duration', '15', '--aspect', '1:1', '--out', out], {
    API_URL: api.url,
    ARCHIBALD_API_KEY: key,
  });
  const video = (await probeMedia(out)).streams.find((s) => s.type === 'video');
  assert.deepEqual([video?.width, video?.height], [720, 720]);

  for (const [args, message] of [
    [['x', '--duration', '5'], /--duration must be >= 15 \(got "5"\)/],
    [['x', '--aspect', '4:3'], /--aspect must be one of "16:9", "9:16", "1:1"/],
    [['x', '--out', 'video.mov'], /--out must name an \.mp4 file/],
    [['', '--duration', '60'], /the topic must be at least 1 characters/],
  ] as const) {
    await assert.rejects(runRender([...args]), (error: unknown) => {
      assert.ok(error instanceof CliError, String(error));
      assert.equal(error.exitCode, 2);
      assert.match(error.message, message);
      return true;
    });
  }
});
