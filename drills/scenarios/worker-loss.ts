/**
 * worker-loss — a node dies mid-render: the worker process and its ffmpeg are SIGKILLed together
 * (its process group, as the kernel does to a pod on a lost node). Following
 * runbooks/dr/worker-loss.md nothing is re-submitted: a replacement worker (the Deployment's new
 * pod) takes the interrupted jobs over once their locks expire (WORKER_LOCK_SECONDS), and reuses
 * the stages that had completed.
 *
 * Verified: every video completes exactly once — one completion in the audit log, one upload in the
 * worker logs, and storage holds exactly one MP4 and one WebVTT per video, nothing else. Loss
 * (RPO): 0. RTO: from the kill to the last interrupted video completing.
 */
import {
  completionsAndObjects,
  exactlyOnce,
  startStack,
  untilAllCompleted,
  uploadsPerVideo,
  videoRows,
} from '../support/stack.js';
import { until } from '../support/run.js';
import type { DrillResult, DrillRun } from '../support/run.js';
import { groupProcesses } from '../support/children.js';
import { drillVideo, startWorker } from '../support/runtime.js';

export const WORKER_LOCK_SECONDS = 3;
const VIDEOS = 3;
/** Stages that run ffmpeg or flite: a video in one of these is mid-render. */
const RENDER_STAGES = new Set(['narration', 'visuals', 'captions', 'ambient', 'assemble', 'publish']);
const RENDERERS = /^(ffmpeg|ffprobe|flite)/;

export async function workerLossDrill(
  run: DrillRun,
): Promise<Omit<DrillResult, 'ranAt' | 'durationSeconds'>> {
  const { db, env, api } = await startStack(run, {
    WORKER_LOCK_SECONDS: String(WORKER_LOCK_SECONDS),
    WORKER_CONCURRENCY: '2',
    JOB_ATTEMPTS: '3',
  });
  const doomed = await run.step('start the worker on the node that will die', () =>
    startWorker(run, 'archibald worker (doomed)', env),
  );

  const ids: string[] = [];
  const { rendering: interrupted, renderers } = await run.step(
    `submit ${VIDEOS} videos and wait until two are mid-render`,
    async () => {
      for (let i = 0; i < VIDEOS; i++) {
        const response = await api.call<{ id: string }>('POST', '/v1/videos', drillVideo(`worker-loss ${i}`));
        if (response.status !== 202) throw new Error(`POST /v1/videos answered ${response.status}`);
        ids.push(response.body.id);
      }
      // Mid-render for real: two videos in render stages and an ffmpeg or flite of the worker's running.
      return until(
        'two videos to be mid-render with an ffmpeg or flite running',
        async () => {
          const rendering = (await videoRows(db)).filter(
            (r) => r.status === 'running' && RENDER_STAGES.has(r.current_stage ?? ''),
          );
          if (rendering.length < 2) return undefined;
          const renderers = (await groupProcesses(doomed.process.pid!)).filter((p) =>
            RENDERERS.test(p.command),
          );
          return renderers.length > 0 ? { rendering, renderers } : undefined;
        },
        120_000,
        50,
      );
    },
  );

  const killedAt = Date.now();
  await run.step('SIGKILL the worker and its ffmpeg (the node dies)', async () => {
    await doomed.kill();
    const left = await groupProcesses(doomed.process.pid!);
    if (left.length)
      throw new Error(`still alive after the kill: ${left.map((p) => `${p.command} ${p.pid}`).join(', ')}`);
  });
  const rescuer = await run.step('start a replacement worker', () =>
    startWorker(run, 'archibald worker (replacement)', env),
  );
  const completedAt = await run.step('wait for every video to complete', () =>
    untilAllCompleted(db, ids, 240_000),
  );
  const rtoSeconds = run.seconds(killedAt, Math.max(...interrupted.map((r) => completedAt.get(r.id)!)));

  return run.step('verify each video completed exactly once, with one published object each', async () => {
    const { completions, objects } = await completionsAndObjects(db, env.STORAGE_DIR!);
    const once = exactlyOnce(ids, completions, objects);
    const uploads = uploadsPerVideo([doomed.output(), rescuer.output()]);
    const problems = [...once.problems];
    for (const id of ids) {
      const n = uploads.get(id) ?? 0;
      if (n !== 1) problems.push(`${id} uploaded ${n} times`);
    }
    if (problems.length) throw new Error(problems.join('; '));
    const rows = await videoRows(db);
    const metricsUrl = rescuer.output().match(/"metrics":"(http:\/\/[^"]+)"/)?.[1];
    const metrics = metricsUrl ? await (await fetch(`${metricsUrl}/metrics`)).text() : '';
    const stalled = Number(metrics.match(/^archibald_jobs_stalled_total (\d+)$/m)?.[1] ?? 0);
    if (stalled < interrupted.length)
      throw new Error(
        `the replacement recovered ${stalled} stalled jobs, ${interrupted.length} were interrupted`,
      );
    return {
      scenario: 'worker-loss',
      verified: true,
      rpoSeconds: 0,
      rtoSeconds,
      acknowledgedLost: ids.filter((id) => rows.find((r) => r.id === id)?.status !== 'completed').length,
      detail: {
        lost:
          `nothing: ${interrupted.length} videos were mid-render (${interrupted.map((r) => r.current_stage).join(', ')}) ` +
          `when the worker and its ${[...new Set(renderers.map((p) => p.command))].join(' and ')} were killed; all ${ids.length} completed`,
        checked: [
          once.checked,
          `each video uploaded once across both workers' logs (a retried publish skips the stored object)`,
          `the replacement worker took over ${stalled} stalled jobs (archibald_jobs_stalled_total)`,
        ],
        rpo: 'acknowledged videos lost (their rows and completed stages are in Postgres)',
        rto: `from the kill to the last interrupted video completing: lock expiry (WORKER_LOCK_SECONDS ${WORKER_LOCK_SECONDS}) + the replacement's start + the rest of the render`,
        workerLockSeconds: WORKER_LOCK_SECONDS,
      },
    };
  });
}
