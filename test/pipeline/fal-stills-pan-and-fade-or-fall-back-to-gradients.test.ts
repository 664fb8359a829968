/**
 * FAL stills against a local fake of its synchronous API whose answers point at real JPEGs on the
 * fake: the stills are requested, downloaded, priced per megapixel and rendered into a background
 * as long as the video; 429 with retry-after and a 5xx are retried; a persistent failure, an open
 * circuit and the video's budget fall back to the gradient loop; a cancel during a slow answer
 * aborts the request. Every call is reported through ProviderEvents.
 */
import { after, before, beforeEach, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { probeMedia } from '../../runtime/media/ffmpeg.js';
import type { VideoSpec } from '../../runtime/pipeline/stage.js';
import type { ProviderCall, ProviderEvents } from '../../runtime/providers/provider-events.js';
import { AssetCache } from '../../runtime/stages/asset-cache.js';
import { FalStills, stillSize, type FalOptions } from '../../runtime/stages/fal-stills.js';
import { OfflineScriptWriter } from '../../runtime/stages/script/offline-writer.js';
import { createScriptStage } from '../../runtime/stages/script/stage.js';
import { stillCount } from '../../runtime/stages/slideshow.js';
import { createVisualsStage, type VisualsOutput } from '../../runtime/stages/visuals.js';
import { startFakeFal } from '../support/fake-fal.js';
import { runStages } from './stage-runner.js';

const fake = await startFakeFal();
after(() => fake.close());
let root: string;
before(async () => {
  root = await mkdtemp(join(tmpdir(), 'archibald-test-fal-'));
});
after(() => rm(root, { recursive: true, force: true }));

let recorded: { calls: ProviderCall[]; skips: string[]; served: string[] };
const events: ProviderEvents = {
  call: (call) => recorded.calls.push(call),
  skip: (provider, model, reason) => recorded.skips.push(`${provider}:${model}:${reason}`),
  served: (task, by) => recorded.served.push(`${task}:${by}`),
};
beforeEach(() => {
  recorded = { calls: [], skips: [], served: [] };
  fake.received.length = 0;
  fake.downloads.length = 0;
  fake.reply = () => ({ kind: 'answer' });
  fake.flagged = () => false;
});

let videos = 0;
function spec(seed: string, durationSeconds = 15): VideoSpec {
  return {
    topic: 'letting go of work stress',
    durationSeconds,
    aspect: '16:9',
    resolution: '720p',
    voice: 'slt',
    style: 'calm',
    burnCaptions: false,
    seed,
  };
}

/** Script and visuals for a video; the background is probed before the work directory goes. */
async function visuals(
  options: Partial<FalOptions> = {},
  run: { signal?: AbortSignal; source?: FalStills; cache?: AssetCache; seed?: string } = {},
) {
  videos += 1;
  const cache = run.cache ?? new AssetCache(join(root, `cache-${videos}`));
  const source =
    run.source ??
    new FalStills(cache, {
      apiKey: () => 'fal-test',
      baseUrl: fake.url,
      budgetUsd: 0.05,
      events,
      ...options,
    });
  let probe: Awaited<ReturnType<typeof probeMedia>> | undefined;
  const result = await runStages(
    [
      createScriptStage(new OfflineScriptWriter()),
      createVisualsStage(cache, { ffmpegTimeoutSeconds: 120, stills: source, events }),
    ],
    spec(run.seed ?? `fal-${videos}`),
    {
      ...(run.signal ? { signal: run.signal } : {}),
      afterStage: async (stage, r) => {
        if (stage === 'visuals') probe = await probeMedia((r.outputs.visuals as VisualsOutput).loopFile);
      },
    },
  );
  return { source, output: result.outputs.visuals as VisualsOutput, probe, result };
}

test('a valid answer: the stills are downloaded, priced per megapixel and panned and faded over the video', async () => {
  const { output, probe, result } = await visuals();
  const count = stillCount(15);
  assert.equal(output.source, 'fal:fal-ai/flux/schnell');
  assert.equal(fake.received.length, count);
  const size = stillSize({ width: 1280, height: 720 });
  assert.deepEqual(size, { width: 1360, height: 768 });
  for (const r of fake.received) {
    assert.equal(r.path, '/fal-ai/flux/schnell');
    assert.equal(r.headers.authorization, 'Key fal-test');
    assert.deepEqual(r.body.image_size, size);
    assert.equal(r.body.num_images, 1);
    assert.match(r.body.prompt, /letting go of work stress/);
  }
  assert.equal(new Set(fake.received.map((r) => r.body.prompt)).size, count, 'a different view per still');
  assert.equal(fake.downloads.length, count);
  const video = probe?.streams.find((s) => s.type === 'video');
  assert.equal(video?.width, 1280);
  assert.equal(video?.height, 720);
  assert.ok(probe && Math.abs(probe.durationSeconds - 16) < 0.2, `background ${probe?.durationSeconds} s`);
  assert.ok(Math.abs((result.providerCosts.fal ?? 0) - count * 0.003) < 1e-9);
  assert.equal(recorded.calls.length, count);
  assert.ok(recorded.calls.every((c) => c.outcome === 'ok' && c.unit === 'images' && c.costUsd === 0.003));
  assert.deepEqual(recorded.served, ['visuals:fal:fal-ai/flux/schnell']);
});

test('a retried job finds its stills in the asset cache and pays nothing again', async () => {
  const cache = new AssetCache(join(root, 'shared-cache'));
  const first = await visuals({}, { cache, seed: 'again' });
  assert.equal(first.output.cacheHit, false);
  fake.received.length = 0;
  recorded = { calls: [], skips: [], served: [] };
  const { output, result } = await visuals({}, { cache, seed: 'again' });
  assert.equal(output.source, 'fal:fal-ai/flux/schnell');
  assert.equal(output.cacheHit, true, 'every still came from the cache');
  assert.equal(fake.received.length, 0);
  assert.equal(result.providerCosts.fal ?? 0, 0);
});

test('a 429 with retry-after is retried after the wait it asks for', async () => {
  fake.reply = (_r, index) =>
    index === 0 ? { kind: 'status', status: 429, headers: { 'retry-after': '1' } } : { kind: 'answer' };
  const { output } = await visuals({ concurrency: 1 });
  assert.equal(output.source, 'fal:fal-ai/flux/schnell');
  const [first, second] = fake.received;
  assert.equal(first?.body.seed, second?.body.seed, 'the same still is asked again');
  assert.ok((second?.at ?? 0) - (first?.at ?? 0) >= 950);
});

test('a 5xx then success is retried and the background stays FAL stills', async () => {
  fake.reply = (_r, index) => (index === 0 ? { kind: 'status', status: 502 } : { kind: 'answer' });
  const { output } = await visuals({ concurrency: 1 });
  assert.equal(output.source, 'fal:fal-ai/flux/schnell');
  assert.equal(fake.received.length, stillCount(15) + 1, 'the failed still once more, the others once');
  assert.deepEqual(recorded.served, ['visuals:fal:fal-ai/flux/schnell']);
});

test('a generation unanswered within the timeout is not sent again: it may have been made and billed', async () => {
  fake.reply = () => ({ kind: 'slow', ms: 5000 });
  const { output, result } = await visuals({ timeoutMs: 300, maxRetries: 2, concurrency: 1 });
  assert.equal(output.source, 'gradients');
  assert.equal(fake.received.length, 1);
  assert.equal(result.providerCosts.fal ?? 0, 0);
  assert.deepEqual(
    recorded.calls.map((c) => c.outcome),
    ['error'],
  );
});

test('a flagged (blacked-out) image fails the set: it is paid for, not cached, and the gradients show', async () => {
  fake.flagged = (_r, index) => index === 1;
  const cache = new AssetCache(join(root, 'flagged-cache'));
  const { output, result } = await visuals({ concurrency: 1 }, { cache, seed: 'flagged' });
  assert.equal(output.source, 'gradients');
  assert.equal(fake.received.length, 2, 'the set stops at the flagged image');
  assert.deepEqual(
    recorded.calls.map((c) => c.outcome),
    ['ok', 'invalid'],
  );
  assert.ok(Math.abs((result.providerCosts.fal ?? 0) - 2 * 0.003) < 1e-9, 'both images are billed');
  fake.received.length = 0;
  fake.flagged = () => false;
  recorded = { calls: [], skips: [], served: [] };
  await visuals({ concurrency: 1 }, { cache, seed: 'flagged' });
  assert.equal(fake.received.length, stillCount(15) - 1, 'the flagged image was not cached');
});

test('a persistent failure falls back to the gradient loop at no cost', async () => {
  fake.reply = () => ({ kind: 'status', status: 500 });
  const { output, result } = await visuals({ maxRetries: 1 });
  assert.equal(output.source, 'gradients');
  assert.ok(output.loopFile.includes('background-'));
  assert.equal(result.providerCosts.fal ?? 0, 0);
  assert.ok(recorded.calls.some((c) => c.outcome === 'error'));
  assert.deepEqual(recorded.served, ['visuals:gradients']);
});

test('an open circuit skips FAL without a request', async () => {
  fake.reply = () => ({ kind: 'status', status: 503 });
  const cache = new AssetCache(join(root, 'circuit-cache'));
  const source = new FalStills(cache, {
    apiKey: () => 'fal-test',
    baseUrl: fake.url,
    budgetUsd: 0.05,
    events,
    maxRetries: 0,
    circuitFailures: 1,
    concurrency: 1,
  });
  await visuals({}, { source, cache, seed: 'circuit-1' });
  assert.equal(source.circuits.state('fal-ai/flux/schnell'), 'open');
  const before = fake.received.length;
  const { output } = await visuals({}, { source, cache, seed: 'circuit-2' });
  assert.equal(fake.received.length, before);
  assert.equal(output.source, 'gradients');
  assert.ok(recorded.skips.includes('fal:fal-ai/flux/schnell:circuit_open'));
});

test('stills whose price would cross the video budget are not requested', async () => {
  const { output } = await visuals({ budgetUsd: 0.005 });
  assert.equal(output.source, 'gradients');
  assert.equal(fake.received.length, 0);
  assert.deepEqual(recorded.skips, ['fal:fal-ai/flux/schnell:budget']);
});

test('cancel during a slow answer aborts the request and renders no gradients', async () => {
  fake.reply = () => ({ kind: 'slow', ms: 20_000 });
  const controller = new AbortController();
  const started = Date.now();
  const poll = setInterval(() => {
    if (fake.received.length > 0) controller.abort(new Error('cancelled by the test'));
  }, 20);
  await assert.rejects(visuals({}, { signal: controller.signal }));
  clearInterval(poll);
  assert.ok(Date.now() - started < 10_000);
  await new Promise((resolve) => setTimeout(resolve, 100));
  assert.ok(fake.received.length > 0 && fake.received.every((r) => r.aborted));
  assert.deepEqual(recorded.served, []);
});
