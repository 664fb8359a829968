/**
 * ElevenLabs narration against a local fake of its HTTP API answering real MP3s: the narration is
 * spoken and decoded into the WAV clips the stage times, priced per character; 429 with
 * retry-after and a 5xx are retried; a persistent failure, an open circuit and the video's budget
 * fall back to flite; a cancel during a slow answer aborts the request and speaks nothing offline.
 * Every call is reported through ProviderEvents.
 */
import { after, before, beforeEach, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { VideoSpec } from '../../runtime/pipeline/stage.js';
import type { ProviderCall, ProviderEvents } from '../../runtime/providers/provider-events.js';
import { AssetCache } from '../../runtime/stages/asset-cache.js';
import { ElevenLabsNarrator, type ElevenLabsOptions } from '../../runtime/stages/elevenlabs-narrator.js';
import {
  CachedNarrator,
  createNarrationStage,
  FallbackNarrator,
  FliteNarrator,
  type NarrationOutput,
} from '../../runtime/stages/narration.js';
import type { ScriptOutput } from '../../runtime/stages/script/stage.js';
import { OfflineScriptWriter } from '../../runtime/stages/script/offline-writer.js';
import { createScriptStage } from '../../runtime/stages/script/stage.js';
import { spokenSeconds, startFakeElevenLabs } from '../support/fake-elevenlabs.js';
import { runStages } from './stage-runner.js';

const fake = await startFakeElevenLabs();
after(() => fake.close());
let root: string;
before(async () => {
  root = await mkdtemp(join(tmpdir(), 'archibald-test-elevenlabs-'));
});
after(() => rm(root, { recursive: true, force: true }));

interface Recorded {
  calls: ProviderCall[];
  skips: string[];
  served: string[];
}
let recorded: Recorded;
const events: ProviderEvents = {
  call: (call) => recorded.calls.push(call),
  skip: (provider, model, reason) => recorded.skips.push(`${provider}:${model}:${reason}`),
  served: (task, by) => recorded.served.push(`${task}:${by}`),
};
beforeEach(() => {
  recorded = { calls: [], skips: [], served: [] };
  fake.received.length = 0;
  fake.reply = () => ({ kind: 'answer' });
});

let videos = 0;
/** A 15 s video's script and narration, through a fresh cache unless one is given. */
async function narrate(
  options: Partial<ElevenLabsOptions> = {},
  run: { signal?: AbortSignal; cache?: AssetCache; seed?: string; voice?: VideoSpec['voice'] } = {},
) {
  videos += 1;
  const cache = run.cache ?? new AssetCache(join(root, `cache-${videos}`));
  const voice = new ElevenLabsNarrator({
    apiKey: () => 'xi-test',
    baseUrl: fake.url,
    budgetUsd: 0.05,
    events,
    ...options,
  });
  const narrator = new FallbackNarrator(
    new CachedNarrator(voice, cache),
    new CachedNarrator(new FliteNarrator(), cache),
  );
  const spec: VideoSpec = {
    topic: 'morning calm',
    durationSeconds: 15,
    aspect: '16:9',
    resolution: '720p',
    voice: run.voice ?? 'slt',
    style: 'calm',
    burnCaptions: false,
    seed: run.seed ?? `eleven-${videos}`,
  };
  const result = await runStages(
    [
      createScriptStage(new OfflineScriptWriter()),
      createNarrationStage(narrator, { ffmpegTimeoutSeconds: 60, events }),
    ],
    spec,
    run.signal ? { signal: run.signal } : {},
  );
  const narration = result.outputs.narration as NarrationOutput;
  const script = result.outputs.script as ScriptOutput;
  const lines = script.sections.flatMap((s) => s.segments.map((g) => g.text));
  return { voice, narration, lines, result };
}

test('a valid answer: every line is spoken by ElevenLabs, decoded, timed and priced per character', async () => {
  const { voice, narration, lines, result } = await narrate();
  assert.equal(narration.narrator, 'elevenlabs:eleven_flash_v2_5');
  assert.equal(fake.received.length, lines.length);
  for (const r of fake.received) {
    assert.equal(r.headers['xi-api-key'], 'xi-test');
    assert.equal(r.query.get('output_format'), 'mp3_44100_128');
    assert.equal(r.body.model_id, 'eleven_flash_v2_5');
    assert.match(r.path, /^\/v1\/text-to-speech\/21m00Tcm4TlvDq8ikWAM$/);
  }
  assert.deepEqual(new Set(fake.received.map((r) => r.body.text)), new Set(lines));
  // Decoded MP3s keep the spoken length (within the codec's padding).
  narration.clips.forEach((clip) =>
    assert.ok(Math.abs(clip.durationSeconds - spokenSeconds(clip.text)) < 0.1, `${clip.durationSeconds}`),
  );
  const characters = lines.reduce((n, l) => n + l.length, 0);
  const cost = (characters * 0.05) / 1000;
  assert.ok(Math.abs((result.providerCosts.elevenlabs ?? 0) - cost) < 1e-9);
  assert.ok(Math.abs(voice.costOf(lines) - cost) < 1e-9);
  assert.equal(recorded.calls.length, lines.length);
  assert.ok(recorded.calls.every((c) => c.outcome === 'ok' && c.unit === 'characters'));
  assert.equal(
    recorded.calls.reduce((n, c) => n + c.units, 0),
    characters,
  );
  assert.deepEqual(recorded.served, ['narration:elevenlabs:eleven_flash_v2_5']);
});

test('lines already spoken by the same model and voice come from the cache and cost nothing', async () => {
  const cache = new AssetCache(join(root, 'shared-cache'));
  await narrate({}, { cache, seed: 'repeat' });
  const first = fake.received.length;
  fake.received.length = 0;
  recorded = { calls: [], skips: [], served: [] };
  const again = await narrate({}, { cache, seed: 'repeat' });
  assert.ok(first > 0);
  assert.equal(fake.received.length, 0, 'no line is requested twice');
  assert.equal(again.result.providerCosts.elevenlabs ?? 0, 0);
  assert.deepEqual(recorded.served, ['narration:elevenlabs:eleven_flash_v2_5']);
});

test('the flite voice asked for does not change ElevenLabs audio, so another one is not paid again', async () => {
  const cache = new AssetCache(join(root, 'voices-cache'));
  await narrate({}, { cache, seed: 'voices', voice: 'slt' });
  assert.ok(fake.received.length > 0);
  fake.received.length = 0;
  recorded = { calls: [], skips: [], served: [] };
  const again = await narrate({}, { cache, seed: 'voices', voice: 'kal' });
  assert.equal(again.narration.narrator, 'elevenlabs:eleven_flash_v2_5');
  assert.equal(fake.received.length, 0);
  assert.equal(again.result.providerCosts.elevenlabs ?? 0, 0);
});

test('lines paid for before a later line failed are cached: the retried job pays only for the rest', async () => {
  const cache = new AssetCache(join(root, 'partial-cache'));
  fake.reply = (_r, index) => (index < 2 ? { kind: 'answer' } : { kind: 'status', status: 400 });
  const failed = await narrate({ concurrency: 1 }, { cache, seed: 'partial' });
  assert.equal(failed.narration.narrator, 'flite', 'the failed narration fell back');
  const paid = failed.lines.slice(0, 2);
  assert.ok(
    Math.abs((failed.result.providerCosts.elevenlabs ?? 0) - (paid.join('').length * 0.05) / 1000) < 1e-9,
    'the two answered lines are billed and recorded',
  );
  fake.received.length = 0;
  fake.reply = () => ({ kind: 'answer' });
  const retried = await narrate({ concurrency: 1 }, { cache, seed: 'partial' });
  assert.equal(retried.narration.narrator, 'elevenlabs:eleven_flash_v2_5');
  const asked = fake.received.map((r) => r.body.text);
  assert.equal(asked.length, new Set(retried.lines).size - new Set(paid).size);
  assert.ok(
    paid.every((line) => !asked.includes(line)),
    'no paid line is asked again',
  );
});

test('a 429 with retry-after is retried after the wait it asks for', async () => {
  fake.reply = (_r, index) =>
    index === 0 ? { kind: 'status', status: 429, headers: { 'retry-after': '1' } } : { kind: 'answer' };
  const { narration, lines } = await narrate({ concurrency: 1 });
  assert.equal(narration.narrator, 'elevenlabs:eleven_flash_v2_5');
  assert.equal(fake.received.length, lines.length + 1);
  const [first, second] = fake.received;
  assert.equal(first?.body.text, second?.body.text, 'the same line is asked again');
  assert.ok((second?.at ?? 0) - (first?.at ?? 0) >= 950, 'after the retry-after second');
  assert.ok(
    recorded.calls.every((c) => c.outcome === 'ok'),
    'a retried call is one call',
  );
});

test('a 5xx then success is retried and the narration stays ElevenLabs', async () => {
  fake.reply = (_r, index) => (index < 2 ? { kind: 'status', status: 503 } : { kind: 'answer' });
  const { narration, lines } = await narrate({ concurrency: 1 });
  assert.equal(narration.narrator, 'elevenlabs:eleven_flash_v2_5');
  assert.equal(fake.received.length, lines.length + 2, 'the first line twice more, the others once');
  assert.deepEqual(recorded.served, ['narration:elevenlabs:eleven_flash_v2_5']);
});

test('a persistent failure falls back to flite for the whole narration, and the video costs nothing', async () => {
  fake.reply = () => ({ kind: 'status', status: 500 });
  const { narration, result } = await narrate({ maxRetries: 1 });
  assert.equal(narration.narrator, 'flite');
  assert.ok(narration.clips.length > 0 && narration.clips.every((c) => c.durationSeconds > 0));
  assert.equal(result.providerCosts.elevenlabs ?? 0, 0);
  assert.ok(recorded.calls.some((c) => c.outcome === 'error' && c.costUsd === 0));
  assert.deepEqual(recorded.served, ['narration:flite']);
});

test('an answer slower than the attempt timeout is abandoned, not re-sent (it may be billed), and flite speaks', async () => {
  fake.reply = () => ({ kind: 'slow', ms: 10_000 });
  const started = Date.now();
  const { narration } = await narrate({ timeoutMs: 300, maxRetries: 1, concurrency: 1 });
  assert.equal(narration.narrator, 'flite');
  assert.equal(fake.received.length, 1, 'a request that may have been processed is not sent again');
  await new Promise((resolve) => setTimeout(resolve, 50));
  assert.ok(
    fake.received.every((r) => r.aborted),
    'the timed-out request was closed',
  );
  assert.ok(Date.now() - started < 8000, 'without waiting for the slow answers');
});

test('an open circuit skips ElevenLabs without a request and speaks with flite', async () => {
  fake.reply = () => ({ kind: 'status', status: 500 });
  const voiceOptions = { maxRetries: 0, circuitFailures: 1, circuitCooldownMs: 60_000, concurrency: 1 };
  const cache = new AssetCache(join(root, 'circuit-cache'));
  const voice = new ElevenLabsNarrator({
    apiKey: () => 'xi-test',
    baseUrl: fake.url,
    budgetUsd: 0.05,
    events,
    ...voiceOptions,
  });
  const narrator = new FallbackNarrator(new CachedNarrator(voice, cache), new FliteNarrator());
  const request = (seed: string) =>
    runStages(
      [
        createScriptStage(new OfflineScriptWriter()),
        createNarrationStage(narrator, { ffmpegTimeoutSeconds: 60, events }),
      ],
      {
        topic: 'evening rest',
        durationSeconds: 15,
        aspect: '16:9',
        resolution: '720p',
        voice: 'slt',
        style: 'sleep',
        burnCaptions: false,
        seed,
      },
    );
  await request('circuit-1');
  assert.equal(voice.circuits.state('eleven_flash_v2_5'), 'open');
  const before = fake.received.length;
  const second = await request('circuit-2');
  assert.equal(fake.received.length, before, 'no request while the circuit is open');
  assert.equal((second.outputs.narration as NarrationOutput).narrator, 'flite');
  assert.ok(recorded.skips.includes('elevenlabs:eleven_flash_v2_5:circuit_open'));
});

test('a narration whose price would cross the video budget is not requested: flite speaks it', async () => {
  const { narration, result } = await narrate({ budgetUsd: 0.0005 });
  assert.equal(narration.narrator, 'flite');
  assert.equal(fake.received.length, 0);
  assert.equal(result.providerCosts.elevenlabs ?? 0, 0);
  assert.deepEqual(recorded.skips, ['elevenlabs:eleven_flash_v2_5:budget']);
  assert.deepEqual(recorded.served, ['narration:flite']);
});

test('cancel during a slow answer aborts the request and nothing is spoken offline', async () => {
  fake.reply = () => ({ kind: 'slow', ms: 20_000 });
  const controller = new AbortController();
  const started = Date.now();
  const poll = setInterval(() => {
    if (fake.received.length > 0) controller.abort(new Error('cancelled by the test'));
  }, 20);
  await assert.rejects(narrate({}, { signal: controller.signal }));
  clearInterval(poll);
  assert.ok(Date.now() - started < 10_000, 'the run stops at once, not after the slow answer');
  await new Promise((resolve) => setTimeout(resolve, 100));
  assert.ok(fake.received.length > 0 && fake.received.every((r) => r.aborted), 'every request was aborted');
  assert.deepEqual(recorded.served, [], 'no fallback narration for a cancelled job');
  assert.ok(
    recorded.calls.every((c) => c.outcome !== 'error'),
    "a cancel is not the provider's failure",
  );
});
