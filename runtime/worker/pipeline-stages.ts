/**
 * The stages `archibald worker` runs: the render pipeline's createStages, with its plain options
 * mapped from the config (the pipeline reads no environment itself). With an Anthropic key the
 * script is written by Claude, cheap model first, with the offline writer as the fallback; with an
 * ElevenLabs key the narration is spoken by ElevenLabs (flite as fallback); with a FAL key the
 * background is FAL stills (gradients as fallback).
 */
import type { Config } from '../config/load.js';
import type { Metrics } from '../metrics/registry.js';
import type { Stage } from '../pipeline/stage.js';
import { createScriptWriter, createStages } from '../pipeline/stages.js';
import type {
  ProviderEvents,
  RenderOptions,
  ScriptCache,
  ScriptDelegation,
  ScriptOptions,
  ScriptWriter,
} from '../pipeline/stages.js';
import type { CircuitBreaker } from '../providers/circuit-breaker.js';

/** Provider calls, skips, delegation steps and who served each task, as the catalog's metrics. */
export function providerMetrics(metrics: Metrics): ProviderEvents {
  return {
    call: ({ provider, model, outcome, latencyMs, units, unit, costUsd }) => {
      metrics.providerCalls.inc({ provider, model, outcome });
      metrics.providerCallDuration.observe({ provider, model }, latencyMs / 1000);
      if (units > 0) metrics.providerUnits.inc({ provider, model, unit }, units);
      if (costUsd > 0) metrics.providerModelCost.inc({ provider, model }, costUsd);
    },
    skip: (provider, model, reason) => metrics.providerSkips.inc({ provider, model, reason }),
    served: (task, by) => {
      if (task === 'script') metrics.scriptsWritten.inc({ writer: by });
    },
    delegation: (event) => {
      switch (event.kind) {
        case 'escalation':
          return metrics.providerEscalations.inc({
            task: event.task,
            provider: event.provider,
            model: event.model,
          });
        case 'fallback':
          return metrics.providerFallbacks.inc({
            task: event.task,
            provider: event.provider,
            model: event.model,
          });
        case 'cache':
          if (event.task === 'script') metrics.scriptCacheRequests.inc({ result: event.result });
      }
    },
  };
}

/** What the worker process gives the providers (provider-services.ts); absent: metrics only. */
export interface StageProviders {
  events: ProviderEvents;
  cache?: ScriptCache;
  delegation: ScriptDelegation;
  scriptCircuits: CircuitBreaker;
}

/** Claude with the offline fallback when an Anthropic key is configured; offline otherwise. */
export function scriptOptions(config: Config, metrics?: Metrics, providers?: StageProviders): ScriptOptions {
  const key = config.anthropicApiKey;
  const s = config.scriptModels;
  return {
    ...(key
      ? {
          anthropic: {
            apiKey: () => key.value(),
            ...(s.baseUrl ? { baseURL: s.baseUrl } : {}),
            cheapModel: s.cheap,
            premiumModel: s.premium,
            budgetUsd: s.videoBudgetUsd,
            ...(s.pricesFile ? { pricesFile: s.pricesFile } : {}),
          },
        }
      : {}),
    ...(providers
      ? {
          events: providers.events,
          ...(providers.cache ? { cache: providers.cache } : {}),
          delegation: providers.delegation,
          circuits: providers.scriptCircuits,
        }
      : metrics
        ? { events: providerMetrics(metrics) }
        : {}),
  };
}

export function scriptWriter(config: Config, metrics?: Metrics, providers?: StageProviders): ScriptWriter {
  return createScriptWriter(scriptOptions(config, metrics, providers));
}

export function stageOptions(config: Config, metrics?: Metrics, providers?: StageProviders): RenderOptions {
  return {
    storage: config.s3
      ? {
          s3: {
            bucket: config.s3.bucket,
            region: config.s3.region,
            ...(config.s3.endpoint ? { endpoint: config.s3.endpoint } : {}),
            forcePathStyle: config.s3.forcePathStyle,
            // Without a CDN (an S3-compatible endpoint only), objects are addressed on the endpoint.
            cdnBaseUrl: config.s3.cdnBaseUrl ?? `${config.s3.endpoint}/${config.s3.bucket}`,
          },
        }
      : { dir: config.storageDir, publicBaseUrl: config.publicBaseUrl },
    assetCacheDir: config.assetCacheDir,
    assetCacheMaxBytes: config.assetCacheMaxBytes,
    ffmpegTimeoutSeconds: config.queue.timeoutSeconds,
    script: scriptOptions(config, metrics, providers),
    // Voices and images report through the same events as the script (records and metrics).
    ...(providers ? { events: providers.events } : metrics ? { events: providerMetrics(metrics) } : {}),
    ...mediaOptions(config),
  };
}

/** ElevenLabs and FAL, each when its key is configured; they share the script's video budget. */
export function mediaOptions(config: Config): Pick<RenderOptions, 'narration' | 'visuals'> {
  const budgetUsd = config.scriptModels.videoBudgetUsd;
  const pricesFile = config.mediaPricesFile ? { pricesFile: config.mediaPricesFile } : {};
  const eleven = config.elevenLabsApiKey;
  const fal = config.falKey;
  return {
    ...(eleven
      ? {
          narration: {
            elevenlabs: {
              apiKey: () => eleven.value(),
              baseUrl: config.elevenLabs.baseUrl,
              voiceId: config.elevenLabs.voiceId,
              model: config.elevenLabs.model,
              budgetUsd,
              ...pricesFile,
            },
          },
        }
      : {}),
    ...(fal
      ? {
          visuals: {
            fal: {
              apiKey: () => fal.value(),
              baseUrl: config.fal.baseUrl,
              model: config.fal.model,
              budgetUsd,
              ...pricesFile,
            },
          },
        }
      : {}),
  };
}

export function pipelineStages(config: Config, metrics?: Metrics, providers?: StageProviders): Stage[] {
  return createStages(stageOptions(config, metrics, providers));
}
