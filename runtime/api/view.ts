/** Database records to the API's representation of a video. */
import type { StageSummary, VideoRecord } from '../db/videos.js';
import type { VideoView } from './schemas.js';

const iso = (d: Date | null): string | null => (d ? d.toISOString() : null);

export function videoLinks(id: string) {
  const self = `/v1/videos/${id}`;
  return { self, events: `${self}/events`, file: `${self}/file` };
}

export function toVideoView(video: VideoRecord, stages: readonly StageSummary[]): VideoView {
  return {
    id: video.id,
    status: video.status,
    stage: video.currentStage,
    progress: Math.round(video.progress * 10) / 10,
    request: video.spec,
    idempotencyKey: video.idempotencyKey,
    costUsd: video.costUsd,
    scriptWriter: stages.find((s) => s.stage === 'script' && s.status === 'completed')?.writer ?? null,
    outputUrl: video.outputUrl,
    captionsUrl: video.captionsUrl,
    error: video.errorMessage ? { stage: video.errorStage, message: video.errorMessage } : null,
    attempts: video.attempts,
    createdAt: video.createdAt.toISOString(),
    startedAt: iso(video.startedAt),
    finishedAt: iso(video.finishedAt),
    stages: stages.map((s) => ({
      name: s.stage,
      status: s.status,
      attempt: s.attempt,
      startedAt: s.startedAt.toISOString(),
      finishedAt: iso(s.finishedAt),
      durationSeconds: s.durationMs === null ? null : s.durationMs / 1000,
      costUsd: s.costUsd,
      error: s.errorMessage,
    })),
    links: videoLinks(video.id),
  };
}
