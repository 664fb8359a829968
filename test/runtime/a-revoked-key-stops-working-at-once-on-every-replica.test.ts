/**
 * Each API replica keeps the keys it has found valid for a few seconds (no Postgres lookup per
 * request). Revoking or rotating a key with the CLI must still apply at once on every replica: the
 * very next request on either one is refused.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { apiClient, startTestApi } from '../support/api.js';
import { testPool, useTestEnvironment } from '../support/environment.js';
import { runCli } from '../support/processes.js';
import { lockApiKeys } from '../support/database.js';

const environment = await useTestEnvironment({
  RATE_LIMIT_MAX: '1000',
  RATE_LIMIT_WINDOW_SECONDS: '60',
  // Longer than the CLI takes to start here, so that only the announcement can explain a refusal.
  API_KEY_CACHE_SECONDS: '120',
});
const replicas = [await startTestApi(environment), await startTestApi(environment)];
const pool = testPool(environment, 2);

async function cli(args: string[]) {
  const r = await runCli(environment, args);
  assert.equal(r.code, 0, `archibald ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

async function newKey(name: string): Promise<{ id: string; key: string }> {
  return JSON.parse(await cli(['keys', 'create', '--name', name, '--json'])) as { id: string; key: string };
}

async function statusOn(url: string, key: string): Promise<{ status: number; message?: string }> {
  const r = await fetch(`${url}/v1/videos`, {
    headers: { authorization: `Bearer ${key}` },
    signal: AbortSignal.timeout(5000),
  });
  const body = (await r.json()) as { message?: string };
  return { status: r.status, ...(body.message ? { message: body.message } : {}) };
}

test('a key found valid is served from each replica without a lookup while api_keys is locked', async () => {
  const { key } = await newKey('cached client');
  for (const api of replicas) assert.equal((await statusOn(api.url, key)).status, 200);
  const release = await lockApiKeys(pool);
  try {
    // A lookup would wait on the lock (and time out): a 200 shows the key came from the cache.
    for (const api of replicas) {
      const r = await statusOn(api.url, key);
      assert.equal(r.status, 200);
    }
    // It is still authenticated, counted and rate-limited: the headers come from Redis.
    const r = await apiClient(replicas[0]!.url, key)('GET', '/v1/videos');
    assert.equal(r.headers.get('x-ratelimit-limit'), '1000');
    assert.ok(Number(r.headers.get('x-ratelimit-remaining')) < 1000);
  } finally {
    await release();
  }
});

test('keys revoke applies at once on every replica, though both had the key cached', async () => {
  const { id, key } = await newKey('revoked client');
  const { key: other } = await newKey('other client');
  for (const api of replicas) {
    assert.equal((await statusOn(api.url, key)).status, 200);
    assert.equal((await statusOn(api.url, other)).status, 200);
  }
  await cli(['keys', 'revoke', id]);
  for (const api of replicas) {
    const refused = await statusOn(api.url, key);
    assert.equal(refused.status, 401);
    assert.match(refused.message ?? '', /unknown or revoked/);
    // Other keys keep working.
    assert.equal((await statusOn(api.url, other)).status, 200);
  }
});

test('keys rotate with no overlap refuses the old key at once on every replica; the successor works', async () => {
  const { id, key } = await newKey('rotating client');
  for (const api of replicas) assert.equal((await statusOn(api.url, key)).status, 200);
  const rotated = JSON.parse(await cli(['keys', 'rotate', id, '--overlap-hours', '0', '--json'])) as {
    key: string;
  };
  for (const api of replicas) {
    const refused = await statusOn(api.url, key);
    assert.equal(refused.status, 401);
    assert.match(refused.message ?? '', /expired at .*rotated: use its successor/);
    assert.equal((await statusOn(api.url, rotated.key)).status, 200);
  }
});
