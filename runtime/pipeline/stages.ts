/**
 * The render pipeline's stages, in STAGE_ORDER, built from plain options (the config module maps
 * environment variables onto them). Everything runs offline: the template script writer, flite
 * narration, procedural visuals and ambient bed, one ffmpeg assembly pass, local or S3 publish; the
 * script writer is the offline one unless the caller passes another (Claude, see claude-writer.ts).
 */
import type { Stage } from './stage.js';
import { STAGE_ORDER } from './stage.js';
import { createAmbientStage } from '../stages/ambient.js';
import { createAssembleStage, type EncoderSettings } from '../stages/assemble.js';
import { AssetCache } from '../stages/asset-cache.js';
import { createCaptionsStage } from '../stages/captions.js';
import { CachedNarrator, createNarrationStage, FliteNarrator } from '../stages/narration.js';
import { createPublishStage } from '../stages/publish.js';
import { OfflineScriptWriter } from '../stages/script/offline-writer.js';
import { createScriptStage } from '../stages/script/stage.js';
import type { ScriptWriter } from '../stages/script/writer.js';
import { createVisualsStage } from '../stages/visuals.js';
import { createStorage } from '../storage/create-storage.js';
import type { StorageOptions } from '../storage/storage.js';

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
  /** Defaults to the offline template writer. */
  scriptWriter?: ScriptWriter;
  /** ffmpeg processes that synthesise narration side by side (default 2). */
  narrationParallelism?: number;
}

export function createStages(options: RenderOptions): Stage[] {
  const cache = new AssetCache(
    options.assetCacheDir,
    options.assetCacheMaxBytes ? { maxBytes: options.assetCacheMaxBytes } : {},
  );
  const ffmpeg = { ffmpegTimeoutSeconds: options.ffmpegTimeoutSeconds };
  const stages: Stage[] = [
    createScriptStage(options.scriptWriter ?? new OfflineScriptWriter()),
    createNarrationStage(
      new CachedNarrator(new FliteNarrator(options.narrationParallelism ?? 2), cache),
      ffmpeg,
    ),
    createVisualsStage(cache, ffmpeg),
    createCaptionsStage(),
    createAmbientStage(cache, ffmpeg),
    createAssembleStage({ ...ffmpeg, ...(options.encoder ? { encoder: options.encoder } : {}) }),
    createPublishStage(createStorage(options.storage)),
  ];
  const order = stages.map((s) => s.name).join(',');
  if (order !== STAGE_ORDER.join(',')) throw new Error(`stages out of order: ${order}`);
  return stages;
}
