/**
 * A worker's provider services (in a test environment of their own: database, key prefix): the
 * circuits its script models trip are published to its metrics and to Redis, where the API reads
 * them; a circuit that closes again reads 0 and disappears; a stopping worker withdraws its states.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import pino from 'pino';
import { migrate } from '../../runtime/db/migrate.js';
import { createDatabase } from '../../runtime/db/pool.js';
import { createProcessMetrics } from '../../runtime/metrics/registry.js';
import { readCircuitStates } from '../../runtime/queue/circuit-states.js';
import { closeRedis, createRedis } from '../../runtime/queue/connection.js';
import { CIRCUIT_PUBLISH_SECONDS, startProviderServices } from '../../runtime/worker/provider-services.js';
import { useTestEnvironment } from '../support/environment.js';

const environment = await useTestEnvironment();
const config = environment.config();
const db = createDatabase(config.database);
environment.defer(() => db.close());
await migrate(db.primary);
const redis = createRedis(config.redis, { name: 'test', maxRetriesPerRequest: 1 });
environment.defer(() => closeRedis(redis));
const { registry, metrics } = createProcessMetrics('worker', 'test');

async function until<T>(what: string, read: () => Promise<T>, ok: (value: T) => boolean): Promise<T> {
  const deadline = Date.now() + (CIRCUIT_PUBLISH_SECONDS + 3) * 1000;
  for (;;) {
    const value = await read();
    if (ok(value)) return value;
    assert.ok(Date.now() < deadline, `${what}: still ${JSON.stringify(value)}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

const gauge = async () => (await registry.getSingleMetricAsString('archibald_provider_circuit_open')).trim();

test("a model's open circuit reaches the worker's metrics and Redis, and its closing does too", async () => {
  const services = startProviderServices(config, db, metrics, pino({ level: 'silent' }));
  let stopped = false;
  environment.defer(() => (stopped ? undefined : services.stop()));
  for (let i = 0; i < 3; i++) services.scriptCircuits.failed('claude-haiku-5-5');

  const states = () => readCircuitStates(redis, config.queue.prefix);
  await until('published open', states, (s) => s['anthropic:claude-haiku-5-5'] === 'open');
  assert.match(
    await gauge(),
    /^archibald_provider_circuit_open\{provider="anthropic",model="claude-haiku-5-5"\} 1$/m,
  );

  services.scriptCircuits.succeeded('claude-haiku-5-5');
  await until('published closed', states, (s) => Object.keys(s).length === 0);
  assert.match(
    await gauge(),
    /^archibald_provider_circuit_open\{provider="anthropic",model="claude-haiku-5-5"\} 0$/m,
  );

  services.scriptCircuits.failed('claude-sonnet-5-5');
  services.scriptCircuits.failed('claude-sonnet-5-5');
  services.scriptCircuits.failed('claude-sonnet-5-5');
  await until('published open', states, (s) => s['anthropic:claude-sonnet-5-5'] === 'open');
  stopped = true;
  await services.stop();
  assert.deepEqual(await states(), {}, 'a stopped worker withdrew its states');
});
