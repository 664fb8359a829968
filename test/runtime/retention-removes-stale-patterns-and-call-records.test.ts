/**
 * The worker's retention pass over delegation's memory, in a database of its own: patterns unused
 * for PATTERN_RETENTION_HOURS and provider records older than PROVIDER_CALL_RETENTION_HOURS are
 * deleted, fresher ones kept, and a pass while another worker holds the lock does nothing.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import pino from 'pino';
import { migrate } from '../../runtime/db/migrate.js';
import { recordWrite } from '../../runtime/db/pattern-memory.js';
import { createDatabase } from '../../runtime/db/pool.js';
import { insertProviderRecord } from '../../runtime/db/provider-records.js';
import type { WriteReport } from '../../runtime/stages/script/delegation.js';
import { pruneOnce, RETENTION_LOCK_KEY } from '../../runtime/worker/retention.js';
import { useTestEnvironment } from '../support/environment.js';

const environment = await useTestEnvironment();
const db = createDatabase(environment.config().database);
environment.defer(() => db.close());
await migrate(db.primary);

const report: WriteReport = {
  start: 'cheap',
  writer: 'anthropic:claude-haiku-5-5',
  cheap: 'ok',
  premium: 'not_tried',
  validationFailures: 0,
  escalated: false,
  fellBack: false,
  costUsd: 0.002,
  latencyMs: 900,
};

const options = { db, log: pino({ level: 'silent' }), patternRetentionHours: 24, callRetentionHours: 48 };

test('retention removes patterns unused for PATTERN_RETENTION_HOURS and records older than PROVIDER_CALL_RETENTION_HOURS', async () => {
  for (const topicClass of ['sleep', 'focus', 'other'] as const)
    await recordWrite(db.primary, { style: 'calm', durationBand: 'short', topicClass }, report);
  for (let i = 0; i < 3; i++)
    await insertProviderRecord(db.primary, {
      kind: 'call',
      provider: 'anthropic',
      model: 'claude-haiku-5-5',
      outcome: 'ok',
      latencyMs: 900,
      units: 1000,
      unit: 'tokens',
      costUsd: 0.002,
    });
  await db.primary.query(
    `UPDATE delegation_patterns SET last_used_at = now() - CASE topic_class
       WHEN 'sleep' THEN interval '25 hours' WHEN 'focus' THEN interval '23 hours' ELSE interval '0' END`,
  );
  const ids = (await db.primary.query<{ id: string }>('SELECT id FROM provider_events ORDER BY id')).rows.map(
    (r) => r.id,
  );
  await db.primary.query(`UPDATE provider_events SET at = now() - interval '49 hours' WHERE id = $1`, [
    ids[0],
  ]);
  await db.primary.query(`UPDATE provider_events SET at = now() - interval '47 hours' WHERE id = $1`, [
    ids[1],
  ]);

  assert.deepEqual(await pruneOnce(options), { ran: true, patterns: 1, records: 1 });
  const left = await db.primary.query<{ topic_class: string }>(
    'SELECT topic_class FROM delegation_patterns ORDER BY 1',
  );
  assert.deepEqual(
    left.rows.map((r) => r.topic_class),
    ['focus', 'other'],
  );
  const records = await db.primary.query<{ id: string }>('SELECT id FROM provider_events ORDER BY id');
  assert.deepEqual(
    records.rows.map((r) => r.id),
    ids.slice(1),
  );
  assert.deepEqual(await pruneOnce(options), { ran: true, patterns: 0, records: 0 });
});

test('a retention pass while another worker holds the lock does nothing', async () => {
  await db.primary.query(`UPDATE delegation_patterns SET last_used_at = now() - interval '30 hours'`);
  const holder = await db.primary.connect();
  try {
    await holder.query('BEGIN');
    await holder.query('SELECT pg_advisory_xact_lock($1)', [RETENTION_LOCK_KEY.toString()]);
    assert.deepEqual(await pruneOnce(options), { ran: false, patterns: 0, records: 0 });
    await holder.query('COMMIT');
  } finally {
    holder.release();
  }
  assert.equal((await pruneOnce(options)).patterns, 2);
});
