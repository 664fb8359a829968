/**
 * redis-loss — Redis restarted empty under load (an ElastiCache node replaced, the dev Redis pod
 * rescheduled: no persistence). Postgres is the system of record, so following
 * runbooks/dr/redis-loss.md the recovery is the workers' reconciler (RECONCILE_INTERVAL_SECONDS)
 * putting back on the queue every video Postgres holds as queued or running: nobody re-submits.
 *
 * Verified: every video the API accepted (202), before and after the restart, completes, exactly
 * once, with its published objects. Loss (RPO): 0. RTO: from the restart to the last video accepted
 * before it completing.
 */
import { setTimeout as delay } from 'node:timers/promises';
import {
  completionsAndObjects,
  exactlyOnce,
  startStack,
  untilAllCompleted,
  videoRows,
} from '../support/stack.js';
import { until } from '../support/run.js';
import type { DrillResult, DrillRun } from '../support/run.js';
import { drillVideo, startWorker } from '../support/runtime.js';

export const RECONCILE_INTERVAL_SECONDS = 2;
const BEFORE = 4;
const AFTER = 1;

export async function redisLossDrill(run: DrillRun): Promise<Omit<DrillResult, 'ranAt' | 'durationSeconds'>> {
  const { db, redis, env, api } = await startStack(run, {
    RECONCILE_INTERVAL_SECONDS: String(RECONCILE_INTERVAL_SECONDS),
    WORKER_CONCURRENCY: '2',
    JOB_ATTEMPTS: '3',
  });
  const worker = await run.step('start a worker (archibald worker)', () =>
    startWorker(run, 'archibald worker', env),
  );

  const accepted: string[] = [];
  let refused = 0;
  const submit = async (topic: string) => {
    const response = await api
      .call<{ id: string }>('POST', '/v1/videos', drillVideo(topic))
      .catch(() => undefined);
    if (response?.status === 202) accepted.push(response.body.id);
    else refused++;
  };
  await run.step(`submit ${BEFORE} videos and wait until one is rendering`, async () => {
    for (let i = 0; i < BEFORE; i++) await submit(`redis-loss before ${i}`);
    if (accepted.length === 0) throw new Error('the API accepted no video');
    await until('a video to be running', async () =>
      (await videoRows(db)).some((r) => r.status === 'running') ? true : undefined,
    );
  });
  const before = [...accepted];
  const atRestart = await videoRows(db);

  const restartedAt = Date.now();
  const keysAfter = await run.step('restart Redis empty (the disaster)', async () => {
    await redis.restartEmpty();
    return redis.dbsize();
  });
  await run.step(`submit ${AFTER} more videos while the queue recovers`, async () => {
    for (let i = 0; i < AFTER; i++) {
      await submit(`redis-loss after ${i}`);
      await delay(200);
    }
  });

  const completedAt = await run.step(
    'wait for the reconciler to requeue them and every accepted video to complete',
    () => untilAllCompleted(db, accepted, 240_000),
  );
  const rtoSeconds = run.seconds(restartedAt, Math.max(...before.map((id) => completedAt.get(id)!)));

  return run.step('verify every accepted video completed exactly once', async () => {
    const { completions, objects } = await completionsAndObjects(db, env.STORAGE_DIR!);
    const once = exactlyOnce(accepted, completions, objects);
    const rows = await videoRows(db);
    const lost = accepted.filter((id) => rows.find((r) => r.id === id)?.status !== 'completed');
    const metricsUrl = worker.output().match(/"metrics":"(http:\/\/[^"]+)"/)?.[1];
    const metrics = metricsUrl ? await (await fetch(`${metricsUrl}/metrics`)).text() : '';
    const requeued = Number(
      metrics.match(
        /^archibald_reconciler_actions_total\{action="requeued",reason="missing"\} (\d+)$/m,
      )?.[1] ?? 0,
    );
    if (once.problems.length || lost.length)
      throw new Error([...once.problems, ...lost.map((id) => `${id} never completed`)].join('; '));
    const states = (s: string) => atRestart.filter((r) => before.includes(r.id) && r.status === s).length;
    return {
      scenario: 'redis-loss',
      verified: true,
      rpoSeconds: 0,
      rtoSeconds,
      acknowledgedLost: lost.length,
      detail: {
        lost:
          `nothing: Redis came back with ${keysAfter} keys (every job gone); of ${before.length} videos accepted before the ` +
          `restart (${states('running')} running, ${states('queued')} queued) and ${accepted.length - before.length} after it, all completed` +
          (refused ? `; ${refused} submissions refused (503) while Redis was down, not acknowledged` : ''),
        checked: [
          `${accepted.length} accepted videos all completed in Postgres`,
          once.checked,
          `the reconciler requeued ${requeued} videos the queue had lost (archibald_reconciler_actions_total)`,
        ],
        rpo: 'acknowledged videos lost: Postgres is the system of record, Redis only carries work',
        rto: `from the restart to the last video accepted before it completing (reconcile interval ${RECONCILE_INTERVAL_SECONDS} s, plus the renders)`,
        reconcileIntervalSeconds: RECONCILE_INTERVAL_SECONDS,
        requeued,
      },
    };
  });
}
