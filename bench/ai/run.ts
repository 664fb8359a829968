/**
 * AI cost per video: renders the provider-facing part of a mix of videos against local fakes of
 * Claude, ElevenLabs and FAL that answer with the real services' latencies and billed units, and
 * reports what a video costs, who served its script, and how long the providers took.
 *
 *   npm run bench:ai     (AI_BENCH_VIDEOS=20 per setup, AI_BENCH_TIME_SCALE=0.25, see README.md)
 *
 * Two setups, each over the same mix of requests (cheap success, escalation to the premium model,
 * both models failing so the offline writer writes, and a repeat of an earlier request, which the
 * worker's Redis script cache serves when a model wrote the first one):
 *   - "AI script + local voice": Claude writes; flite speaks and the gradients move, at no cost.
 *   - "AI script + premium voice + images": Claude writes, ElevenLabs speaks, FAL makes the stills.
 *
 * The script and narration run as the pipeline's own stages (the real Anthropic SDK, the real
 * ElevenLabs narrator, ffmpeg decoding its audio); the stills are requested by the visuals stage's
 * FAL source directly, without rendering the slideshow (bench:render measures rendering).
 *
 * The script cache is the worker's own (RedisScriptCache on the local Redis, under a key prefix of
 * this run's, removed at the end); its hits and misses are counted from the writer's events.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import type { VideoSpec } from '../../runtime/pipeline/stage.js';
import { createScriptWriter } from '../../runtime/pipeline/stages.js';
import type { ProviderEvents } from '../../runtime/providers/provider-events.js';
import { RedisScriptCache } from '../../runtime/queue/script-cache.js';
import { AssetCache } from '../../runtime/stages/asset-cache.js';
import { ElevenLabsNarrator } from '../../runtime/stages/elevenlabs-narrator.js';
import { FalStills, stillSize } from '../../runtime/stages/fal-stills.js';
import { frameSize } from '../../runtime/stages/frame.js';
import {
  CachedNarrator,
  createNarrationStage,
  FallbackNarrator,
  FliteNarrator,
  type NarrationOutput,
} from '../../runtime/stages/narration.js';
import { wordBudget } from '../../runtime/stages/script/document.js';
import { createScriptStage, type ScriptOutput } from '../../runtime/stages/script/stage.js';
import { stillCount } from '../../runtime/stages/slideshow.js';
import { runStages } from '../../test/pipeline/stage-runner.js';
import { startFakeAnthropic, type MessagesRequest } from '../../test/support/fake-anthropic.js';
import { startFakeElevenLabs } from '../../test/support/fake-elevenlabs.js';
import { startFakeFal } from '../../test/support/fake-fal.js';
import { deleteKeys, TEST_REDIS_URL, testKeyPrefix } from '../../test/support/redis.js';

const root = new URL('../../', import.meta.url).pathname;
const number = (name: string, fallback: number) => {
  const value = Number(process.env[name] ?? fallback);
  if (!Number.isFinite(value) || value < 0) throw new Error(`${name} must be a number >= 0`);
  return value;
};
const VIDEOS = Math.max(1, Math.round(number('AI_BENCH_VIDEOS', 20)));
/** Every latency below is multiplied by this, to keep the run short; costs do not depend on it. */
const SCALE = number('AI_BENCH_TIME_SCALE', 0.25);
const DURATION = Math.round(number('AI_BENCH_DURATION', 60));
const BUDGET = number('AI_BENCH_BUDGET_USD', 0.1);
const jsonPath = process.env.BENCH_JSON ?? `${root}bench/ai/results.json`;
const mdPath = process.env.BENCH_MD ?? `${root}bench/ai/results.md`;

/**
 * The real services' latencies (unscaled), from the providers' published figures and common
 * reports, as ranges drawn from uniformly: Claude Haiku 2-4 s and Sonnet 5-9 s for a ~450-token
 * script; ElevenLabs Flash 0.3-0.8 s per line; FAL FLUX schnell 1-2.5 s per image.
 */
const LATENCY = {
  cheap: [2000, 4000],
  premium: [5000, 9000],
  line: [300, 800],
  image: [1000, 2500],
} as const;
const draw = ([low, high]: readonly [number, number]) => (low + Math.random() * (high - low)) * SCALE;

type Kind = 'cheap' | 'escalation' | 'fallback' | 'repeat';
/**
 * The mix of requests: most scripts pass on the cheap model, some escalate, a few fall back, and
 * some repeat an earlier request exactly (same topic, style, duration, voice and seed).
 */
const MIX: ReadonlyArray<readonly [Kind, number]> = [
  ['cheap', 0.6],
  ['escalation', 0.15],
  ['fallback', 0.05],
  ['repeat', 0.2],
];
/** Videos of each kind, spread through the run so circuits see them as a worker would. */
function plan(n: number): Kind[] {
  const out: Kind[] = [];
  const counts = MIX.map(([kind, share]) => ({ kind, left: Math.round(share * n) }));
  while (out.length < n) {
    const next = counts.filter((c) => c.left > 0).sort((a, b) => b.left - a.left)[0];
    out.push(next ? next.kind : 'cheap');
    if (next) next.left -= 1;
  }
  return out;
}

interface VideoResult {
  kind: Kind;
  writer: string;
  narrator: string;
  visuals: string;
  costs: Record<string, number>;
  total: number;
  seconds: number;
  /** The script came from the response cache. */
  cachedScript: boolean;
}

const silent = pino({ level: 'silent' });

async function main() {
  const anthropic = await startFakeAnthropic();
  const elevenlabs = await startFakeElevenLabs();
  const fal = await startFakeFal();
  const dir = await mkdtemp(join(tmpdir(), 'archibald-bench-ai-'));
  const redis = new Redis(TEST_REDIS_URL);
  const prefix = testKeyPrefix();
  let kind: Kind = 'cheap';
  const cheapModel = 'claude-haiku-5-5';
  anthropic.latencyMs = (request: MessagesRequest) =>
    draw(request.model === cheapModel ? LATENCY.cheap : LATENCY.premium);
  anthropic.reply = (request) => {
    if (kind === 'fallback') return { kind: 'status', status: 529, errorType: 'overloaded_error' };
    if (kind === 'escalation' && request.model === cheapModel) return { kind: 'text', text: '{"title": 1' };
    return { kind: 'script' };
  };
  // About 3.3 output tokens a spoken word for the JSON script (the words, keys and pauses).
  anthropic.outputTokens = Math.round(wordBudget(DURATION).target * 3.3);
  elevenlabs.latencyMs = () => draw(LATENCY.line);
  fal.latencyMs = () => draw(LATENCY.image);

  const setups = [
    { name: 'AI script + local voice', premium: false },
    { name: 'AI script + premium voice + images', premium: true },
  ] as const;
  const report: Array<{ setup: string; videos: VideoResult[]; hits: number; misses: number }> = [];
  const started = performance.now();
  try {
    for (const setup of setups) {
      // One writer and one narrator per setup, as one worker holds them (circuits included), and
      // a script cache of the setup's own.
      const lookups = { hits: 0, misses: 0 };
      const events: ProviderEvents = {
        call: () => {},
        skip: () => {},
        served: () => {},
        delegation: (e) => {
          if (e.kind === 'cache') lookups[e.result === 'hit' ? 'hits' : 'misses'] += 1;
        },
      };
      const writer = createScriptWriter({
        anthropic: {
          apiKey: () => 'sk-ant-bench',
          baseURL: anthropic.url,
          cheapModel,
          premiumModel: 'claude-sonnet-5-5',
          budgetUsd: BUDGET,
        },
        events,
        cache: new RedisScriptCache(redis, `${prefix}:${setup.premium ? 'p' : 'l'}`, 3600),
      });
      const voice = new ElevenLabsNarrator({
        apiKey: () => 'xi-bench',
        baseUrl: elevenlabs.url,
        budgetUsd: BUDGET,
      });
      const videos: VideoResult[] = [];
      const asked: VideoSpec[] = [];
      for (const [i, k] of plan(VIDEOS).entries()) {
        // A repeat asks again for an earlier video of this setup; should its script not be cached
        // (the first was written offline, or none came before), the model answers as usual.
        kind = k === 'repeat' ? 'cheap' : k;
        const earlier = asked[(i * 7) % Math.max(1, asked.length)];
        const spec: VideoSpec =
          k === 'repeat' && earlier
            ? earlier
            : {
                topic: ['morning calm', 'letting go of work stress before sleep', 'a clear mind for study'][
                  i % 3
                ] as string,
                durationSeconds: DURATION,
                aspect: '16:9',
                resolution: '720p',
                voice: 'slt',
                style: (['calm', 'sleep', 'focus', 'gratitude'] as const)[i % 4] as VideoSpec['style'],
                burnCaptions: false,
                seed: `bench-${setup.premium ? 'p' : 'l'}-${i}`,
              };
        asked.push(spec);
        // A fresh asset cache per video: the fake's scripts reuse the offline writer's lines, which
        // would come from the cache at no cost, while a real model's lines seldom recur.
        const cache = new AssetCache(join(dir, `cache-${setup.premium ? 'p' : 'l'}-${i}`));
        const narrator = new FallbackNarrator(
          new CachedNarrator(voice, cache),
          new CachedNarrator(new FliteNarrator(), cache),
        );
        const stills = new FalStills(cache, {
          apiKey: () => 'fal-bench',
          baseUrl: fal.url,
          budgetUsd: BUDGET,
        });
        const t0 = performance.now();
        const hitsBefore = lookups.hits;
        const stages = setup.premium
          ? [createScriptStage(writer), createNarrationStage(narrator, { ffmpegTimeoutSeconds: 120 })]
          : [createScriptStage(writer)];
        const run = await runStages(stages, spec, { keepWorkDir: true });
        let visuals = 'gradients';
        if (setup.premium) {
          const spent = () => Object.values(run.providerCosts).reduce((a, b) => a + b, 0);
          try {
            const made = await stills.stills({
              spec,
              count: stillCount(spec.durationSeconds),
              size: stillSize(frameSize(spec)),
              signal: new AbortController().signal,
              holder: run.workDir,
              timeoutSeconds: 120,
              addCost: (provider, usd) => {
                run.providerCosts[provider] = (run.providerCosts[provider] ?? 0) + usd;
              },
              spentUsd: spent,
              log: silent,
            });
            visuals = made.by;
          } catch {
            visuals = 'gradients';
          }
        }
        await rm(run.workDir, { recursive: true, force: true });
        const total = Object.values(run.providerCosts).reduce((a, b) => a + b, 0);
        videos.push({
          kind: k,
          writer: (run.outputs.script as ScriptOutput).writer,
          narrator: setup.premium
            ? ((run.outputs.narration as NarrationOutput).narrator ?? 'flite')
            : 'flite',
          visuals,
          costs: run.providerCosts,
          total,
          seconds: (performance.now() - t0) / 1000,
          cachedScript: lookups.hits > hitsBefore,
        });
        process.stdout.write('.');
      }
      report.push({ setup: setup.name, videos, ...lookups });
    }
  } finally {
    await Promise.all([anthropic.close(), elevenlabs.close(), fal.close()]);
    await deleteKeys(prefix);
    redis.disconnect();
    await rm(dir, { recursive: true, force: true });
  }
  process.stdout.write('\n');

  const usd = (n: number) => `$${n.toFixed(4)}`;
  const mean = (xs: number[]) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : 0);
  const goal = (setup: string) => (setup.startsWith('AI script + local') ? 0.01 : 0.1);
  const summaries = report.map(({ setup, videos, hits, misses }) => {
    const measured = mean(videos.map((v) => v.total));
    const repeats = videos.filter((v) => v.kind === 'repeat');
    const byKind = Object.fromEntries(
      MIX.map(([k]) => [k, mean(videos.filter((v) => v.kind === k).map((v) => v.total))]),
    );
    const byProvider = Object.fromEntries(
      ['anthropic', 'elevenlabs', 'fal'].map((p) => [p, mean(videos.map((v) => v.costs[p] ?? 0))]),
    );
    return {
      setup,
      videos: videos.length,
      costPerVideo: measured,
      goal: goal(setup),
      met: measured <= goal(setup),
      cacheHitRate: hits + misses > 0 ? hits / (hits + misses) : 0,
      // Of the repeated requests, how many the cache served (a repeat of an offline script cannot be).
      repeatHitRate: repeats.length > 0 ? repeats.filter((v) => v.cachedScript).length / repeats.length : 0,
      cheapModelShare: videos.filter((v) => v.writer === `anthropic:${cheapModel}`).length / videos.length,
      premiumModelShare:
        videos.filter((v) => v.writer === 'anthropic:claude-sonnet-5-5').length / videos.length,
      offlineShare: videos.filter((v) => v.writer === 'offline-template').length / videos.length,
      costByKind: byKind,
      costByProvider: byProvider,
      narrators: [...new Set(videos.map((v) => v.narrator))],
      visuals: [...new Set(videos.map((v) => v.visuals))],
      secondsPerVideo: mean(videos.map((v) => v.seconds)),
    };
  });

  const lines = [
    `# bench:ai results`,
    '',
    `${new Date().toISOString()}: ${VIDEOS} videos of ${DURATION} s per setup; mix ${MIX.map(([k, s]) => `${k} ${Math.round(s * 100)}%`).join(', ')};`,
    `latencies x${SCALE} of the real services'; budget ${usd(BUDGET)} a video; the worker's Redis script cache.`,
    '',
    '| setup | cost/video | goal | met | cheap model | escalated | offline | cache hit rate (repeats served) | cheap / escalation / fallback / repeat | Claude / ElevenLabs / FAL | s/video |',
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |',
    ...summaries.map(
      (s) =>
        `| ${s.setup} | ${usd(s.costPerVideo)} | ≤ ${usd(s.goal)} | ${s.met ? 'yes' : 'no'} | ` +
        `${Math.round(s.cheapModelShare * 100)}% | ${Math.round(s.premiumModelShare * 100)}% | ${Math.round(s.offlineShare * 100)}% | ` +
        `${Math.round(s.cacheHitRate * 100)}% (${Math.round(s.repeatHitRate * 100)}%) | ` +
        `${usd(s.costByKind.cheap ?? 0)} / ${usd(s.costByKind.escalation ?? 0)} / ${usd(s.costByKind.fallback ?? 0)} / ${usd(s.costByKind.repeat ?? 0)} | ` +
        `${usd(s.costByProvider.anthropic ?? 0)} / ${usd(s.costByProvider.elevenlabs ?? 0)} / ${usd(s.costByProvider.fal ?? 0)} | ` +
        `${s.secondsPerVideo.toFixed(2)} |`,
    ),
    '',
    `Whole run: ${((performance.now() - started) / 1000).toFixed(1)} s.`,
  ];
  console.log(lines.join('\n'));
  await writeFile(mdPath, `${lines.join('\n')}\n`);
  await writeFile(
    jsonPath,
    `${JSON.stringify(
      {
        date: new Date().toISOString(),
        videosPerSetup: VIDEOS,
        durationSeconds: DURATION,
        timeScale: SCALE,
        budgetUsd: BUDGET,
        mix: Object.fromEntries(MIX),
        latencyMs: LATENCY,
        setups: summaries,
      },
      null,
      2,
    )}\n`,
  );
}

await main();
