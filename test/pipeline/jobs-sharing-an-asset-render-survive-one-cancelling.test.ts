import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { probeMedia } from '../../runtime/media/ffmpeg.js';
import { StageError, type Stage, type VideoSpec } from '../../runtime/pipeline/stage.js';
import { createStages } from '../../runtime/pipeline/stages.js';
import { backgroundLook } from '../../runtime/stages/look.js';
import type { VisualsOutput } from '../../runtime/stages/visuals.js';
import { ffmpegDescendants } from './processes.js';
import { runStages, standardSpec } from './stage-runner.js';

let root: string;
let stages: Stage[];
const cacheDir = () => join(root, 'cache');

before(async () => {
  root = await mkdtemp(join(tmpdir(), 'archibald-test-shared-render-'));
  stages = createStages({
    storage: { dir: join(root, 'videos'), publicBaseUrl: 'http://127.0.0.1:8080' },
    assetCacheDir: cacheDir(),
    ffmpegTimeoutSeconds: 300,
  }).filter((s) => s.name === 'script' || s.name === 'visuals');
});
after(() => rm(root, { recursive: true, force: true }));

/** Resolves once the shared background render is writing its partial file. */
async function renderStarted(): Promise<void> {
  for (;;) {
    const names = await readdir(cacheDir()).catch(() => [] as string[]);
    if (names.some((n) => n.startsWith('background-') && n.includes('.part-'))) return;
    await delay(10);
  }
}

function cancelled(error: unknown): boolean {
  assert.ok(error instanceof StageError, String(error));
  assert.equal(error.stage, 'visuals');
  assert.match(error.message, /cancelled by request/);
  return true;
}

test('two jobs share one background render; cancelling one leaves the other completing', async () => {
  // Two videos with the same look: one background render serves both.
  const first: VideoSpec = { ...standardSpec, seed: 'shared-a' };
  const second: VideoSpec = { ...standardSpec, seed: 'shared-a', topic: 'another topic, same look' };
  assert.deepEqual(backgroundLook(first), backgroundLook(second));
  const a = new AbortController();
  const b = new AbortController();
  const jobA = runStages(stages, first, { signal: a.signal });
  const jobB = runStages(stages, second, { signal: b.signal });
  await renderStarted();
  a.abort(new Error('cancelled by request'));

  await assert.rejects(jobA, cancelled);
  const done = await jobB;
  const visuals = done.outputs.visuals as VisualsOutput;
  assert.equal(visuals.cacheHit, false, 'B waited on the render A started');
  const info = await probeMedia(visuals.loopFile);
  assert.ok(Math.abs(info.durationSeconds - visuals.loopSeconds) < 0.1, `${info.durationSeconds} s`);
  assert.deepEqual(
    (await readdir(cacheDir())).filter((n) => n.includes('.part-')),
    [],
    'no partial render left',
  );
});

test('when every job waiting on a render is cancelled, the render stops and leaves nothing', async () => {
  const spec: VideoSpec = { ...standardSpec, style: 'sleep', seed: 'shared-b' };
  const controllers = [new AbortController(), new AbortController()];
  const jobs = controllers.map((c) => runStages(stages, spec, { signal: c.signal }));
  await renderStarted();
  controllers[0]?.abort(new Error('cancelled by request'));
  await assert.rejects(jobs[0] as Promise<unknown>, cancelled);
  assert.ok((await ffmpegDescendants()).length > 0, 'the render goes on for the job still waiting');
  controllers[1]?.abort(new Error('cancelled by request'));
  await assert.rejects(jobs[1] as Promise<unknown>, cancelled);
  // The render's ffmpeg is stopped and its partial file removed.
  for (let i = 0; i < 100 && (await ffmpegDescendants()).length > 0; i++) await delay(50);
  assert.deepEqual(await ffmpegDescendants(), []);
  for (let i = 0; i < 100; i++) {
    if (!(await readdir(cacheDir())).some((n) => n.includes('.part-'))) break;
    await delay(50);
  }
  const left = (await readdir(cacheDir())).filter((n) => n.startsWith('background-'));
  assert.equal(left.length, 1, `only the first test's loop is cached: ${left.join(', ')}`);
});
