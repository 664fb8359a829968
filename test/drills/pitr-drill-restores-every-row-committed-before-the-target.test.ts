/**
 * The pitr drill: WAL archived with a bounded archive_timeout, a base backup, `archibald serve`
 * writing videos, DROP TABLE videos, a point-in-time restore to the second before it, and the
 * runtime ready on the restored database.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ARCHIVE_TIMEOUT_SECONDS } from '../../drills/scenarios/pitr.js';
import { runDrillJson } from './drill-process.js';

test('pitr restores every row committed before the target and none after, within the archive bound', async () => {
  const result = await runDrillJson('pitr');
  assert.equal(result.scenario, 'pitr');
  assert.equal(result.verified, true, JSON.stringify(result.detail));
  assert.equal(result.acknowledgedLost, 0, 'no video acknowledged before the target is lost');
  // The target is the DROP's logged time cut to the second: at most that second's commits are
  // given up. The archive lag (archive_timeout) is waited out, not lost; it bounds the RPO only
  // if the primary were gone too.
  assert.ok(
    result.rpoSeconds >= 0 && result.rpoSeconds <= 1 + ARCHIVE_TIMEOUT_SECONDS,
    `RPO ${result.rpoSeconds} s`,
  );
  // Restore + replay + the runtime's start on a shared 2-core machine: well inside the hour the
  // seeds promise; generous because this is not a timing test.
  assert.ok(result.rtoSeconds > 0 && result.rtoSeconds < 120, `RTO ${result.rtoSeconds} s`);
  assert.match(result.detail.checked.join('\n'), /all present, none after it/);
});
