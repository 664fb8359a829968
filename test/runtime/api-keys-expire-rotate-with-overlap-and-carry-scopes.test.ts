import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Redis } from 'ioredis';
import pg from 'pg';
import { auditEntries } from '../../runtime/db/audit.js';
import { loadMigrations, migrate } from '../../runtime/db/migrate.js';
import { announceKeyChange } from '../../runtime/security/key-cache.js';
import { apiClient, startTestApi } from '../support/api.js';
import { createTestDatabase } from '../support/database.js';
import { testPool, useTestEnvironment } from '../support/environment.js';
import { runCli } from '../support/processes.js';

const environment = await useTestEnvironment({ RATE_LIMIT_MAX: '1000', RATE_LIMIT_WINDOW_SECONDS: '60' });
const api = await startTestApi(environment);
const pool = testPool(environment, 2);

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

interface CreatedKey {
  id: string;
  key: string;
  scopes: string[];
  expiresAt: string;
  oldKeyExpiresAt?: string;
}

async function cli(args: string[], env: Record<string, string> = {}) {
  const r = await runCli(environment, args, env);
  assert.equal(r.code, 0, `archibald ${args.join(' ')}: ${r.stderr}`);
  return r;
}

async function cliKey(args: string[], env: Record<string, string> = {}): Promise<CreatedKey> {
  return JSON.parse((await cli(['keys', 'create', ...args, '--json'], env)).stdout) as CreatedKey;
}

/**
 * Moves a key's expiry into the past through the database: time passes without a sleep. Real time
 * passing would also outlast the API's few seconds of key cache; here the change is announced.
 */
async function expireInDatabase(id: string): Promise<void> {
  await pool.query("UPDATE api_keys SET expires_at = now() - interval '1 second' WHERE id = $1", [id]);
  const redis = new Redis(environment.env.REDIS_URL!);
  try {
    await announceKeyChange(redis, environment.keyPrefix, id);
  } finally {
    redis.disconnect();
  }
}

function near(actual: string | Date, expectedMs: number, what: string): void {
  const at = new Date(actual).getTime();
  assert.ok(Math.abs(at - expectedMs) < 5 * 60_000, `${what}: ${new Date(actual).toISOString()}`);
}

test('a key expires after API_KEY_TTL_DAYS or --ttl-days; an expired key gets a 401 naming its expiry, audited once', async () => {
  const byDefault = await cliKey(['--name', 'default ttl']);
  near(byDefault.expiresAt, Date.now() + 30 * DAY, 'default expiry');
  const configured = await cliKey(['--name', 'configured ttl'], { API_KEY_TTL_DAYS: '7' });
  near(configured.expiresAt, Date.now() + 7 * DAY, 'API_KEY_TTL_DAYS expiry');
  const flagged = await cliKey(['--name', 'short lived', '--ttl-days', '2'], { API_KEY_TTL_DAYS: '7' });
  near(flagged.expiresAt, Date.now() + 2 * DAY, '--ttl-days expiry');
  const stored = await pool.query('SELECT expires_at FROM api_keys WHERE id = $1', [flagged.id]);
  assert.equal(stored.rows[0].expires_at.toISOString(), flagged.expiresAt);

  const call = apiClient(api.url, flagged.key);
  assert.equal((await call('GET', '/v1/videos')).status, 200);
  await expireInDatabase(flagged.id);
  const { rows } = await pool.query('SELECT expires_at FROM api_keys WHERE id = $1', [flagged.id]);
  const expiredAt = (rows[0].expires_at as Date).toISOString();
  for (let i = 0; i < 3; i++) {
    const refused = await call('GET', '/v1/videos');
    assert.equal(refused.status, 401);
    assert.match(refused.body.message, new RegExp(`expired at ${expiredAt.replace(/\./g, '\\.')}`));
    assert.match(refused.headers.get('www-authenticate') ?? '', /^Bearer/);
  }
  // Other keys are unaffected.
  assert.equal((await apiClient(api.url, byDefault.key)('GET', '/v1/videos')).status, 200);

  const audit = await auditEntries(pool, { subject: flagged.id });
  assert.deepEqual(
    audit.map((a) => [a.action, a.actor]),
    [
      ['key.created', 'cli'],
      ['key.expired', `key:${flagged.id}`],
    ],
  );
  assert.equal(audit[1]!.detail.expiresAt, expiredAt);

  const listed = await cli(['keys', 'list']);
  assert.match(
    listed.stdout,
    new RegExp(`${flagged.id}.*expired.*expires ${expiredAt}.*scopes videos.*short lived`),
  );
  assert.match(
    listed.stdout,
    new RegExp(`${byDefault.id}.*active.*expires ${byDefault.expiresAt}.*scopes videos.*default ttl`),
  );
});

test('expired keys still count against the per-address limit for invalid keys', async () => {
  const limited = await startTestApi(environment, {
    RATE_LIMIT_AUTH_FAILURES_MAX: '3',
    // A budget of its own: the other tests' refusals from this address count under the shared prefix.
    QUEUE_PREFIX: `{${environment.env.QUEUE_PREFIX!.slice(1, -1)}-expiry-limit}`,
  });
  const { id, key } = await cliKey(['--name', 'expired limit']);
  const valid = await cliKey(['--name', 'valid limit']);
  await expireInDatabase(id);
  const call = apiClient(limited.url, key);
  for (let i = 0; i < 3; i++) assert.equal((await call('GET', '/v1/videos')).status, 401);
  const over = await call('GET', '/v1/videos');
  assert.equal(over.status, 429);
  assert.match(over.body.message, /without a valid API key/);
  // The address is over budget now, so even a valid key waits for the window.
  assert.equal((await apiClient(limited.url, valid.key)('GET', '/v1/videos')).status, 429);
});

test('keys rotate issues a successor with the same name and scopes; the old key works for the overlap, then is refused', async () => {
  const original = await cliKey(['--name', 'rotating client', '--scope', 'videos,ops']);
  const text = await cli(['keys', 'rotate', original.id, '--overlap-hours', '2']);
  const printed = /^key: +(ak_\S+)$/m.exec(text.stdout)?.[1];
  const successorId = /^id: +(\S+)$/m.exec(text.stdout)?.[1];
  assert.ok(printed && successorId, text.stdout);
  assert.match(text.stdout, new RegExp(`old key ${original.id} keeps working until`));
  assert.match(text.stderr, /not shown again/);

  const rows = await pool.query(
    `SELECT id, name, scopes, expires_at, rotated_from, successor_id, key_hash FROM api_keys
      WHERE id = ANY($1::uuid[])`,
    [[original.id, successorId]],
  );
  const old = rows.rows.find((r) => r.id === original.id)!;
  const next = rows.rows.find((r) => r.id === successorId)!;
  assert.equal(next.name, 'rotating client');
  assert.deepEqual(next.scopes, ['videos', 'ops']);
  assert.equal(next.rotated_from, original.id);
  assert.equal(old.successor_id, successorId);
  near(old.expires_at, Date.now() + 2 * HOUR, 'old key after a 2 h overlap');
  near(next.expires_at, Date.now() + 30 * DAY, 'successor');
  assert.ok(!JSON.stringify(rows.rows).includes(printed), 'the successor key is stored');

  // Inside the overlap both keys work.
  const oldCall = apiClient(api.url, original.key);
  const newCall = apiClient(api.url, printed);
  assert.equal((await oldCall('GET', '/v1/videos')).status, 200);
  assert.equal((await newCall('GET', '/v1/videos')).status, 200);

  // A rotated key cannot be rotated again: its successor is the one to rotate.
  const twice = await runCli(environment, ['keys', 'rotate', original.id]);
  assert.equal(twice.code, 1);
  assert.match(twice.stderr, new RegExp(`already rotated; its successor is ${successorId}`));

  // The overlap ends: the old key is refused, the successor keeps working.
  await expireInDatabase(original.id);
  const refused = await oldCall('GET', '/v1/videos');
  assert.equal(refused.status, 401);
  assert.match(refused.body.message, /expired at .*rotated: use its successor/);
  assert.equal((await newCall('GET', '/v1/videos')).status, 200);

  const audit = await auditEntries(pool, { subject: original.id });
  assert.deepEqual(
    audit.map((a) => a.action),
    ['key.created', 'key.rotated', 'key.expired'],
  );
  assert.equal(audit[1]!.actor, 'cli');
  assert.equal(audit[1]!.detail.successor, successorId);

  // The default overlap is API_KEY_ROTATION_OVERLAP_HOURS; JSON output for scripts.
  const again = JSON.parse(
    (await cli(['keys', 'rotate', successorId!, '--json'], { API_KEY_ROTATION_OVERLAP_HOURS: '5' })).stdout,
  ) as CreatedKey;
  near(again.oldKeyExpiresAt!, Date.now() + 5 * HOUR, 'API_KEY_ROTATION_OVERLAP_HOURS');
  assert.deepEqual(again.scopes, ['videos', 'ops']);
  assert.equal((await apiClient(api.url, again.key)('GET', '/v1/videos')).status, 200);
});

test('a key without the videos scope gets a 403 naming it; unknown scopes are refused by the CLI', async () => {
  const ops = await cliKey(['--name', 'ops only', '--scope', 'ops']);
  assert.deepEqual(ops.scopes, ['ops']);
  const forbidden = await apiClient(api.url, ops.key)('GET', '/v1/videos');
  assert.equal(forbidden.status, 403);
  assert.match(forbidden.body.message, /lacks the "videos" scope/);
  const both = await cliKey(['--name', 'both', '--scope', 'videos,ops']);
  assert.equal((await apiClient(api.url, both.key)('GET', '/v1/videos')).status, 200);

  const listed = await cli(['keys', 'list']);
  assert.match(listed.stdout, new RegExp(`${ops.id}.*scopes ops  ops only`));
  assert.match(listed.stdout, new RegExp(`${both.id}.*scopes videos,ops  both`));

  const unknown = await runCli(environment, ['keys', 'create', '--name', 'x', '--scope', 'admin']);
  assert.equal(unknown.code, 1);
  assert.match(unknown.stderr, /unknown scope "admin"/);
  const badTtl = await runCli(environment, ['keys', 'create', '--name', 'x', '--ttl-days', '0']);
  assert.equal(badTtl.code, 1);
  assert.match(badTtl.stderr, /--ttl-days must be a whole number/);
});

test('keys from before the lifecycle migration get 30 days from the migration and the videos scope', async () => {
  const database = await createTestDatabase();
  const old = new pg.Pool({ connectionString: database.url, max: 1 });
  try {
    const migrations = loadMigrations();
    await migrate(
      old,
      undefined,
      migrations.filter((m) => m.version < 4),
    );
    // A key issued a year ago by the previous release.
    await old.query(
      `INSERT INTO api_keys (id, name, key_hash, key_prefix, created_at)
       VALUES ('00000000-0000-4000-8000-000000000001', 'legacy', 'hash', 'ak_legacy', now() - interval '365 days')`,
    );
    assert.deepEqual(
      await migrate(
        old,
        undefined,
        migrations.filter((m) => m.version <= 4),
      ),
      ['4_api_key_lifecycle'],
    );
    const { rows } = await old.query('SELECT expires_at, scopes, rotated_from, successor_id FROM api_keys');
    near(rows[0].expires_at, Date.now() + 30 * DAY, 'legacy key expiry');
    assert.deepEqual(rows[0].scopes, ['videos']);
    assert.equal(rows[0].rotated_from, null);
    assert.equal(rows[0].successor_id, null);
    await assert.rejects(
      old.query("UPDATE api_keys SET scopes = '{admin}'"),
      /check constraint/,
      'an unknown scope was stored',
    );
  } finally {
    await old.end();
    await database.drop();
  }
});
