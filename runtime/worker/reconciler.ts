/**
 * Postgres is the system of record; Redis only carries work. The reconciler makes that true after
 * the cases where the two disagree: Redis restarted empty (a node restart without persistence), a
 * crash between the API's commit and its queue add, or a job BullMQ finished without the row
 * learning of it. It looks for videos Postgres still calls queued or running whose job is not live
 * in BullMQ, and puts them back on the queue — safe, since the job id is the video id.
 *
 * Every worker runs it on RECONCILE_INTERVAL_SECONDS; a transaction-scoped advisory lock lets one
 * pass run at a time across all workers.
 */
import type { Logger } from 'pino';
import type { Database } from '../db/pool.js';
import { inTransaction } from '../db/transaction.js';
import { failVideo } from '../db/videos.js';
import type { Metrics } from '../metrics/registry.js';
import { enqueueVideo } from '../queue/video-queue.js';
import { inSpan } from '../telemetry/spans.js';
import type { VideoQueue } from '../queue/video-queue.js';
import { startPeriodic } from './periodic.js';

/** pg advisory lock key of the reconciler ("archibald reconcile" folded to 64 bits, fixed forever). */
export const RECONCILER_LOCK_KEY = 7_165_031_146_020_119_553n;
/** At most this many videos per pass, oldest first; the next pass takes the rest. */
const BATCH = 500;

/** BullMQ states in which the job will still run (or is running). */
const LIVE_STATES = new Set(['waiting', 'active', 'delayed', 'prioritized', 'waiting-children', 'paused']);

export type ReconcileAction = 'requeued' | 'failed';

export interface ReconcileReport {
  /** False when another worker held the lock and this pass did nothing. */
  readonly ran: boolean;
  readonly checked: number;
  readonly actions: readonly { videoId: string; action: ReconcileAction; reason: string }[];
}

export interface ReconcilerOptions {
  db: Database;
  queue: VideoQueue;
  log: Logger;
  metrics: Metrics;
  /** How long a row must have been unchanged before its job's absence counts (covers commit → add). */
  graceSeconds: number;
}

/** One pass; safe to call from every worker at once. */
export async function reconcileOnce(o: ReconcilerOptions): Promise<ReconcileReport> {
  const pass = await inTransaction<ReconcileReport>(o.db.primary, async (client) => {
    const lock = await client.query<{ locked: boolean }>('SELECT pg_try_advisory_xact_lock($1) AS locked', [
      RECONCILER_LOCK_KEY.toString(),
    ]);
    if (!lock.rows[0]?.locked) return { ran: false, checked: 0, actions: [] };
    const rows = await client.query<{ id: string }>(
      `SELECT id FROM videos
        WHERE status IN ('queued', 'running') AND updated_at < now() - make_interval(secs => $1)
        ORDER BY created_at LIMIT ${BATCH}`,
      [o.graceSeconds],
    );
    const actions: { videoId: string; action: ReconcileAction; reason: string }[] = [];
    for (const { id } of rows.rows) {
      const state = await o.queue.getJobState(id);
      if (LIVE_STATES.has(state)) continue;
      if (state === 'failed') {
        // BullMQ gave up (attempts used, unrecoverable, stalled too often) and the worker that
        // should have recorded it did not: record it, rather than run it again without end.
        const job = await o.queue.getJob(id);
        const message = job?.failedReason || 'the queue gave up on the job';
        if (await failVideo(o.db.primary, id, { stage: null, message }))
          actions.push({ videoId: id, action: 'failed', reason: 'gave-up' });
        continue;
      }
      // 'unknown': no job at all (Redis lost it, or it was never added). 'completed': the job
      // ended without the row reaching a final status; it must run again. Both re-enter the queue
      // under the same id: a concurrent add of the same id is a no-op.
      if (state === 'completed') await (await o.queue.getJob(id))?.remove();
      // The video's first trace is not kept anywhere: its next attempts start a trace here.
      await inSpan(
        'reconciler requeue',
        { attributes: { 'archibald.video.id': id, 'archibald.reconcile.job_state': state } },
        () => enqueueVideo(o.queue, id),
      );
      actions.push({ videoId: id, action: 'requeued', reason: state === 'unknown' ? 'missing' : state });
    }
    return { ran: true, checked: rows.rowCount ?? 0, actions };
  });
  for (const a of pass.actions) {
    o.metrics.reconcilerActions.inc({ action: a.action, reason: a.reason });
    o.log.warn({ videoId: a.videoId, action: a.action, reason: a.reason }, 'reconciled a video');
  }
  return pass;
}

/** Runs reconcileOnce every intervalSeconds until stopped; a failed pass is logged and counted. */
export function startReconciler(o: ReconcilerOptions & { intervalSeconds: number }): {
  stop(): Promise<void>;
} {
  return startPeriodic({
    intervalSeconds: o.intervalSeconds,
    run: () => reconcileOnce(o),
    done: (report) => {
      o.metrics.reconcilerRuns.inc({ outcome: report.ran ? 'ran' : 'skipped' });
      if (report.ran && report.actions.length > 0)
        o.log.info({ checked: report.checked, actions: report.actions.length }, 'reconciler pass');
    },
    failed: (error) => {
      o.metrics.reconcilerRuns.inc({ outcome: 'error' });
      o.log.warn({ err: error }, 'reconciler pass failed; the next one retries');
    },
  });
}
