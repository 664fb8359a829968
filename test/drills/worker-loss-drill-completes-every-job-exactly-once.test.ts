/**
 * The worker-loss drill: the worker and its ffmpeg SIGKILLed mid-render; a replacement worker
 * completes every job exactly once, with one published object per video.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { WORKER_LOCK_SECONDS } from '../../drills/scenarios/worker-loss.js';
import { runDrillJson } from './drill-process.js';

test('worker-loss: every job completes exactly once after its worker is SIGKILLed mid-render', async () => {
  const result = await runDrillJson('worker-loss');
  assert.equal(result.verified, true, JSON.stringify(result.detail));
  assert.equal(result.acknowledgedLost, 0);
  assert.equal(result.rpoSeconds, 0);
  assert.match(result.detail.checked.join('\n'), /exactly once/);
  // At least the lock's expiry; then the replacement's start and the rest of the renders.
  assert.ok(
    result.rtoSeconds >= WORKER_LOCK_SECONDS && result.rtoSeconds < 180,
    `RTO ${result.rtoSeconds} s`,
  );
});
