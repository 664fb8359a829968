/**
 * The redis-loss drill: Redis restarted empty while a worker renders; the reconciler puts the lost
 * jobs back from Postgres and every accepted video completes, exactly once.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { RECONCILE_INTERVAL_SECONDS } from '../../drills/scenarios/redis-loss.js';
import { runDrillJson } from './drill-process.js';

test('redis-loss: every video accepted before and after Redis restarted empty completes, none lost', async () => {
  const result = await runDrillJson('redis-loss');
  assert.equal(result.verified, true, JSON.stringify(result.detail));
  assert.equal(result.acknowledgedLost, 0);
  assert.equal(result.rpoSeconds, 0);
  assert.ok(Number(result.detail.requeued) >= 1, 'the reconciler requeued what the queue lost');
  // A reconcile pass (and the row's grace of the same length) plus renders of a few 15 s videos.
  assert.ok(
    result.rtoSeconds >= RECONCILE_INTERVAL_SECONDS && result.rtoSeconds < 180,
    `RTO ${result.rtoSeconds} s`,
  );
});
