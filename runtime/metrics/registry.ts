/**
 * One prom-client registry per process, built from the metric catalog: default Node metrics,
 * every catalog metric whose sources include this process's role, and archibald_build_info.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { QUEUE_STATES, metricCatalog } from '../contract/metrics.js';
import type { MetricDefinition, MetricKey, MetricSource } from '../contract/metrics.js';

type MetricFor<D extends MetricDefinition> = D['type'] extends 'counter'
  ? Counter<string>
  : D['type'] extends 'gauge'
    ? Gauge<string>
    : Histogram<string>;

export type Metrics = { [K in MetricKey]: MetricFor<(typeof metricCatalog)[K]> };

export interface ProcessMetrics {
  registry: Registry;
  metrics: Metrics;
  role: MetricSource;
}

export interface MetricSources {
  /** BullMQ job counts by state, read at scrape time for archibald_queue_jobs. */
  queueCounts?: () => Promise<Record<string, number>>;
}

function build(
  definition: MetricDefinition,
  registry: Registry | undefined,
  collect?: (this: Gauge) => Promise<void>,
) {
  const common = {
    name: definition.name,
    help: definition.help,
    labelNames: [...definition.labelNames],
    registers: registry ? [registry] : [],
  };
  switch (definition.type) {
    case 'counter':
      return new Counter(common);
    case 'gauge':
      return new Gauge({ ...common, ...(collect ? { collect } : {}) });
    case 'histogram':
      return new Histogram({ ...common, buckets: [...(definition.buckets ?? [])] });
  }
}

/**
 * Metrics of other roles are created too (so shared code can update them) but not registered,
 * so each process exposes exactly its own part of the catalog.
 */
export function createProcessMetrics(
  role: MetricSource,
  version: string,
  sources: MetricSources = {},
): ProcessMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const { queueCounts } = sources;
  const collectQueue = queueCounts
    ? async function (this: Gauge) {
        let counts: Record<string, number>;
        try {
          counts = await queueCounts();
        } catch {
          // Redis unreachable: keep the last values rather than failing the whole scrape.
          return;
        }
        for (const state of QUEUE_STATES) this.set({ state }, counts[state] ?? 0);
      }
    : undefined;
  const metrics = Object.fromEntries(
    Object.entries(metricCatalog).map(([key, definition]) => [
      key,
      build(
        definition,
        definition.sources.includes(role as never) ? registry : undefined,
        key === 'queueJobs' ? collectQueue : undefined,
      ),
    ]),
  ) as unknown as Metrics;
  metrics.buildInfo.set({ version, role }, 1);
  return { registry, metrics, role };
}
