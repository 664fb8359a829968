/**
 * The stages `archibald worker` runs: the render pipeline's createStages, with its plain options
 * mapped from the config (the pipeline reads no environment itself).
 */
import type { Config } from '../config/load.js';
import type { Stage } from '../pipeline/stage.js';
import { createStages } from '../pipeline/stages.js';
import type { RenderOptions } from '../pipeline/stages.js';

export function stageOptions(config: Config): RenderOptions {
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
  };
}

export function pipelineStages(config: Config): Stage[] {
  return createStages(stageOptions(config));
}
