/**
 * The stages `archibald worker` runs: the render pipeline's createStages, with its plain options
 * mapped from the config (the pipeline reads no environment itself). With an Anthropic key the
 * script is written by Claude, cheap model first, with the offline writer as the fallback.
 */
import type { Config } from '../config/load.js';
import type { Metrics } from '../metrics/registry.js';
import type { Stage } from '../pipeline/stage.js';
import { createStages } from '../pipeline/stages.js';
import type { RenderOptions } from '../pipeline/stages.js';
import { ClaudeScriptWriter, type ScriptWriterMetrics } from '../stages/script/claude-writer.js';
import { OfflineScriptWriter } from '../stages/script/offline-writer.js';
import { loadPrices } from '../stages/script/prices.js';
import type { ScriptWriter } from '../stages/script/writer.js';

/** The writer counts as the catalog's script metrics. */
export function scriptWriterMetrics(metrics: Metrics): ScriptWriterMetrics {
  return {
    call: (model, outcome) => metrics.scriptModelCalls.inc({ model, outcome }),
    skip: (model, reason) => metrics.scriptModelSkips.inc({ model, reason }),
    written: (writer) => metrics.scriptsWritten.inc({ writer }),
  };
}

/** A writer whose scripts are counted by the writer that made them. */
function countedWriter(writer: ScriptWriter, metrics: ScriptWriterMetrics): ScriptWriter {
  return {
    name: writer.name,
    async write(spec, signal, context) {
      const doc = await writer.write(spec, signal, context);
      metrics.written(doc.writer);
      return doc;
    },
  };
}

/** Claude with the offline fallback when an Anthropic key is configured; offline otherwise. */
export function scriptWriter(config: Config, metrics?: Metrics): ScriptWriter {
  const offline = new OfflineScriptWriter();
  const key = config.anthropicApiKey;
  if (!key) return metrics ? countedWriter(offline, scriptWriterMetrics(metrics)) : offline;
  const s = config.scriptModels;
  return new ClaudeScriptWriter({
    apiKey: () => key.value(),
    ...(s.baseUrl ? { baseURL: s.baseUrl } : {}),
    cheapModel: s.cheap,
    premiumModel: s.premium,
    budgetUsd: s.videoBudgetUsd,
    prices: loadPrices(s.pricesFile),
    fallback: offline,
    ...(metrics ? { metrics: scriptWriterMetrics(metrics) } : {}),
  });
}

export function stageOptions(config: Config, metrics?: Metrics): RenderOptions {
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
    scriptWriter: scriptWriter(config, metrics),
  };
}

export function pipelineStages(config: Config, metrics?: Metrics): Stage[] {
  return createStages(stageOptions(config, metrics));
}
