/**
 * What the worker gives its paid providers beside the stages: events that feed the metrics and
 * the Postgres records, the script response cache (Redis), pattern memory (Postgres), and the
 * process's circuit breaker, whose states it publishes to Redis for the API. It also runs the
 * retention pass that bounds pattern memory and the records.
 */
import { hostname } from 'node:os';
import type { Logger } from 'pino';
import type { Config } from '../config/load.js';
import { PatternMemory, policyFrom } from '../db/pattern-memory.js';
import type { Database } from '../db/pool.js';
import type { Metrics } from '../metrics/registry.js';
import type { ProviderEvents, ScriptCache, ScriptDelegation } from '../pipeline/stages.js';
import { CircuitBreaker, type CircuitState } from '../providers/circuit-breaker.js';
import { publishCircuitStates, withdrawCircuitStates } from '../queue/circuit-states.js';
import { closeRedis, createRedis } from '../queue/connection.js';
import { RedisScriptCache } from '../queue/script-cache.js';
import { allEvents, postgresProviderRecords } from './delegation-records.js';
import { providerMetrics } from './pipeline-stages.js';
import { RETENTION_INTERVAL_SECONDS, startRetention } from './retention.js';

/** How often a worker publishes its circuit states; they expire after three missed publications. */
export const CIRCUIT_PUBLISH_SECONDS = 5;

export interface ProviderServices {
  events: ProviderEvents;
  cache?: ScriptCache;
  delegation: ScriptDelegation;
  /** The script models' circuits (keyed by model). */
  scriptCircuits: CircuitBreaker;
  stop(): Promise<void>;
}

/**
 * Sets archibald_provider_circuit_open for the circuits a breaker knows, and back to 0 for those
 * it no longer does (a success forgets a circuit); `reported` carries the keys between calls.
 */
function reportCircuits(
  metrics: Metrics,
  states: ReadonlyArray<{ provider: string; model: string; state: CircuitState }>,
  reported: Set<string>,
): void {
  const now = new Set<string>();
  for (const { provider, model, state } of states) {
    now.add(JSON.stringify([provider, model]));
    metrics.providerCircuitOpen.set({ provider, model }, state === 'open' ? 1 : 0);
  }
  for (const key of reported) {
    if (now.has(key)) continue;
    const [provider, model] = JSON.parse(key) as [string, string];
    metrics.providerCircuitOpen.set({ provider, model }, 0);
  }
  reported.clear();
  for (const key of now) reported.add(key);
}

export function startProviderServices(
  config: Config,
  db: Database,
  metrics: Metrics,
  log: Logger,
): ProviderServices {
  // Fails fast (commandTimeout), unlike the queue's connection: a cache lookup during a Redis
  // outage must give up and write the script, not wait for Redis to come back.
  const redis = createRedis(config.redis, { name: 'worker-providers', maxRetriesPerRequest: 1, log });
  const prefix = config.queue.prefix;
  // One breaker per provider, keyed by model; a provider added here is published with the rest.
  const circuits: Record<string, CircuitBreaker> = { anthropic: new CircuitBreaker() };
  const worker = `${hostname()}-${process.pid}`;
  let publishing: Promise<unknown> = Promise.resolve();
  const reported = new Set<string>();
  const publish = () => {
    const states = Object.entries(circuits).flatMap(([provider, breaker]) =>
      Object.entries(breaker.snapshot()).map(([model, state]) => ({ provider, model, state })),
    );
    reportCircuits(metrics, states, reported);
    publishing = publishCircuitStates(
      redis,
      prefix,
      worker,
      Object.fromEntries(states.map((c) => [`${c.provider}:${c.model}`, c.state])),
      CIRCUIT_PUBLISH_SECONDS * 3,
    ).catch((error: unknown) => log.warn({ err: error }, 'could not publish circuit states'));
  };
  const publisher = setInterval(publish, CIRCUIT_PUBLISH_SECONDS * 1000);
  publisher.unref();
  const retention = startRetention({
    db,
    log,
    patternRetentionHours: config.delegation.patternRetentionHours,
    callRetentionHours: config.delegation.callRetentionHours,
    intervalSeconds: RETENTION_INTERVAL_SECONDS,
  });
  const ttl = config.scriptModels.cacheTtlSeconds;
  return {
    events: allEvents(providerMetrics(metrics), postgresProviderRecords(db.primary, log)),
    ...(ttl > 0 ? { cache: new RedisScriptCache(redis, prefix, ttl) } : {}),
    delegation: new PatternMemory(db.primary, policyFrom(config.delegation)),
    scriptCircuits: circuits.anthropic!,
    async stop() {
      clearInterval(publisher);
      await retention.stop();
      // A publication in flight would register this worker again after the withdrawal.
      await publishing;
      await withdrawCircuitStates(redis, prefix, worker).catch((error: unknown) =>
        log.warn({ err: error }, 'could not withdraw circuit states; they expire on their own'),
      );
      await closeRedis(redis);
    },
  };
}
