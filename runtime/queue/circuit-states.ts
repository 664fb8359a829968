/**
 * Circuit states live in each worker process (its circuit breakers); the API reports them. Each
 * worker publishes its non-closed circuits to `<prefix>:circuits:<worker>` (a hash of
 * "<provider>:<model>" to state) that expires unless refreshed, and registers itself in
 * `<prefix>:circuit-workers` (a sorted set scored by that expiry), so a reader finds the live
 * workers without a SCAN (which a Redis Cluster would need per node).
 */
import type { CircuitState } from '../providers/circuit-breaker.js';
import type { RedisClient } from './connection.js';

const workersKey = (prefix: string) => `${prefix}:circuit-workers`;
const workerKey = (prefix: string, worker: string) => `${prefix}:circuits:${worker}`;

/** Open beats half-open beats closed: a model one worker skips is reported as skipped. */
const SEVERITY: Record<CircuitState, number> = { closed: 0, half_open: 1, open: 2 };

/** Replaces this worker's published states (`provider:model` → state) for `ttlSeconds`. */
export async function publishCircuitStates(
  redis: RedisClient,
  prefix: string,
  worker: string,
  states: Record<string, CircuitState>,
  ttlSeconds: number,
): Promise<void> {
  const key = workerKey(prefix, worker);
  const entries = Object.entries(states).filter(([, state]) => state !== 'closed');
  const multi = redis.multi().del(key);
  if (entries.length > 0) multi.hset(key, Object.fromEntries(entries)).expire(key, ttlSeconds);
  multi.zadd(workersKey(prefix), Date.now() + ttlSeconds * 1000, worker);
  await multi.exec();
}

/** The worst state of each `provider:model` across the live workers (absent: closed everywhere). */
export async function readCircuitStates(
  redis: RedisClient,
  prefix: string,
): Promise<Record<string, CircuitState>> {
  const now = Date.now();
  await redis.zremrangebyscore(workersKey(prefix), '-inf', now);
  const workers = await redis.zrangebyscore(workersKey(prefix), now, '+inf');
  const merged: Record<string, CircuitState> = {};
  for (const worker of workers) {
    const states = (await redis.hgetall(workerKey(prefix, worker))) as Record<string, CircuitState>;
    for (const [model, state] of Object.entries(states)) {
      if (!(state in SEVERITY)) continue;
      if (!merged[model] || SEVERITY[state] > SEVERITY[merged[model]]) merged[model] = state;
    }
  }
  return merged;
}

/** Withdraws a stopping worker's states, so its circuits stop counting at once. */
export async function withdrawCircuitStates(
  redis: RedisClient,
  prefix: string,
  worker: string,
): Promise<void> {
  await redis.multi().del(workerKey(prefix, worker)).zrem(workersKey(prefix), worker).exec();
}
