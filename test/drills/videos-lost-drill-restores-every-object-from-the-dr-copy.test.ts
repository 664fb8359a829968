/**
 * The videos-lost drill: videos rendered and published to S3 by the real worker, replicated to the
 * DR bucket, then deleted and overwritten; restored from the DR copy and checked against the size
 * and SHA-256 Postgres recorded at publish.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runDrillJson } from './drill-process.js';

test('videos-lost: every deleted or overwritten object is restored from the DR copy, checked against Postgres', async () => {
  const result = await runDrillJson('videos-lost');
  assert.equal(result.scenario, 'videos-lost');
  assert.equal(result.verified, true, JSON.stringify(result.detail));
  assert.equal(result.acknowledgedLost, 0);
  assert.equal(result.rpoSeconds, 0, 'every object replicated before the disaster is restored');
  assert.match(result.detail.checked.join('\n'), /match the size and SHA-256 recorded in Postgres/);
  // Two objects deleted (MP4 and WebVTT of one video) and one MP4 overwritten: exactly those restored.
  assert.equal((result.detail.restoredKeys as string[]).length, 3);
  // HEADs, three copies and six downloads of 15 s videos on loopback: seconds, loosely bounded.
  assert.ok(result.rtoSeconds > 0 && result.rtoSeconds < 60, `RTO ${result.rtoSeconds} s`);
});
