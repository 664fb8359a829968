/**
 * Circuit states live in each worker process; workers publish them to Redis (a key prefix of
 * this test's own) and the API merges them: the worst state per model across live workers, a
 * worker that stops publishing lapses, and a stopping worker withdraws its states at once.
 */
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import {
  publishCircuitStates,
  readCircuitStates,
  withdrawCircuitStates,
} from '../../runtime/queue/circuit-states.js';
import { closeRedis, createRedis } from '../../runtime/queue/connection.js';
import { deleteKeys, TEST_REDIS_URL, testKeyPrefix } from '../support/redis.js';

const prefix = testKeyPrefix();
const redis = createRedis({ url: TEST_REDIS_URL, tls: false }, { name: 'test', maxRetriesPerRequest: 1 });
after(async () => {
  await closeRedis(redis);
  await deleteKeys(prefix);
});

test('the worst state per model across live workers is reported; closed circuits are not published', async () => {
  await publishCircuitStates(
    redis,
    prefix,
    'a',
    { 'anthropic:cheap': 'half_open', 'anthropic:premium': 'closed' },
    30,
  );
  await publishCircuitStates(redis, prefix, 'b', { 'anthropic:cheap': 'open', 'fal:flux': 'half_open' }, 30);
  assert.deepEqual(await readCircuitStates(redis, prefix), {
    'anthropic:cheap': 'open',
    'fal:flux': 'half_open',
  });
  // b's circuits closed again: its next publication replaces the old states.
  await publishCircuitStates(redis, prefix, 'b', {}, 30);
  assert.deepEqual(await readCircuitStates(redis, prefix), { 'anthropic:cheap': 'half_open' });
});

test('a worker that stops publishing lapses, and a stopping worker withdraws its states at once', async () => {
  await publishCircuitStates(redis, prefix, 'a', {}, 30);
  await publishCircuitStates(redis, prefix, 'gone', { 'anthropic:cheap': 'open' }, 1);
  await publishCircuitStates(redis, prefix, 'stopping', { 'anthropic:premium': 'open' }, 30);
  assert.deepEqual(await readCircuitStates(redis, prefix), {
    'anthropic:cheap': 'open',
    'anthropic:premium': 'open',
  });
  await withdrawCircuitStates(redis, prefix, 'stopping');
  await new Promise((resolve) => setTimeout(resolve, 1100));
  assert.deepEqual(await readCircuitStates(redis, prefix), {});
  // Only the live workers stay registered (b from the first test still is).
  assert.deepEqual((await redis.zrangebyscore(`${prefix}:circuit-workers`, '-inf', '+inf')).sort(), [
    'a',
    'b',
  ]);
});
