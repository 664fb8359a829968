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
 */
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { DelayedError, UnrecoverableError, Worker } from 'bullmq';
import type { Job } from 'bullmq';
import type { Logger } from 'pino';
import type { Config } from '../config/load.js';
import type { Database } from '../db/pool.js';
import {
  completeVideo,
  currentStatus,
  failVideo,
  requeueVideo,
  startAttempt,
  updateProgress,
} from '../db/videos.js';
import type { Metrics } from '../metrics/registry.js';
import type { Stage } from '../pipeline/stage.js';
import { closeRedis, createRedis } from '../queue/connection.js';
import type { RedisClient } from '../queue/connection.js';
import { QUEUE_NAME, cancelChannel, createVideoQueue } from '../queue/video-queue.js';
import type { VideoJobData, VideoQueue } from '../queue/video-queue.js';
import { startReconciler } from './reconciler.js';
import type { PublishOutput } from '../stages/publish.js';
import { StageRunError, orderStages, runPipeline } from './stage-runner.js';
import { claimWorkDir, removeUnlessInUse, startWorkDirSweeper } from './work-dirs.js';

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

export class VideoWorker {
  private readonly stages: Stage[];
  private readonly running = new Map<string, AbortController>();
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
    return [...this.running.keys()];
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
      (job, token, signal) => this.process(job, token, signal),
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
    await removeUnlessInUse(dir, { running: this.running.has(videoId) }).catch((error: unknown) =>
      this.options.log.warn({ err: error, videoId }, 'could not remove a work directory'),
    );
  }

  /** Fires the job's signal if this worker runs it. */
  abort(videoId: string, reason: JobAbort): boolean {
    const controller = this.running.get(videoId);
    if (!controller || controller.signal.aborted) return false;
    this.options.log.info({ videoId, reason: reason.kind }, 'aborting job');
    controller.abort(reason);
    return true;
  }

  private async process(
    job: Job<VideoJobData, JobResult>,
    token?: string,
    lockSignal?: AbortSignal,
  ): Promise<JobResult> {
    const { config, db, metrics } = this.options;
    const pool = db.primary;
    const videoId = job.data.videoId;
    const attempt = job.attemptsMade + 1;
    const maxAttempts = job.opts.attempts ?? 1;
    const log = this.options.log.child({ jobId: job.id, videoId, attempt });

    const video = await startAttempt(pool, videoId, attempt);
    if (!video) {
      const status = (await currentStatus(pool, videoId)) ?? 'missing';
      log.info({ status }, 'job skipped: the video is not runnable');
      await this.removeWorkDir(videoId);
      return { skipped: status };
    }
    if (attempt > 1) metrics.jobRetries.inc();

    const controller = new AbortController();
    this.running.set(videoId, controller);
    metrics.workerActiveJobs.inc();
    const onLockLost = () =>
      controller.abort(new JobAbort('lock-lost', 'the job lock was lost to another worker'));
    lockSignal?.addEventListener('abort', onLockLost, { once: true });
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

    const workDir = join(config.workDir, videoId);
    const started = performance.now();
    try {
      await claimWorkDir(workDir);
      log.info('job started');
      const result = await runPipeline(this.stages, {
        pool,
        videoId,
        spec: video.spec,
        attempt,
        workDir,
        signal: controller.signal,
        log,
        metrics,
        onProgress: async (percent, stage, costUsd) => {
          await Promise.all([
            job.updateProgress({ percent: Math.round(percent * 10) / 10, stage }),
            updateProgress(pool, videoId, percent, costUsd),
          ]);
        },
      });
      const publish = result.outputs.publish as PublishOutput | undefined;
      const recorded = await completeVideo(pool, videoId, {
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
        // Cancelled (or finished elsewhere) while the last stage ran: nothing more to record.
        log.info(
          { status: await currentStatus(pool, videoId) },
          'pipeline finished but the video was no longer running',
        );
      }
      await rm(workDir, { recursive: true, force: true });
      return { videoUrl: publish?.videoUrl ?? null };
    } catch (error) {
      return await this.handleFailure(job, token, error, controller.signal, {
        workDir,
        attempt,
        maxAttempts,
        log,
      });
    } finally {
      clearTimeout(timeout);
      clearInterval(poll);
      lockSignal?.removeEventListener('abort', onLockLost);
      this.running.delete(videoId);
      metrics.workerActiveJobs.dec();
    }
  }

  private async handleFailure(
    job: Job<VideoJobData, JobResult>,
    token: string | undefined,
    error: unknown,
    signal: AbortSignal,
    at: { workDir: string; attempt: number; maxAttempts: number; log: Logger },
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
      await rm(at.workDir, { recursive: true, force: true });
      throw new UnrecoverableError('cancelled');
    }
    if (reason?.kind === 'shutdown' && token) {
      // Back to the queue now, without using up an attempt; completed stages are kept.
      await requeueVideo(pool, videoId);
      await job.moveToDelayed(Date.now(), token);
      at.log.info('job released on shutdown');
      throw new DelayedError();
    }
    if (reason?.kind === 'lock-lost') {
      at.log.warn('job lock lost; another worker owns the job now');
      throw error;
    }

    const stage = error instanceof StageRunError ? error.stage : null;
    const message = error instanceof Error ? error.message : String(error);
    const final =
      reason?.kind === 'timeout' || error instanceof UnrecoverableError || at.attempt >= at.maxAttempts;
    if (final) {
      if (await failVideo(pool, videoId, { stage, message })) {
        metrics.videosFinished.inc({ outcome: 'failed' });
      }
      at.log.error({ stage, err: error }, 'video failed');
      await rm(at.workDir, { recursive: true, force: true });
      throw new UnrecoverableError(message);
    }
    await requeueVideo(pool, videoId, { stage, message });
    at.log.warn({ stage, err: error }, 'attempt failed; will retry');
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
