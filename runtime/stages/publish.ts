/**
 * Publish: the video and its WebVTT captions go to storage under keys named after the video id,
 * so a retried publish writes the same keys; the store skips an object it already holds.
 */
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { PublishOutput, Stage, StageContext } from '../pipeline/stage.js';
import { sha256File } from '../storage/checksum.js';
import type { VideoStorage } from '../storage/storage.js';
import type { AssembleOutput } from './assemble.js';
import type { CaptionsOutput } from './captions.js';
import { asStageError, earlierOutput } from './outputs.js';

export type { PublishOutput };

export const VIDEO_CONTENT_TYPE = 'video/mp4';
export const CAPTIONS_CONTENT_TYPE = 'text/vtt; charset=utf-8';

export function videoKeys(videoId: string): { video: string; captions: string } {
  return { video: `videos/${videoId}.mp4`, captions: `videos/${videoId}.vtt` };
}

export function createPublishStage(storage: VideoStorage): Stage<PublishOutput> {
  return {
    name: 'publish',
    async run(ctx: StageContext): Promise<PublishOutput> {
      const assembled = earlierOutput<AssembleOutput>(ctx, 'assemble', 'publish');
      const captions = earlierOutput<CaptionsOutput>(ctx, 'captions', 'publish');
      const keys = videoKeys(ctx.videoId);
      try {
        const videoFile = join(ctx.workDir, assembled.file);
        const captionsFile = join(ctx.workDir, captions.vttFile);
        const [videoSha, captionsSha, captionsStat] = await Promise.all([
          sha256File(videoFile),
          sha256File(captionsFile),
          stat(captionsFile),
        ]);
        // Captions first: once the video is there, its captions must be too.
        const captionsPut = await storage.put({
          key: keys.captions,
          file: captionsFile,
          contentType: CAPTIONS_CONTENT_TYPE,
          bytes: captionsStat.size,
          sha256: captionsSha,
        });
        ctx.progress(0.1);
        const videoPut = await storage.put({
          key: keys.video,
          file: videoFile,
          contentType: VIDEO_CONTENT_TYPE,
          bytes: assembled.bytes,
          sha256: videoSha,
        });
        ctx.log.info(
          {
            key: keys.video,
            uploaded: videoPut.uploaded,
            captionsUploaded: captionsPut.uploaded,
            storage: storage.kind,
          },
          videoPut.uploaded ? 'video published' : 'video already published, upload skipped',
        );
        ctx.progress(1);
        return {
          videoUrl: storage.publicUrl(keys.video, ctx.videoId, 'video'),
          captionsUrl: storage.publicUrl(keys.captions, ctx.videoId, 'captions'),
          key: keys.video,
          bytes: assembled.bytes,
          sha256: videoSha,
          captionsKey: keys.captions,
          captionsBytes: captionsStat.size,
          captionsSha256: captionsSha,
          contentType: VIDEO_CONTENT_TYPE,
          durationSeconds: assembled.durationSeconds,
        };
      } catch (error) {
        throw asStageError('publish', error);
      }
    },
  };
}
