/**
 * The render pipeline's stages, in STAGE_ORDER, built from plain options (the config module maps
 * environment variables onto them). Everything runs offline: the template script writer, flite
 * narration, procedural visuals and ambient bed, one ffmpeg assembly pass, local or S3 publish; the
 * script writer is the offline one unless the caller passes another (Claude, see claude-writer.ts),
 * the narration ElevenLabs when `narration.elevenlabs` is set, the background FAL stills when
 * `visuals.fal` is set, each with the offline implementation as its fallback.
 */
import type { Stage } from './stage.js';
import { STAGE_ORDER } from './stage.js';
import { createAmbientStage } from '../stages/ambient.js';
import { createAssembleStage, type EncoderSettings } from '../stages/assemble.js';
import { AssetCache } from '../stages/asset-cache.js';
import { createCaptionsStage } from '../stages/captions.js';
import { ElevenLabsNarrator } from '../stages/elevenlabs-narrator.js';
import { FalStills } from '../stages/fal-stills.js';
import {
  CachedNarrator,
  createNarrationStage,
  FallbackNarrator,
  FliteNarrator,
  type Narrator,
} from '../stages/narration.js';
import { loadMediaPrices } from '../providers/media-prices.js';
import { createPublishStage } from '../stages/publish.js';
import type { CircuitBreaker } from '../providers/circuit-breaker.js';
import type { ProviderEvents } from '../providers/provider-events.js';
import { ClaudeScriptWriter } from '../stages/script/claude-writer.js';
import type { ScriptDelegation } from '../stages/script/delegation.js';
import type { ScriptCache } from '../stages/script/script-cache.js';
import { OfflineScriptWriter } from '../stages/script/offline-writer.js';
import { loadPrices } from '../stages/script/prices.js';
import { createScriptStage } from '../stages/script/stage.js';
import type { ScriptWriter } from '../stages/script/writer.js';
export type { ScriptWriter };
import { createVisualsStage } from '../stages/visuals.js';
import { createStorage } from '../storage/create-storage.js';
import type { StorageOptions } from '../storage/storage.js';

export type { ProviderEvents, ScriptCache, ScriptDelegation };

/** Who writes the script: Claude (cheap model first) when `anthropic` is set, else offline. */
export interface ScriptOptions {
  anthropic?: {
    /** Read at each write, so a rotated key file is picked up. */
    apiKey: () => string;
    baseURL?: string;
    cheapModel: string;
    premiumModel: string;
    /** What one video may spend on paid providers, in US dollars. */
    budgetUsd: number;
    /** A JSON price table overriding or adding to the built-in one. */
    pricesFile?: string;
  };
  /** Where provider calls, skips and the writer that served each script are reported. */
  events?: ProviderEvents;
  /** Model-written scripts by request (Redis in the worker); used only with `anthropic`. */
  cache?: ScriptCache;
  /** Pattern memory deciding where each write starts (Postgres in the worker). */
  delegation?: ScriptDelegation;
  /** The process's circuit breaker for the script models, so it can publish their states. */
  circuits?: CircuitBreaker;
}

/** Claude with the offline writer as its fallback, or the offline writer alone. */
export function createScriptWriter(options: ScriptOptions = {}): ScriptWriter {
  const offline = new OfflineScriptWriter();
  const { anthropic, events, cache, delegation, circuits } = options;
  if (!anthropic) return events ? servedWriter(offline, events) : offline;
  return new ClaudeScriptWriter({
    apiKey: anthropic.apiKey,
    ...(anthropic.baseURL ? { baseURL: anthropic.baseURL } : {}),
    cheapModel: anthropic.cheapModel,
    premiumModel: anthropic.premiumModel,
    budgetUsd: anthropic.budgetUsd,
    prices: loadPrices(anthropic.pricesFile),
    fallback: offline,
    ...(events ? { events } : {}),
    ...(cache ? { cache } : {}),
    ...(delegation ? { delegation } : {}),
    ...(circuits ? { circuits } : {}),
  });
}

/** A writer whose scripts are reported as served by the writer that made them. */
function servedWriter(writer: ScriptWriter, events: ProviderEvents): ScriptWriter {
  return {
    name: writer.name,
    async write(spec, signal, context) {
      const doc = await writer.write(spec, signal, context);
      events.served('script', doc.writer);
      return doc;
    },
  };
}

/** ElevenLabs narration (flite as its fallback). */
export interface ElevenLabsRenderOptions {
  /** Read at each narration, so a rotated key file is picked up. */
  apiKey: () => string;
  baseUrl?: string;
  voiceId: string;
  model: string;
  /** What one video may spend on paid providers, in US dollars. */
  budgetUsd: number;
  /** A JSON price table overriding or adding to the built-in media prices. */
  pricesFile?: string;
}

/** FAL stills for the background (the gradient loop as their fallback). */
export interface FalRenderOptions {
  /** Read at each video, so a rotated key file is picked up. */
  apiKey: () => string;
  baseUrl?: string;
  model: string;
  budgetUsd: number;
  pricesFile?: string;
}

export interface RenderOptions {
  /** Local directory (served by the API) or S3 behind a CDN. */
  storage: StorageOptions;
  /** Shared between jobs and workers on a host: background loops and ambient beds. */
  assetCacheDir: string;
  /** Least-recently-used assets are evicted above this many bytes (default: no cap). */
  assetCacheMaxBytes?: number;
  /** Upper bound for any one ffmpeg run; the job's own timeout aborts earlier through its signal. */
  ffmpegTimeoutSeconds: number;
  encoder?: Partial<EncoderSettings>;
  /** Who writes the script (default: the offline template writer). */
  script?: ScriptOptions;
  /** A writer of the caller's own, instead of the one `script` describes. */
  scriptWriter?: ScriptWriter;
  /** ffmpeg processes that synthesise narration side by side (default 2). */
  narrationParallelism?: number;
  /** Who speaks: ElevenLabs when set, else flite. */
  narration?: { elevenlabs?: ElevenLabsRenderOptions };
  /** Who makes the background: FAL stills when set, else the gradient loop. */
  visuals?: { fal?: FalRenderOptions };
  /** Where every provider's calls, skips and who served each task are reported (default: script.events). */
  events?: ProviderEvents;
}

/** Flite, through the asset cache; with ElevenLabs (also through the cache) in front when configured. */
function createNarrator(options: RenderOptions, cache: AssetCache, events?: ProviderEvents): Narrator {
  const flite = new CachedNarrator(new FliteNarrator(options.narrationParallelism ?? 2), cache);
  const eleven = options.narration?.elevenlabs;
  if (!eleven) return flite;
  const voice = new ElevenLabsNarrator({
    apiKey: eleven.apiKey,
    ...(eleven.baseUrl ? { baseUrl: eleven.baseUrl } : {}),
    voiceId: eleven.voiceId,
    model: eleven.model,
    budgetUsd: eleven.budgetUsd,
    prices: loadMediaPrices(eleven.pricesFile).elevenlabs,
    ...(events ? { events } : {}),
  });
  // Lines already spoken by this model and voice are not paid for again (a retried job, a recurring line).
  return new FallbackNarrator(new CachedNarrator(voice, cache), flite);
}

function createStillSource(options: RenderOptions, cache: AssetCache, events?: ProviderEvents) {
  const fal = options.visuals?.fal;
  if (!fal) return undefined;
  return new FalStills(cache, {
    apiKey: fal.apiKey,
    ...(fal.baseUrl ? { baseUrl: fal.baseUrl } : {}),
    model: fal.model,
    budgetUsd: fal.budgetUsd,
    prices: loadMediaPrices(fal.pricesFile).fal,
    ...(events ? { events } : {}),
  });
}

export function createStages(options: RenderOptions): Stage[] {
  const cache = new AssetCache(
    options.assetCacheDir,
    options.assetCacheMaxBytes ? { maxBytes: options.assetCacheMaxBytes } : {},
  );
  const ffmpeg = { ffmpegTimeoutSeconds: options.ffmpegTimeoutSeconds };
  const events = options.events ?? options.script?.events;
  const stills = createStillSource(options, cache, events);
  const stages: Stage[] = [
    createScriptStage(options.scriptWriter ?? createScriptWriter(options.script)),
    createNarrationStage(createNarrator(options, cache, events), {
      ...ffmpeg,
      ...(events ? { events } : {}),
    }),
    createVisualsStage(cache, {
      ...ffmpeg,
      ...(stills ? { stills } : {}),
      ...(events ? { events } : {}),
    }),
    createCaptionsStage(),
    createAmbientStage(cache, ffmpeg),
    createAssembleStage({ ...ffmpeg, ...(options.encoder ? { encoder: options.encoder } : {}) }),
    createPublishStage(createStorage(options.storage)),
  ];
  const order = stages.map((s) => s.name).join(',');
  if (order !== STAGE_ORDER.join(',')) throw new Error(`stages out of order: ${order}`);
  return stages;
}
