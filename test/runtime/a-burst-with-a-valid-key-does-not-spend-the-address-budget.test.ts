/**
 * Requests are counted against their address before a key lookup and the count is given back for a
 * valid key (requests-without-a-valid-key-…). A burst of concurrent requests with one valid key,
 * more than the address's budget, must all be served, and leave the budget for bad keys intact.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createTestKey, startTestApi } from '../support/api.js';
import { useTestEnvironment } from '../support/environment.js';

const LIMIT = 5;
const environment = await useTestEnvironment({
  RATE_LIMIT_AUTH_FAILURES_MAX: String(LIMIT),
  RATE_LIMIT_WINDOW_SECONDS: '60',
  // No cache: every burst finds the key uncached, as when an entry has just lapsed.
  API_KEY_CACHE_SECONDS: '0',
});
const api = await startTestApi(environment);
const { key } = await createTestKey(environment);

const get = (authorization: string) =>
  fetch(`${api.url}/v1/videos`, { headers: { authorization } }).then(async (r) => {
    await r.arrayBuffer();
    return r.status;
  });

test('a burst of concurrent requests with a valid key is served and leaves the address budget whole', async () => {
  for (let round = 0; round < 3; round++) {
    const statuses = await Promise.all(Array.from({ length: 10 * LIMIT }, () => get(`Bearer ${key}`)));
    assert.deepEqual(new Set(statuses), new Set([200]), `round ${round}`);
  }
  const bad: number[] = [];
  for (let i = 0; i <= LIMIT; i++) bad.push(await get('Bearer ak_not-a-real-key-at-all'));
  assert.deepEqual(bad, [...Array(LIMIT).fill(401), 429]);
});
