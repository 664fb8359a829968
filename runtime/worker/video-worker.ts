/**
 * The worker: takes video jobs from BullMQ and runs the pipeline for each.
 *
 * - Job id = video id; Postgres holds the video's state, BullMQ only delivers and retries.
 * - A job's AbortSignal fires on cancel (pub/sub message, or the row turning cancelled), on
 *   JOB_TIMEOUT_SECONDS, and on shutdown after the grace period.
 * - A failed attempt is retried with exponential backoff (JOB_ATTEMPTS); the last one, a timeout or
 *   a cancel is final. On shutdown a running job is released back to the queue without using up an
 *   attempt, and the next worker resumes it from its completed stages.
 * - A crashed worker's job is recovered by BullMQ's stalled-job check in another worker.
 * - An attempt is named by its job token. A worker that stops renewing a job's lock in time (a
 *   pause, a blocked event loop, a network partition) loses the job to another worker while it may
 *   still be running it. A failed renewal (BullMQ's 'lockRenewalFailed', with the job ids, or the
 *   attempt's own renewal with its token) aborts the attempt ('lock-lost'); so does BullMQ handing
 *   this process the same job again. Until it notices, it cannot do harm: it works in its
 *   own directory (work-dirs.ts), and each of its writes to Postgres is fenced by its token
 *   (db/videos.ts), so a stale attempt's late stage, progress, completion or failure is refused.
 */
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { SpanKind } from '@opentelemetry/api';
import type { Span } from '@opentelemetry/api';
import { DelayedError, UnrecoverableError, Worker } from 'bullmq';
import type { Job } from 'bullmq';
import type { Logger } from 'pino';
import type { Config } from '../config/load.js';
import type { Database } from '../db/pool.js';
import {
  FINAL_STATUSES,
  completeVideo,
  currentStatus,
  failVideo,
  getStages,
  requeueVideo,
  startAttempt,
  updateProgress,
} from '../db/videos.js';
import type { Metrics } from '../metrics/registry.js';
import { AttemptSuperseded, StageRunError, orderStages, runStages } from '../pipeline/run-stages.js';
import type { PublishOutput, Stage } from '../pipeline/stage.js';
import { closeRedis, createRedis } from '../queue/connection.js';
import type { RedisClient } from '../queue/connection.js';
import { QUEUE_NAME, cancelChannel, createVideoQueue } from '../queue/video-queue.js';
import type { VideoJobData, VideoQueue } from '../queue/video-queue.js';
import { contextFromCarrier, failSpan, inSpan } from '../telemetry/spans.js';
import { startReconciler } from './reconciler.js';
import { postgresRecorder, stageMetrics } from './stage-records.js';
import { prepareAttemptDir, removeVideoDirs } from './work-dirs.js';
import { claimWorkDir, removeUnlessInUse, startWorkDirSweeper } from './work-dir-sweep.js';

export type AbortKind = 'cancelled' | 'timeout' | 'shutdown' | 'lock-lost';

/** Why a job's signal fired; its message is what the stage records. */
export class JobAbort extends Error {
  constructor(
    readonly kind: AbortKind,
    message: string,
  ) {
    super(message);
    this.name = 'JobAbort';
  }
}

const CANCEL_POLL_MS = 2000;
/** Progress within a stage is written to Postgres and BullMQ at most this often. */
const PROGRESS_INTERVAL_MS = 500;

export interface VideoWorkerOptions {
  config: Config;
  db: Database;
  stages: readonly Stage[];
  log: Logger;
  metrics: Metrics;
}

export interface JobResult {
  videoUrl?: string | null;
  skipped?: string;
}

/** An attempt this worker runs, keyed by its job token in `running`. */
interface RunningAttempt {
  jobId: string;
  videoId: string;
  controller: AbortController;
}

export class VideoWorker {
  private readonly stages: Stage[];
  private readonly running = new Map<string, RunningAttempt>();
  private worker?: Worker<VideoJobData, JobResult>;
  private connection?: RedisClient;
  private subscriber?: RedisClient;
  private stopping?: Promise<void>;
  private queue?: VideoQueue;
  private reconciler?: { stop(): Promise<void> };
  private sweeper?: { stop(): Promise<void> };
  private loopFailure?: Error;
  private readonly loopFailed: Promise<Error>;
  private reportLoopFailure: (error: Error) => void = () => {};

  constructor(private readonly options: VideoWorkerOptions) {
    this.stages = orderStages(options.stages);
    this.loopFailed = new Promise((resolve) => {
      this.reportLoopFailure = resolve;
    });
  }

  /** False once the job loop has died: the process can no longer take jobs and must be restarted. */
  get healthy(): boolean {
    return this.loopFailure === undefined;
  }

  /** Settles with the error if the job loop dies while the worker is not stopping. */
  get failed(): Promise<Error> {
    return this.loopFailed;
  }

  /** Video ids this worker is running now. */
  get activeVideoIds(): string[] {
    return [...new Set([...this.running.values()].map((a) => a.videoId))];
  }

  async start(): Promise<void> {
    const { config, log, metrics } = this.options;
    // Before the first job, then now and again: what a killed worker left in WORK_DIR and nothing
    // will resume (work-dirs.ts says what is safe to remove).
    this.sweeper = await startWorkDirSweeper(config.workDir, {
      staleAfterMs: config.queue.timeoutSeconds * 1000,
      intervalMs: config.worker.reconcileIntervalSeconds * 1000,
      isActive: async (id) =>
        ['queued', 'running'].includes((await currentStatus(this.options.db.primary, id)) ?? ''),
      log,
    });
    this.connection = createRedis(config.redis, { name: 'worker', maxRetriesPerRequest: null, log });
    this.subscriber = createRedis(config.redis, { name: 'worker-cancel', maxRetriesPerRequest: null, log });
    const channel = cancelChannel(config.queue.prefix);
    this.subscriber.on('message', (from: string, videoId: string) => {
      if (from !== channel) return;
      // Not running here, it may be waiting out a retry's backoff: its directory is garbage now.
      if (!this.abort(videoId, new JobAbort('cancelled', 'cancelled by request')))
        void this.removeWorkDir(videoId);
    });
    await this.subscriber.subscribe(channel);

    const lockMs = config.worker.lockSeconds * 1000;
    this.worker = new Worker<VideoJobData, JobResult>(
      QUEUE_NAME,
      // No third (signal) parameter: BullMQ's processor signal fires only on worker.cancelJob(),
      // which nothing calls; our own controller per attempt carries every abort reason.
      (job, token) => this.process(job, token),
      {
        connection: this.connection,
        prefix: config.queue.prefix,
        concurrency: config.worker.concurrency,
        lockDuration: lockMs,
        stalledInterval: lockMs,
        maxStalledCount: 1,
        autorun: false,
      },
    );
    this.worker.on('error', (error) => log.warn({ err: error }, 'worker error'));
    // BullMQ can give up on a job without our handleFailure recording it: a job that stalled more
    // than maxStalledCount is failed on its next pickup without running, and an attempt that throws
    // before the pipeline starts (Postgres down) uses up attempts. The row must not stay queued or
    // running forever; failVideo only moves a video that is not final yet.
    this.worker.on('failed', (job, error) => {
      if (!job?.finishedOn) return; // not final: BullMQ retries it
      failVideo(this.options.db.primary, job.data.videoId, { stage: null, message: error.message })
        .then((moved) => {
          void this.removeWorkDir(job.data.videoId);
          if (!moved) return;
          metrics.videosFinished.inc({ outcome: 'failed' });
          log.error(
            { jobId: job.id, videoId: job.data.videoId, err: error },
            'video failed: the queue gave up on its job',
          );
        })
        .catch((e: unknown) =>
          log.error({ err: e, videoId: job.data.videoId }, 'could not record the failed job'),
        );
    });
    // Fired when a renewal found the lock gone or held by another token: another worker owns the
    // job (or will, once the stalled-job check moves it back to wait). Abort our attempts of it.
    // A renewal that could not reach Redis emits 'error' only, and the next renewal tries again.
    this.worker.on('lockRenewalFailed', (jobIds) => {
      for (const jobId of jobIds) {
        this.abortJob(jobId, new JobAbort('lock-lost', 'the job lock was lost to another worker'));
      }
    });
    this.worker.on('stalled', (jobId) => {
      metrics.jobsStalled.inc();
      log.warn({ jobId }, 'stalled job recovered (its worker stopped renewing the lock)');
    });
    metrics.workerConcurrency.set(config.worker.concurrency);
    metrics.workerActiveJobs.set(0);
    // The loop ending while nobody asked it to stop leaves a process that looks alive and takes no
    // job: report it so /health fails and the process exits for Kubernetes to restart.
    void this.worker.run().then(
      () => {
        if (!this.stopping) this.loopDied(new Error('the job loop ended without a shutdown'));
      },
      (error: unknown) => this.loopDied(error instanceof Error ? error : new Error(String(error))),
    );
    await this.worker.waitUntilReady();
    this.queue = createVideoQueue(this.connection, config.queue);
    this.reconciler = startReconciler({
      db: this.options.db,
      queue: this.queue,
      log,
      metrics,
      intervalSeconds: config.worker.reconcileIntervalSeconds,
      graceSeconds: config.worker.reconcileIntervalSeconds,
    });
    log.info(
      { concurrency: config.worker.concurrency, stages: this.stages.map((s) => s.name) },
      'worker taking jobs',
    );
  }

  private loopDied(error: Error): void {
    if (this.loopFailure) return;
    this.loopFailure = error;
    this.options.log.fatal({ err: error }, 'the job loop died: this worker takes no more jobs');
    this.reportLoopFailure(error);
  }

  /** Removes a video's work directory that no job of this or another live process is using. */
  private async removeWorkDir(videoId: string): Promise<void> {
    const dir = join(this.options.config.workDir, videoId);
    await removeUnlessInUse(dir, { running: this.activeVideoIds.includes(videoId) }).catch((error: unknown) =>
      this.options.log.warn({ err: error, videoId }, 'could not remove a work directory'),
    );
  }

  /** Fires the signal of every attempt of the video this worker runs. */
  abort(videoId: string, reason: JobAbort): boolean {
    return this.abortWhere((a) => a.videoId === videoId, reason);
  }

  private abortJob(jobId: string, reason: JobAbort, except?: string): boolean {
    return this.abortWhere((a, token) => a.jobId === jobId && token !== except, reason);
  }

  private abortWhere(match: (a: RunningAttempt, token: string) => boolean, reason: JobAbort): boolean {
    let aborted = false;
    for (const [token, a] of this.running) {
      if (!match(a, token) || a.controller.signal.aborted) continue;
      this.options.log.info({ videoId: a.videoId, token, reason: reason.kind }, 'aborting job');
      a.controller.abort(reason);
      aborted = true;
    }
    return aborted;
  }

  /**
   * One attempt, as one span in the trace of whoever enqueued the job (the POST, or the
   * reconciler): its stages, ffmpeg runs and provider calls are its children.
   */
  private process(job: Job<VideoJobData, JobResult>, jobToken?: string): Promise<JobResult> {
    const attributes = {
      'messaging.system': 'bullmq',
      'messaging.destination.name': QUEUE_NAME,
      'archibald.video.id': job.data.videoId,
      'archibald.job.attempt': job.attemptsMade + 1,
      'archibald.job.max_attempts': job.opts.attempts ?? 1,
      // From the add to this pickup; for a retry that includes the earlier attempts and backoff.
      'archibald.queue.wait_ms': Math.max(0, (job.processedOn ?? Date.now()) - job.timestamp),
    };
    return inSpan(
      'video attempt',
      {
        kind: SpanKind.CONSUMER,
        parent: contextFromCarrier(job.data.trace),
        attributes,
        statusByCaller: true,
      },
      async (span) => {
        if (job.stalledCounter > 0)
          span.addEvent('job.stalled', { 'archibald.job.stalled_count': job.stalledCounter });
        return this.runAttempt(job, span, jobToken);
      },
    );
  }

  private async runAttempt(
    job: Job<VideoJobData, JobResult>,
    span: Span,
    jobToken?: string,
  ): Promise<JobResult> {
    const { config, db, metrics } = this.options;
    const pool = db.primary;
    const videoId = job.data.videoId;
    const jobId = job.id ?? videoId;
    // BullMQ always passes the token with which it locked the job; it names (and fences) the attempt.
    const token = jobToken ?? randomUUID();
    const attempt = job.attemptsMade + 1;
    const maxAttempts = job.opts.attempts ?? 1;
    const log = this.options.log.child({ jobId, videoId, attempt, token });

    const video = await startAttempt(pool, videoId, attempt, token);
    if (!video) {
      const status = (await currentStatus(pool, videoId)) ?? 'missing';
      log.info({ status }, 'job skipped: the video is not runnable');
      span.setAttribute('archibald.job.skipped', status);
      await this.removeWorkDir(videoId);
      return { skipped: status };
    }
    if (attempt > 1) metrics.jobRetries.inc();
    // BullMQ handed this process the job again while an earlier attempt here still runs: that one
    // lost its lock (its writes are already refused); stop it.
    this.abortJob(jobId, new JobAbort('lock-lost', 'the job was taken over by a newer attempt'), token);

    const controller = new AbortController();
    this.running.set(token, { jobId, videoId, controller });
    metrics.workerActiveJobs.inc();
    const superseded = () =>
      controller.abort(new JobAbort('lock-lost', 'another attempt owns the video now'));
    // BullMQ's lock manager keeps one token per job id: when an older attempt of the same job ends
    // in this process after a newer one started, it stops renewing the newer one's lock, which then
    // expires and the job is failed as stalled. So each attempt also renews its own lock with its
    // own token; a renewal that finds the lock gone or held by another token aborts it, as
    // 'lockRenewalFailed' does. A renewal that cannot reach Redis is left to the next one.
    const lockMs = config.worker.lockSeconds * 1000;
    const keepLock = setInterval(() => {
      job.extendLock(token, lockMs).then(
        (kept) => {
          if (!kept) controller.abort(new JobAbort('lock-lost', 'the job lock was lost to another worker'));
        },
        () => {},
      );
    }, lockMs / 2);
    const timeout = setTimeout(
      () => controller.abort(new JobAbort('timeout', `timed out after ${config.queue.timeoutSeconds} s`)),
      config.queue.timeoutSeconds * 1000,
    );
    // Backstop for a missed pub/sub message: the row is the source of truth for cancellation.
    const poll = setInterval(() => {
      currentStatus(pool, videoId)
        .then((status) => {
          if (status === 'cancelled') controller.abort(new JobAbort('cancelled', 'cancelled by request'));
        })
        .catch(() => {});
    }, CANCEL_POLL_MS);

    const started = performance.now();
    try {
      // Start from the files of the attempts whose completed stages this one may reuse.
      const seedFrom = (await getStages(pool, videoId))
        .filter((s) => s.status === 'completed' && s.attemptToken)
        .sort((a, b) => (a.finishedAt?.getTime() ?? 0) - (b.finishedAt?.getTime() ?? 0))
        .map((s) => s.attemptToken!);
      const workDir = await prepareAttemptDir(config.workDir, videoId, token, [...new Set(seedFrom)]);
      await claimWorkDir(workDir);
      log.info('job started');
      const result = await runStages(this.stages, {
        videoId,
        spec: video.spec,
        workDir,
        signal: controller.signal,
        log,
        recorder: postgresRecorder(pool, videoId, { number: attempt, token }),
        metrics: stageMetrics(metrics),
        progressIntervalMs: PROGRESS_INTERVAL_MS,
        onProgress: async ({ percent: exact, stage, costUsd }) => {
          // One value in both places: event streams get it from BullMQ and from the row, and a
          // rounded 53.6 followed by the row's 53.57143 read as progress going backwards.
          const percent = Math.round(exact * 10) / 10;
          if (!(await updateProgress(pool, videoId, token, percent, costUsd))) return superseded();
          await job.updateProgress({ percent, stage });
        },
      });
      const publish = result.outputs.publish as PublishOutput | undefined;
      const recorded = await completeVideo(pool, videoId, token, {
        outputUrl: publish?.videoUrl ?? null,
        captionsUrl: publish?.captionsUrl ?? null,
        costUsd: result.costUsd,
      });
      if (recorded) {
        metrics.videosFinished.inc({ outcome: 'completed' });
        metrics.videoRenderDuration.observe((performance.now() - started) / 1000);
        metrics.videoCost.observe(result.costUsd);
        if (publish) metrics.videoLength.observe(publish.durationSeconds);
        log.info(
          { costUsd: result.costUsd, ran: result.ran, videoUrl: publish?.videoUrl },
          'video completed',
        );
      } else {
        // Cancelled, or taken over by another attempt, while the last stage ran: nothing to record.
        log.info(
          { status: await currentStatus(pool, videoId) },
          'pipeline finished but the video was no longer this attempt to complete',
        );
      }
      await this.cleanUpIfFinal(videoId);
      return { videoUrl: publish?.videoUrl ?? null };
    } catch (error) {
      return await this.handleFailure(job, token, error, controller.signal, {
        attempt,
        maxAttempts,
        log,
        span,
      });
    } finally {
      clearTimeout(timeout);
      clearInterval(poll);
      clearInterval(keepLock);
      this.running.delete(token);
      metrics.workerActiveJobs.dec();
    }
  }

  /** Removes the video's work directories (every attempt's) once the video is final. */
  private async cleanUpIfFinal(videoId: string): Promise<void> {
    const status = await currentStatus(this.options.db.primary, videoId).catch(() => undefined);
    if (status && FINAL_STATUSES.includes(status))
      await removeVideoDirs(this.options.config.workDir, videoId);
  }

  private async handleFailure(
    job: Job<VideoJobData, JobResult>,
    token: string,
    error: unknown,
    signal: AbortSignal,
    at: { attempt: number; maxAttempts: number; log: Logger; span: Span },
  ): Promise<never> {
    const { db, metrics } = this.options;
    const pool = db.primary;
    const videoId = job.data.videoId;
    const reason = signal.aborted && signal.reason instanceof JobAbort ? signal.reason : undefined;

    if (
      reason?.kind === 'cancelled' ||
      (await currentStatus(pool, videoId).catch(() => undefined)) === 'cancelled'
    ) {
      metrics.videosFinished.inc({ outcome: 'cancelled' });
      at.log.info('job cancelled');
      at.span.addEvent('job.cancelled');
      await this.cleanUpIfFinal(videoId);
      throw new UnrecoverableError('cancelled');
    }
    if (reason?.kind === 'lock-lost' || error instanceof AttemptSuperseded) {
      // Another attempt owns the video: record nothing, and leave the files to it (it may have
      // seeded its directory from ours) unless the video is over. BullMQ refuses to move the job
      // with our stale token, which it reports as a worker 'error'.
      at.log.warn(
        { reason: reason?.message ?? (error instanceof Error ? error.message : String(error)) },
        'attempt abandoned: another attempt owns the video now; nothing recorded',
      );
      at.span.addEvent('job.superseded');
      await this.cleanUpIfFinal(videoId);
      throw error;
    }
    if (reason?.kind === 'shutdown') {
      // Back to the queue now, without using up an attempt; completed stages are kept.
      await requeueVideo(pool, videoId, token);
      await job.moveToDelayed(Date.now(), token);
      at.log.info('job released on shutdown');
      at.span.addEvent('job.released', { 'archibald.job.reason': 'shutdown' });
      throw new DelayedError();
    }

    const stage = error instanceof StageRunError ? error.stage : null;
    const message = error instanceof Error ? error.message : String(error);
    const final =
      reason?.kind === 'timeout' || error instanceof UnrecoverableError || at.attempt >= at.maxAttempts;
    failSpan(at.span, error, message);
    if (stage) at.span.setAttribute('archibald.stage.failed', stage);
    at.span.setAttribute('archibald.job.final', final);
    if (final) {
      if (await failVideo(pool, videoId, { stage, message }, token)) {
        metrics.videosFinished.inc({ outcome: 'failed' });
      }
      at.log.error({ stage, err: error }, 'video failed');
      await this.cleanUpIfFinal(videoId);
      throw new UnrecoverableError(message);
    }
    await requeueVideo(pool, videoId, token, { stage, message });
    at.log.warn({ stage, err: error }, 'attempt failed; will retry');
    at.span.addEvent('job.retry_scheduled', {
      'archibald.job.attempt': at.attempt,
      'archibald.job.max_attempts': at.maxAttempts,
    });
    throw error;
  }

  /**
   * Stops taking jobs, lets running ones finish for WORKER_SHUTDOWN_GRACE_SECONDS, then releases
   * the rest back to the queue, and disconnects.
   */
  stop(): Promise<void> {
    this.stopping ??= this.shutdown();
    return this.stopping;
  }

  private async shutdown(): Promise<void> {
    const { config, log } = this.options;
    const worker = this.worker;
    await this.reconciler?.stop();
    await this.sweeper?.stop();
    if (worker) {
      log.info({ running: this.activeVideoIds }, 'worker stopping: no new jobs');
      const closing = worker.close();
      let timer: NodeJS.Timeout | undefined;
      const graceOver = new Promise<false>((resolve) => {
        timer = setTimeout(() => resolve(false), config.worker.shutdownGraceSeconds * 1000);
      });
      const finished = await Promise.race([closing.then(() => true as const), graceOver]);
      clearTimeout(timer);
      if (!finished) {
        for (const id of this.activeVideoIds)
          this.abort(id, new JobAbort('shutdown', 'worker shutting down'));
        await closing;
      }
    }
    await this.queue?.close();
    if (this.subscriber) await closeRedis(this.subscriber);
    if (this.connection) await closeRedis(this.connection);
    log.info('worker stopped');
  }
}
