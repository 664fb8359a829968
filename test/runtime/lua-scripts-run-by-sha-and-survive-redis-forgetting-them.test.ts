/**
 * The rate-limit scripts run by SHA (EVALSHA) and not by sending their text each time, and keep
 * working when Redis forgets its scripts (a restart or failover empties its script cache).
 */
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { Redis } from 'ioredis';
import { LuaScript } from '../../runtime/queue/lua-script.js';
import { startPrivateRedis } from '../support/redis-server.js';

const server = await startPrivateRedis();
const redis = new Redis(server.url);
after(async () => {
  redis.disconnect();
  await server.stop();
});

const COUNT = new LuaScript('testCount', 1, `local n = redis.call('INCRBY', KEYS[1], ARGV[1]) return n`);

async function commandCalls(name: string): Promise<number> {
  const info = await redis.info('commandstats');
  return Number(new RegExp(`cmdstat_${name}:calls=(\\d+)`).exec(info)?.[1] ?? 0);
}

test('a script is sent once, then run by its SHA, and re-sent when Redis has forgotten it', async () => {
  assert.equal(await COUNT.run(redis, ['n'], [2]), 2);
  for (let i = 0; i < 5; i++) await COUNT.run(redis, ['n'], [1]);
  assert.equal(await commandCalls('eval'), 1, 'the text went over once');
  assert.ok((await commandCalls('evalsha')) >= 5);

  await redis.script('FLUSH');
  assert.equal(await COUNT.run(redis, ['n'], [10]), 17);
  assert.equal(await commandCalls('eval'), 2);
});

test('a script refuses the wrong number of keys before reaching Redis', () => {
  assert.throws(() => COUNT.run(redis, [], [1]), /testCount takes 1 keys, got 0/);
});
