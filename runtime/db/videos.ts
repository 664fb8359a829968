/**
 * The videos repository: the API creates, reads and cancels; the worker moves a video through its
 * stages. Every state change is a conditional UPDATE on the current status, so two processes
 * racing on one video cannot both win (one completion, one cancellation).
 *
 * The worker's writes are fenced: an attempt is named by its BullMQ job token, the video records
 * the attempt that owns it now (startAttempt), each stage row the attempt that wrote it, and every
 * later write of an attempt is conditional on that token. An attempt that lost its job lock (its
 * worker paused, another took the job over) finds its writes refused instead of overwriting the
 * new owner's stages, progress or result.
 */
import type pg from 'pg';
import { FINAL_STATUSES } from '../pipeline/stage.js';
import type { StageName, VideoSpec, VideoStatus } from '../pipeline/stage.js';
import { recordAudit } from './audit.js';
import { inTransaction } from './transaction.js';

// The lifecycle is the pipeline contract's; re-exported for the worker, which reads it from here.
export { FINAL_STATUSES };
export type { VideoStatus };

export type StageStatus = 'running' | 'completed' | 'failed' | 'cancelled';

export interface VideoRecord {
  id: string;
  apiKeyId: string | null;
  idempotencyKey: string | null;
  spec: VideoSpec;
  status: VideoStatus;
  currentStage: StageName | null;
  progress: number;
  costUsd: number;
  outputUrl: string | null;
  captionsUrl: string | null;
  errorStage: StageName | null;
  errorMessage: string | null;
  attempts: number;
  createdAt: Date;
  updatedAt: Date;
  startedAt: Date | null;
  finishedAt: Date | null;
}

export interface StageRecord {
  stage: StageName;
  status: StageStatus;
  attempt: number;
  /** The job token of the attempt that wrote the row (null before fencing existed). */
  attemptToken: string | null;
  startedAt: Date;
  finishedAt: Date | null;
  durationMs: number | null;
  output: unknown;
  costUsd: number;
  errorMessage: string | null;
}

const VIDEO_COLUMNS = `id, api_key_id AS "apiKeyId", idempotency_key AS "idempotencyKey", spec, status,
  current_stage AS "currentStage", progress, cost_usd::float8 AS "costUsd", output_url AS "outputUrl",
  captions_url AS "captionsUrl", error_stage AS "errorStage", error_message AS "errorMessage", attempts,
  created_at AS "createdAt", updated_at AS "updatedAt", started_at AS "startedAt", finished_at AS "finishedAt"`;

const STAGE_COLUMNS = `stage, status, attempt, attempt_token AS "attemptToken", started_at AS "startedAt", finished_at AS "finishedAt",
  duration_ms AS "durationMs", output, cost_usd::float8 AS "costUsd", error_message AS "errorMessage"`;

// Stage summaries (without outputs, but the script's writer) aggregated in the same query, saving
// a round trip per read.
const STAGES_JSON = `coalesce((SELECT json_agg(json_build_object('stage', s.stage, 'status', s.status,
    'attempt', s.attempt, 'startedAt', s.started_at, 'finishedAt', s.finished_at, 'durationMs', s.duration_ms,
    'costUsd', s.cost_usd::float8, 'errorMessage', s.error_message,
    'writer', CASE WHEN s.stage = 'script' THEN s.output ->> 'writer' END) ORDER BY s.started_at, s.stage)
  FROM video_stages s WHERE s.video_id = videos.id), '[]') AS "stagesJson"`;

export type StageSummary = Omit<StageRecord, 'output' | 'attemptToken'> & {
  /** Who wrote the script (the script stage's output names it); null for other stages. */
  writer: string | null;
};
export interface VideoWithStages extends VideoRecord {
  stages: StageSummary[];
}

type StagesJsonRow = VideoRecord & {
  stagesJson: Array<
    Omit<StageSummary, 'startedAt' | 'finishedAt'> & { startedAt: string; finishedAt: string | null }
  >;
};

function withStages(row: StagesJsonRow): VideoWithStages {
  const { stagesJson, ...video } = row;
  return {
    ...video,
    stages: stagesJson.map((s) => ({
      ...s,
      startedAt: new Date(s.startedAt),
      finishedAt: s.finishedAt ? new Date(s.finishedAt) : null,
    })),
  };
}

type Queryable = Pick<pg.Pool, 'query'>;

/**
 * Inserts a video, or returns the caller's existing one for the same idempotency key
 * (`created: false`) with the request fingerprint stored with it (null for rows older than the
 * fingerprint). Race-safe through the unique (api_key_id, idempotency_key) constraint.
 */
export async function createVideo(
  pool: pg.Pool,
  input: {
    id: string;
    apiKeyId: string;
    idempotencyKey?: string;
    spec: VideoSpec;
    requestFingerprint?: string;
  },
): Promise<{ video: VideoRecord; created: boolean; storedFingerprint?: string | null }> {
  // The row and its audit entry in one statement (atomic on its own): one round trip, where
  // BEGIN, two INSERTs and COMMIT took four.
  const inserted = await pool.query<VideoRecord>({
    name: 'archibald-create-video',
    text: `WITH inserted AS (
        INSERT INTO videos (id, api_key_id, idempotency_key, spec, request_fingerprint) VALUES ($1, $2, $3, $4, $5)
        ON CONFLICT (api_key_id, idempotency_key) DO NOTHING RETURNING ${VIDEO_COLUMNS}
      ), audited AS (
        INSERT INTO audit_log (actor, action, subject, detail)
        SELECT $6, 'video.created', inserted.id::text, $7 FROM inserted
      )
      SELECT * FROM inserted`,
    values: [
      input.id,
      input.apiKeyId,
      input.idempotencyKey ?? null,
      JSON.stringify(input.spec),
      input.requestFingerprint ?? null,
      `key:${input.apiKeyId}`,
      JSON.stringify({ topic: input.spec.topic }),
    ],
  });
  const video = inserted.rows[0];
  if (video) return { video, created: true };
  // The conflicting row is committed (ON CONFLICT waited for it), so this read, a statement with a
  // snapshot of its own, sees it.
  const existing = await pool.query<VideoRecord & { storedFingerprint: string | null }>(
    `SELECT ${VIDEO_COLUMNS}, request_fingerprint AS "storedFingerprint" FROM videos
      WHERE api_key_id = $1 AND idempotency_key = $2`,
    [input.apiKeyId, input.idempotencyKey],
  );
  const { storedFingerprint, ...found } = existing.rows[0]!;
  return { video: found, created: false, storedFingerprint };
}

export async function getVideo(
  db: Queryable,
  id: string,
  apiKeyId?: string,
): Promise<VideoRecord | undefined> {
  const rows = await db.query<VideoRecord>(
    `SELECT ${VIDEO_COLUMNS} FROM videos WHERE id = $1 AND ($2::uuid IS NULL OR api_key_id = $2)`,
    [id, apiKeyId ?? null],
  );
  return rows.rows[0];
}

/** A video with its stage summaries, in one query; scoped to a caller when apiKeyId is given. */
export async function getVideoWithStages(
  db: Queryable,
  id: string,
  apiKeyId?: string,
): Promise<VideoWithStages | undefined> {
  const rows = await db.query<StagesJsonRow>({
    name: 'archibald-get-video-with-stages',
    text: `SELECT ${VIDEO_COLUMNS}, ${STAGES_JSON} FROM videos WHERE id = $1 AND ($2::uuid IS NULL OR api_key_id = $2)`,
    values: [id, apiKeyId ?? null],
  });
  return rows.rows[0] ? withStages(rows.rows[0]) : undefined;
}

/** Several videos with their stage summaries, in one query (any caller's: the ids were authorized). */
export async function getVideosWithStages(db: Queryable, ids: readonly string[]): Promise<VideoWithStages[]> {
  if (ids.length === 0) return [];
  const rows = await db.query<StagesJsonRow>(
    `SELECT ${VIDEO_COLUMNS}, ${STAGES_JSON} FROM videos WHERE id = ANY($1::uuid[])`,
    [ids],
  );
  return rows.rows.map(withStages);
}

export async function getStages(db: Queryable, videoId: string): Promise<StageRecord[]> {
  const rows = await db.query<StageRecord>(
    `SELECT ${STAGE_COLUMNS} FROM video_stages WHERE video_id = $1 ORDER BY started_at, stage`,
    [videoId],
  );
  return rows.rows;
}

/** Newest first, keyset-paginated on (created_at, id): the cursor is the last id of the page before. */
export async function listVideos(
  db: Queryable,
  filter: { apiKeyId: string; status?: VideoStatus; limit: number; afterId?: string },
): Promise<VideoWithStages[]> {
  const rows = await db.query<StagesJsonRow>(
    `SELECT ${VIDEO_COLUMNS}, ${STAGES_JSON} FROM videos
      WHERE api_key_id = $1 AND ($2::text IS NULL OR status = $2)
        AND ($3::uuid IS NULL OR (created_at, id) < (SELECT created_at, id FROM videos WHERE id = $3))
      ORDER BY created_at DESC, id DESC LIMIT $4`,
    [filter.apiKeyId, filter.status ?? null, filter.afterId ?? null, filter.limit],
  );
  return rows.rows.map(withStages);
}

/**
 * Cancels a queued or running video. Returns the status it had, or undefined when it does not
 * exist for this caller; a video already final is returned unchanged (`cancelled: false`).
 */
export async function cancelVideo(
  pool: pg.Pool,
  id: string,
  apiKeyId: string,
): Promise<{ previous: VideoStatus; cancelled: boolean } | undefined> {
  return inTransaction(pool, async (client) => {
    const current = await client.query<{ status: VideoStatus }>(
      'SELECT status FROM videos WHERE id = $1 AND api_key_id = $2 FOR UPDATE',
      [id, apiKeyId],
    );
    const previous = current.rows[0]?.status;
    if (!previous) return undefined;
    if (FINAL_STATUSES.includes(previous)) return { previous, cancelled: false };
    await client.query(
      `UPDATE videos SET status = 'cancelled', finished_at = now(), updated_at = now() WHERE id = $1`,
      [id],
    );
    await recordAudit(client, {
      actor: `key:${apiKeyId}`,
      action: 'video.cancelled',
      subject: id,
      detail: { previous },
    });
    return { previous, cancelled: true };
  });
}

// ---- the worker's side: every write after startAttempt is fenced by the attempt's token ----

/**
 * Makes `token` the attempt that owns the video and marks it running; undefined when the video is
 * final (cancelled, or already done). From here on an earlier attempt's writes are refused.
 */
export async function startAttempt(
  pool: pg.Pool,
  id: string,
  attempt: number,
  token: string,
): Promise<VideoRecord | undefined> {
  const rows = await pool.query<VideoRecord>(
    `UPDATE videos SET status = 'running', attempts = $2, attempt_token = $3,
        started_at = coalesce(started_at, now()), error_stage = NULL, error_message = NULL, updated_at = now()
      WHERE id = $1 AND status IN ('queued', 'running') RETURNING ${VIDEO_COLUMNS}`,
    [id, attempt, token],
  );
  return rows.rows[0];
}

export async function currentStatus(db: Queryable, id: string): Promise<VideoStatus | undefined> {
  const rows = await db.query<{ status: VideoStatus }>('SELECT status FROM videos WHERE id = $1', [id]);
  return rows.rows[0]?.status;
}

/**
 * True when `token` is the video's current attempt (and, with `running`, the video is running); the
 * row stays locked until the transaction ends, so no other attempt can take the video over between
 * this check and the caller's write.
 */
async function ownsVideo(
  client: pg.PoolClient,
  id: string,
  token: string,
  running: boolean,
): Promise<boolean> {
  const rows = await client.query(
    `SELECT 1 FROM videos WHERE id = $1 AND attempt_token = $2 AND (NOT $3 OR status = 'running')
      FOR NO KEY UPDATE`,
    [id, token, running],
  );
  return rows.rowCount === 1;
}

/** Records a stage starting in this attempt; false (nothing written) when the attempt no longer owns the video. */
export async function stageStarted(
  pool: pg.Pool,
  id: string,
  stage: StageName,
  attempt: { number: number; token: string },
): Promise<boolean> {
  return inTransaction(pool, async (client) => {
    if (!(await ownsVideo(client, id, attempt.token, true))) return false;
    await client.query(
      `INSERT INTO video_stages (video_id, stage, status, attempt, attempt_token, started_at)
         VALUES ($1, $2, 'running', $3, $4, now())
       ON CONFLICT (video_id, stage) DO UPDATE SET status = 'running', attempt = $3, attempt_token = $4,
         started_at = now(), finished_at = NULL, duration_ms = NULL, output = NULL, cost_usd = 0,
         error_message = NULL`,
      [id, stage, attempt.number, attempt.token],
    );
    await client.query(`UPDATE videos SET current_stage = $2, updated_at = now() WHERE id = $1`, [id, stage]);
    return true;
  });
}

/**
 * Records a stage's end; false (nothing written) unless this attempt is still the video's current
 * one and wrote the stage row. The video need not be running: the stage of a video cancelled
 * meanwhile is recorded as it ended.
 */
export async function stageFinished(
  pool: pg.Pool,
  id: string,
  stage: StageName,
  token: string,
  result:
    | { status: 'completed'; output: unknown; costUsd: number; durationMs: number }
    | { status: 'failed' | 'cancelled'; errorMessage: string; costUsd: number; durationMs: number },
): Promise<boolean> {
  return inTransaction(pool, async (client) => {
    if (!(await ownsVideo(client, id, token, false))) return false;
    const rows = await client.query(
      `UPDATE video_stages SET status = $4, finished_at = now(), duration_ms = $5, output = $6, cost_usd = $7,
         error_message = $8
        WHERE video_id = $1 AND stage = $2 AND attempt_token = $3`,
      [
        id,
        stage,
        token,
        result.status,
        Math.round(result.durationMs),
        result.status === 'completed' ? JSON.stringify(result.output ?? null) : null,
        result.costUsd,
        result.status === 'completed' ? null : result.errorMessage,
      ],
    );
    return rows.rowCount === 1;
  });
}

/** False when the attempt no longer owns the video (nothing written). */
export async function updateProgress(
  pool: pg.Pool,
  id: string,
  token: string,
  progress: number,
  costUsd: number,
): Promise<boolean> {
  const rows = await pool.query(
    `UPDATE videos SET progress = $3, cost_usd = $4, updated_at = now()
      WHERE id = $1 AND status = 'running' AND attempt_token = $2`,
    [id, token, Math.max(0, Math.min(100, progress)), costUsd],
  );
  return rows.rowCount === 1;
}

/**
 * Records the completion; true only for the one call that moved the video to completed, and only
 * from the attempt that owns it.
 */
export async function completeVideo(
  pool: pg.Pool,
  id: string,
  token: string,
  result: { outputUrl: string | null; captionsUrl: string | null; costUsd: number },
): Promise<boolean> {
  return inTransaction(pool, async (client) => {
    const rows = await client.query(
      `UPDATE videos SET status = 'completed', progress = 100, current_stage = NULL, output_url = $3,
          captions_url = $4, cost_usd = $5, finished_at = now(), updated_at = now()
        WHERE id = $1 AND status = 'running' AND attempt_token = $2 RETURNING id`,
      [id, token, result.outputUrl, result.captionsUrl, result.costUsd],
    );
    if (rows.rowCount !== 1) return false;
    await recordAudit(client, { actor: 'worker', action: 'video.completed', subject: id, detail: {} });
    return true;
  });
}

/**
 * Records the final failure; true when this call moved the video to failed. The video's cost is
 * what its stages recorded (the attempts that ran were paid for). With a token, only the attempt
 * that owns the video can fail it; without one (the API, the reconciler, the queue giving up on a
 * job) any video not final yet is.
 */
export async function failVideo(
  pool: pg.Pool,
  id: string,
  failure: { stage: StageName | null; message: string },
  token?: string,
): Promise<boolean> {
  return inTransaction(pool, async (client) => {
    const rows = await client.query(
      `UPDATE videos SET status = 'failed', error_stage = $2, error_message = $3,
          cost_usd = (SELECT coalesce(sum(cost_usd), 0) FROM video_stages WHERE video_id = $1),
          finished_at = now(), updated_at = now()
        WHERE id = $1 AND status IN ('queued', 'running') AND ($4::text IS NULL OR attempt_token = $4)
        RETURNING id`,
      [id, failure.stage, failure.message, token ?? null],
    );
    if (rows.rowCount !== 1) return false;
    await recordAudit(client, {
      actor: 'worker',
      action: 'video.failed',
      subject: id,
      detail: { stage: failure.stage, message: failure.message },
    });
    return true;
  });
}

/**
 * An attempt that will be retried (or was released on shutdown): back to queued, error kept.
 * False when the attempt no longer owns the video.
 */
export async function requeueVideo(
  pool: pg.Pool,
  id: string,
  token: string,
  failure?: { stage: StageName | null; message: string },
): Promise<boolean> {
  const rows = await pool.query(
    `UPDATE videos SET status = 'queued', current_stage = NULL, error_stage = $3, error_message = $4,
        updated_at = now()
      WHERE id = $1 AND status = 'running' AND attempt_token = $2`,
    [id, token, failure?.stage ?? null, failure?.message ?? null],
  );
  return rows.rowCount === 1;
}
