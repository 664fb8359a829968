/**
 * One prom-client registry per process, built from the metric catalog: default Node metrics,
 * every catalog metric whose sources include this process's role, and archibald_build_info.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { RegistryContentType } from 'prom-client';
import { QUEUE_STATES, metricCatalog } from '../contract/metrics.js';
import type { MetricDefinition, MetricKey, MetricSource } from '../contract/metrics.js';
import { traceExemplar } from '../telemetry/spans.js';

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
  /**
   * Tracing is on: the catalog's latency histograms record the active trace id as an exemplar, and
   * /metrics speaks OpenMetrics (the only exposition format with exemplars; Prometheus negotiates
   * it). Off, the page stays the classic text format and observing costs what it did.
   */
  exemplars?: boolean;
}

/**
 * Keeps the histogram's usual observe(value) / observe(labels, value) and adds the active span's
 * trace id as the exemplar (prom-client's exemplar mode takes one object argument instead).
 */
function withTraceExemplars(histogram: Histogram<string>): Histogram<string> {
  const observe = histogram.observe.bind(histogram) as (data: {
    labels: Record<string, string | number>;
    value: number;
    exemplarLabels: Record<string, string>;
  }) => void;
  histogram.observe = ((labelsOrValue: Record<string, string | number> | number, value?: number) =>
    observe({
      labels: typeof labelsOrValue === 'number' ? {} : labelsOrValue,
      value: typeof labelsOrValue === 'number' ? labelsOrValue : (value ?? 0),
      exemplarLabels: traceExemplar(),
    })) as Histogram<string>['observe'];
  return histogram;
}

function build(
  definition: MetricDefinition,
  registry: Registry | undefined,
  collect?: (this: Gauge) => Promise<void>,
  exemplars = false,
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
    case 'histogram': {
      if (!(exemplars && definition.exemplars))
        return new Histogram({ ...common, buckets: [...(definition.buckets ?? [])] });
      const histogram = new Histogram({
        ...common,
        buckets: [...(definition.buckets ?? [])],
        enableExemplars: true,
      });
      return withTraceExemplars(histogram);
    }
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
  // prom-client types a registry by its content type; the servers only pass registry.contentType on.
  if (sources.exemplars)
    (registry as unknown as Registry<RegistryContentType>).setContentType(Registry.OPENMETRICS_CONTENT_TYPE);
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
        sources.exemplars,
      ),
    ]),
  ) as unknown as Metrics;
  metrics.buildInfo.set({ version, role }, 1);
  return { registry, metrics, role };
}
