import assert from 'node:assert/strict';
import { test } from 'node:test';
import { loadConfig, ConfigError } from '../../runtime/config/load.js';
import { createTestKey, startTestApi } from '../support/api.js';
import { testPool, useTestEnvironment } from '../support/environment.js';
import { lockApiKeys } from '../support/database.js';

const LIMIT = 5;
const environment = await useTestEnvironment({
  RATE_LIMIT_AUTH_FAILURES_MAX: String(LIMIT),
  RATE_LIMIT_WINDOW_SECONDS: '60',
});
// Two replicas behind "the load balancer" (this host), sharing Redis and Postgres.
const behindProxy = [
  await startTestApi(environment, { TRUST_PROXY: '127.0.0.1' }),
  await startTestApi(environment, { TRUST_PROXY: '127.0.0.0/8,::1' }),
];
// One replica that trusts no proxy (the default).
const direct = await startTestApi(environment);
const { key } = await createTestKey(environment);
const pool = testPool(environment, 2);

type Auth = 'none' | 'malformed' | 'unknown' | 'valid';
function get(baseUrl: string, auth: Auth, forwardedFor?: string, signal?: AbortSignal) {
  const headers: Record<string, string> = {};
  if (auth === 'malformed') headers.authorization = 'Basic dXNlcjpwYXNz';
  if (auth === 'unknown') headers.authorization = 'Bearer ak_not-a-real-key-at-all';
  if (auth === 'valid') headers.authorization = `Bearer ${key}`;
  if (forwardedFor) headers['x-forwarded-for'] = forwardedFor;
  return fetch(`${baseUrl}/v1/videos`, { headers, ...(signal ? { signal } : {}) });
}

async function spendBudget(client: string) {
  const kinds: Auth[] = ['none', 'malformed', 'unknown', 'unknown', 'none'];
  for (let i = 0; i < LIMIT; i++) {
    const r = await get(behindProxy[i % 2]!.url, kinds[i % kinds.length]!, client);
    assert.equal(r.status, 401, `request ${i + 1} from ${client}`);
  }
}

test('after RATE_LIMIT_AUTH_FAILURES_MAX requests without a valid key, an address gets 429s from every replica', async () => {
  await spendBudget('203.0.113.7');
  for (const api of behindProxy) {
    for (const auth of ['none', 'unknown'] as const) {
      const r = await get(api.url, auth, '203.0.113.7');
      assert.equal(r.status, 429);
      const retryAfter = Number(r.headers.get('retry-after'));
      assert.ok(retryAfter >= 1 && retryAfter <= 60, `Retry-After ${r.headers.get('retry-after')}`);
      const body = (await r.json()) as { message: string; requestId: string };
      assert.match(
        body.message,
        /too many requests without a valid API key from this address \(limit 5 per 60 s\)/,
      );
      assert.equal(body.requestId, r.headers.get('x-request-id'));
    }
  }
  // Another address is unaffected.
  assert.equal((await get(behindProxy[0]!.url, 'unknown', '198.51.100.20')).status, 401);
  const metrics = await (await fetch(`${behindProxy[0]!.metricsUrl}/metrics`)).text();
  assert.match(metrics, /^archibald_http_rate_limited_requests_total\{route="\/v1\/videos"\} 2$/m);
});

test('an address over its budget is refused without a database lookup; others still reach Postgres', async () => {
  await spendBudget('203.0.113.8');
  const release = await lockApiKeys(pool);
  const waiting = new AbortController();
  try {
    // The lookup would wait for the lock: a prompt 429 shows none was made, even for a valid key.
    for (const auth of ['unknown', 'valid'] as const) {
      const r = await get(behindProxy[1]!.url, auth, '203.0.113.8', AbortSignal.timeout(3000));
      assert.equal(r.status, 429, auth);
    }
    // A fresh address with a bad key does reach Postgres: it waits on the lock.
    const fresh = get(behindProxy[0]!.url, 'unknown', '198.51.100.30', waiting.signal);
    const outcome = await Promise.race([
      fresh.then((r) => r.status),
      new Promise((resolve) => setTimeout(() => resolve('waiting on the api_keys lock'), 700)),
    ]);
    assert.equal(outcome, 'waiting on the api_keys lock');
    await release();
    assert.equal((await fresh).status, 401);
  } finally {
    await release().catch(() => {});
  }
});

test('requests with a valid key give their count back: they never spend the address budget', async () => {
  for (let i = 0; i < LIMIT * 3; i++)
    assert.equal((await get(behindProxy[i % 2]!.url, 'valid', '192.0.2.50')).status, 200);
  await spendBudget('192.0.2.50');
  assert.equal((await get(behindProxy[0]!.url, 'unknown', '192.0.2.50')).status, 429);
});

test('only the trusted hop is believed: a client cannot choose its address with X-Forwarded-For', async () => {
  await spendBudget('203.0.113.9');
  // Addresses the client prepends are not the load balancer's: the last untrusted hop is the client.
  const spoofed = await get(behindProxy[0]!.url, 'unknown', '10.9.8.7, 203.0.113.9');
  assert.equal(spoofed.status, 429);
  // A replica that trusts no proxy ignores the header: every request is its peer's (127.0.0.1).
  const statuses: number[] = [];
  for (let i = 0; i <= LIMIT; i++)
    statuses.push((await get(direct.url, 'unknown', `198.18.0.${i + 1}`)).status);
  assert.deepEqual(statuses, [...Array(LIMIT).fill(401), 429]);
});

test('TRUST_PROXY takes addresses and CIDRs only, and says which entry is wrong', () => {
  assert.deepEqual(loadConfig({ TRUST_PROXY: '10.0.0.0/24, 10.0.1.0/24,fd00::/8' }).trustProxy, [
    '10.0.0.0/24',
    '10.0.1.0/24',
    'fd00::/8',
  ]);
  assert.deepEqual(loadConfig({}).trustProxy, []);
  for (const bad of ['true', '10.0.0.0/33', 'alb.internal', '*'])
    assert.throws(
      () => loadConfig({ TRUST_PROXY: bad }),
      (error: unknown) =>
        error instanceof ConfigError && /TRUST_PROXY.*not an IP address or CIDR/.test(error.message),
      bad,
    );
});
