import assert from 'node:assert/strict';
import { test } from 'node:test';
import { auditEntries } from '../../runtime/db/audit.js';
import { apiClient, startTestApi } from '../support/api.js';
import { testPool, useTestEnvironment } from '../support/environment.js';
import { runCli } from '../support/processes.js';

const LIMIT = 6;
const environment = await useTestEnvironment({
  RATE_LIMIT_MAX: String(LIMIT),
  RATE_LIMIT_WINDOW_SECONDS: '60',
});
// Two API instances sharing one Redis and one database, as two replicas would.
const first = await startTestApi(environment);
const second = await startTestApi(environment, { MIGRATE_ON_START: 'true' });
const pool = testPool(environment, 2);

async function cliKey(name: string): Promise<{ id: string; key: string }> {
  const created = await runCli(environment, ['keys', 'create', '--name', name, '--json']);
  assert.equal(created.code, 0, created.stderr);
  return JSON.parse(created.stdout) as { id: string; key: string };
}

test('keys are created, listed and revoked from the CLI, stored hashed, and audited', async () => {
  const { id, key } = await cliKey('ops laptop');
  assert.match(key, /^ak_[A-Za-z0-9_-]{43}$/);
  const stored = await pool.query('SELECT key_hash, key_prefix FROM api_keys WHERE id = $1', [id]);
  assert.notEqual(stored.rows[0].key_hash, key);
  assert.ok(!JSON.stringify(stored.rows).includes(key), 'the key itself is stored');
  assert.ok(key.startsWith(stored.rows[0].key_prefix));

  const listed = await runCli(environment, ['keys', 'list']);
  assert.equal(listed.code, 0, listed.stderr);
  assert.match(listed.stdout, new RegExp(`${id}.*active.*ops laptop`));
  assert.ok(!listed.stdout.includes(key), 'keys list printed a secret');

  const call = apiClient(first.url, key);
  assert.equal((await call('GET', '/v1/videos')).status, 200);

  const revoked = await runCli(environment, ['keys', 'revoke', id]);
  assert.equal(revoked.code, 0, revoked.stderr);
  const after = await call('GET', '/v1/videos');
  assert.equal(after.status, 401);
  assert.match(after.body.message, /unknown or revoked/);
  assert.equal((await apiClient(second.url, key)('GET', '/v1/videos')).status, 401);

  const again = await runCli(environment, ['keys', 'revoke', id]);
  assert.equal(again.code, 1);
  assert.match(again.stderr, /no active key/);
  const bad = await runCli(environment, ['keys', 'revoke', 'not-an-id']);
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /not a key id/);
  const nameless = await runCli(environment, ['keys', 'create']);
  assert.notEqual(nameless.code, 0);
  assert.match(nameless.stderr, /--name/);

  const audit = await auditEntries(pool, { subject: id });
  assert.deepEqual(
    audit.map((a) => [a.action, a.actor]),
    [
      ['key.created', 'cli'],
      ['key.revoked', 'cli'],
    ],
  );
});

test('every /v1 route needs a valid key; /health and /ready do not', async () => {
  const anonymous = apiClient(first.url);
  const id = '00000000-0000-4000-8000-000000000000';
  for (const [method, path] of [
    ['POST', '/v1/videos'],
    ['GET', '/v1/videos'],
    ['GET', `/v1/videos/${id}`],
    ['DELETE', `/v1/videos/${id}`],
    ['GET', `/v1/videos/${id}/events`],
    ['GET', `/v1/videos/${id}/file`],
  ] as const) {
    const r = await anonymous(method, path);
    assert.equal(r.status, 401, `${method} ${path}`);
    assert.match(r.headers.get('www-authenticate') ?? '', /^Bearer/);
  }
  const wrong = await apiClient(first.url, 'ak_not-a-real-key')('GET', '/v1/videos');
  assert.equal(wrong.status, 401);
  const malformed = await anonymous('GET', '/v1/videos', {
    headers: { authorization: 'Basic dXNlcjpwYXNz' },
  });
  assert.equal(malformed.status, 401);
  assert.match(malformed.body.message, /Bearer/);
  for (const path of ['/health', '/ready']) assert.equal((await anonymous('GET', path)).status, 200, path);
});

test('the per-key rate limit is shared by two API instances: 429 with Retry-After, other keys unaffected', async () => {
  const { key } = await cliKey('busy client');
  const { key: otherKey } = await cliKey('quiet client');
  const instances = [apiClient(first.url, key), apiClient(second.url, key)];
  const statuses: number[] = [];
  for (let i = 0; i < LIMIT; i++) {
    const r = await instances[i % 2]!('GET', '/v1/videos');
    statuses.push(r.status);
    assert.equal(r.headers.get('x-ratelimit-limit'), String(LIMIT));
    assert.equal(r.headers.get('x-ratelimit-remaining'), String(LIMIT - i - 1));
  }
  assert.deepEqual(statuses, Array(LIMIT).fill(200));

  for (const call of instances) {
    const limited = await call('GET', '/v1/videos');
    assert.equal(limited.status, 429);
    const retryAfter = Number(limited.headers.get('retry-after'));
    assert.ok(retryAfter > 0 && retryAfter <= 60, `Retry-After ${limited.headers.get('retry-after')}`);
    assert.equal(limited.headers.get('x-ratelimit-remaining'), '0');
    assert.match(limited.body.message, /rate limit of 6 requests per 60 s/);
  }
  assert.equal((await apiClient(first.url, otherKey)('GET', '/v1/videos')).status, 200);

  const metrics = await (await fetch(`${first.metricsUrl}/metrics`)).text();
  assert.match(metrics, /^archibald_http_rate_limited_requests_total\{route="\/v1\/videos"\} 1$/m);
});
