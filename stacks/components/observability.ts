import * as pulumi from '@pulumi/pulumi';
import * as corev1 from '@pulumi/kubernetes/core/v1/index.js';
import { containerResources, pinnedChartRelease } from '../kube.js';
import { logRetention, logStorageGiB, traceRetention, traceStorageGiB } from '../planning/observability.js';
import { PINNED } from '../tiers.js';
import type { Tier } from '../tiers.js';

/** Helm release names; with fullnameOverride they are also the Services' names. */
export const OTEL_GATEWAY_RELEASE = 'otel-gateway';
export const OTEL_LOGS_RELEASE = 'otel-logs';
export const JAEGER_RELEASE = 'jaeger';
export const LOKI_RELEASE = 'loki';
export const OTLP_HTTP_PORT = 4318;
export const OTLP_GRPC_PORT = 4317;
export const JAEGER_QUERY_PORT = 16686;
export const LOKI_PORT = 3100;
/** Where Jaeger's Badger store lives in its pod (the volume traceStorageGiB sizes). */
export const BADGER_DIR = '/badger';
const JAEGER_DATA_CLAIM = 'jaeger-data';

/** The in-cluster URLs the runtime, Grafana and the collectors use, in the given namespace. */
export function observabilityUrls(namespace: string): {
  otlpEndpoint: string;
  jaegerQuery: string;
  jaegerOtlpGrpc: string;
  loki: string;
} {
  const svc = (name: string): string => `${name}.${namespace}.svc`;
  return {
    otlpEndpoint: `http://${svc(OTEL_GATEWAY_RELEASE)}:${OTLP_HTTP_PORT}`,
    jaegerQuery: `http://${svc(JAEGER_RELEASE)}:${JAEGER_QUERY_PORT}`,
    jaegerOtlpGrpc: `${svc(JAEGER_RELEASE)}:${OTLP_GRPC_PORT}`,
    loki: `http://${svc(LOKI_RELEASE)}:${LOKI_PORT}`,
  };
}

/**
 * The chart's defaults that this collector does not use, removed (Helm drops a key set to null):
 * its Jaeger, Zipkin and self-scrape receivers, the debug exporter, and the pipelines it does not run.
 */
const UNUSED_COLLECTOR_DEFAULTS = {
  receivers: { jaeger: null, zipkin: null, prometheus: null },
  exporters: { debug: null },
};
const UNUSED_COLLECTOR_PORTS = {
  'jaeger-compact': { enabled: false },
  'jaeger-thrift': { enabled: false },
  'jaeger-grpc': { enabled: false },
  zipkin: { enabled: false },
};

/** The gateway collector: OTLP in from the runtime, batched out to Jaeger. */
export function otelGatewayValues(tier: Tier, namespace: string): Record<string, unknown> {
  const traces = gatewayTraceExport(observabilityUrls(namespace).jaegerOtlpGrpc);
  return {
    fullnameOverride: OTEL_GATEWAY_RELEASE,
    mode: 'deployment',
    replicaCount: tier.tracing.collectorReplicas,
    image: { repository: PINNED.otelCollectorRepository },
    resources: containerResources(tier.tracing.collector),
    // More than one replica: a node drain keeps one receiving.
    podDisruptionBudget:
      tier.tracing.collectorReplicas > 1 ? { enabled: true, minAvailable: 1 } : { enabled: false },
    ports: UNUSED_COLLECTOR_PORTS,
    config: {
      ...UNUSED_COLLECTOR_DEFAULTS,
      exporters: { ...UNUSED_COLLECTOR_DEFAULTS.exporters, ...traces.exporters },
      service: {
        pipelines: {
          traces: traces.pipeline,
          metrics: null,
          logs: null,
        },
      },
    },
  };
}

/**
 * OTTL for the runtime's pino lines: the JSON body's fields become attributes, and its trace_id
 * and span_id become the record's own, which Loki keeps as structured metadata (Grafana links
 * them to Jaeger). Lines that are not JSON (other pods) pass unchanged.
 */
export const JSON_LOG_STATEMENTS = [
  'merge_maps(log.attributes, ParseJSON(log.body), "upsert") where IsString(log.body) and IsMatch(log.body, "^\\\\s*\\\\{")',
  'set(log.trace_id.string, log.attributes["trace_id"]) where IsString(log.attributes["trace_id"])',
  'set(log.span_id.string, log.attributes["span_id"]) where IsString(log.attributes["span_id"])',
];

/**
 * The log agent, one per node: the chart's logsCollection preset tails /var/log/pods (with the
 * container runtime's format parsed and the pod's identity as resource attributes), and the
 * lines go to Loki's OTLP endpoint. It keeps its read offsets on the node, so a restart neither
 * loses nor repeats lines; that needs root for the host directory, the only root pod here.
 */
export function otelLogsValues(tier: Tier, namespace: string): Record<string, unknown> {
  const urls = observabilityUrls(namespace);
  return {
    fullnameOverride: OTEL_LOGS_RELEASE,
    mode: 'daemonset',
    image: { repository: PINNED.otelCollectorRepository },
    resources: containerResources(tier.logs.agent),
    presets: { logsCollection: { enabled: true, storeCheckpoints: true } },
    // It receives nothing over the network, so it opens no host ports.
    ports: { ...UNUSED_COLLECTOR_PORTS, otlp: { enabled: false }, 'otlp-http': { enabled: false } },
    config: {
      receivers: { ...UNUSED_COLLECTOR_DEFAULTS.receivers, otlp: null },
      processors: {
        'transform/json-logs': { error_mode: 'ignore', log_statements: JSON_LOG_STATEMENTS },
      },
      exporters: {
        ...UNUSED_COLLECTOR_DEFAULTS.exporters,
        // Loki 3 takes OTLP natively at /otlp (the exporter appends /v1/logs).
        'otlphttp/loki': { endpoint: `${urls.loki}/otlp` },
      },
      service: {
        pipelines: {
          logs: {
            receivers: ['filelog'],
            processors: ['memory_limiter', 'transform/json-logs', 'batch'],
            exporters: ['otlphttp/loki'],
          },
          traces: null,
          metrics: null,
        },
      },
    },
  };
}

/**
 * Jaeger v2's own configuration: OTLP in, Badger on BADGER_DIR with the tier's span TTL, the query
 * UI and API, and the health endpoint the chart's probes and compose's health check ask.
 */
export function jaegerConfig(tier: Tier): Record<string, unknown> {
  return {
    service: {
      extensions: ['jaeger_storage', 'jaeger_query', 'healthcheckv2'],
      // Its own metrics (spans received, dropped, stored) for Prometheus: the default binds localhost.
      telemetry: {
        metrics: { readers: [{ pull: { exporter: { prometheus: { host: '0.0.0.0', port: 8888 } } } }] },
      },
      pipelines: {
        traces: { receivers: ['otlp'], processors: ['batch'], exporters: ['jaeger_storage_exporter'] },
      },
    },
    extensions: {
      // The chart's probes ask for /status on 13133.
      healthcheckv2: { use_v2: true, http: { endpoint: '0.0.0.0:13133' } },
      jaeger_query: { storage: { traces: 'primary_store' } },
      jaeger_storage: {
        backends: {
          primary_store: {
            badger: {
              directories: { keys: `${BADGER_DIR}/keys`, values: `${BADGER_DIR}/values` },
              ephemeral: false,
              ttl: { spans: traceRetention(tier) },
            },
          },
        },
      },
    },
    receivers: {
      otlp: {
        protocols: {
          grpc: { endpoint: `0.0.0.0:${OTLP_GRPC_PORT}` },
          http: { endpoint: `0.0.0.0:${OTLP_HTTP_PORT}` },
        },
      },
    },
    processors: { batch: {} },
    exporters: { jaeger_storage_exporter: { trace_storage: 'primary_store' } },
  };
}

/** The gateway's trace pipeline: batched OTLP out to Jaeger (gRPC, in-cluster or compose network). */
export function gatewayTraceExport(jaegerOtlpGrpc: string): {
  exporters: Record<string, unknown>;
  pipeline: { receivers: string[]; processors: string[]; exporters: string[] };
} {
  return {
    exporters: { 'otlp/jaeger': { endpoint: jaegerOtlpGrpc, tls: { insecure: true } } },
    pipeline: { receivers: ['otlp'], processors: ['memory_limiter', 'batch'], exporters: ['otlp/jaeger'] },
  };
}

/**
 * Jaeger v2 (one binary: OTLP in, query UI and API out) on Badger in its own volume, spans
 * dropped after the tier's retention. One replica: Badger is a local store, and the volume is
 * ReadWriteOnce (the chart's Recreate strategy frees it before the new pod starts).
 */
export function jaegerValues(tier: Tier): Record<string, unknown> {
  return {
    fullnameOverride: JAEGER_RELEASE,
    jaeger: {
      replicas: 1,
      // Declared in the chart's values.yaml only as a comment; its Deployment template reads it.
      resources: containerResources(tier.tracing.jaeger),
      extraVolumes: [{ name: 'data', persistentVolumeClaim: { claimName: JAEGER_DATA_CLAIM } }],
      extraVolumeMounts: [{ name: 'data', mountPath: BADGER_DIR }],
    },
    userconfig: jaegerConfig(tier),
  };
}

/**
 * Loki 3 as one binary on a filesystem volume, the tier's retention enforced by the compactor.
 * The chart's values are not in ../shared, so only the few keys of its documented monolithic
 * install are set; caches, the gateway, the canary and the chart's self-test are off.
 */
export function lokiValues(tier: Tier): Record<string, unknown> {
  return {
    fullnameOverride: LOKI_RELEASE,
    deploymentMode: 'SingleBinary',
    loki: {
      auth_enabled: false,
      commonConfig: { replication_factor: 1 },
      storage: { type: 'filesystem' },
      schemaConfig: {
        configs: [
          {
            from: '2026-01-01',
            store: 'tsdb',
            object_store: 'filesystem',
            schema: 'v13',
            index: { prefix: 'loki_index_', period: '24h' },
          },
        ],
      },
      limits_config: { retention_period: logRetention(tier), allow_structured_metadata: true },
      compactor: { retention_enabled: true, delete_request_store: 'filesystem' },
    },
    singleBinary: {
      replicas: 1,
      resources: containerResources(tier.logs.loki),
      persistence: { size: `${logStorageGiB(tier)}Gi` },
    },
    read: { replicas: 0 },
    write: { replicas: 0 },
    backend: { replicas: 0 },
    gateway: { enabled: false },
    chunksCache: { enabled: false },
    resultsCache: { enabled: false },
    lokiCanary: { enabled: false },
    test: { enabled: false },
  };
}

export interface ObservabilityArgs {
  readonly tier: Tier;
  /** The monitoring namespace: Grafana, the collectors, Jaeger and Loki live together. */
  readonly namespace: pulumi.Input<string>;
  /** Its name as a plain string, for the in-cluster URLs. */
  readonly namespaceName: string;
}

/**
 * Traces and logs for the platform: the OTLP gateway collector the runtime exports to, Jaeger
 * behind it, a log agent per node and Loki. Grafana's datasources for Jaeger and Loki are
 * provisioned by the Monitoring component (dashboards/datasources.ts).
 */
export class Observability extends pulumi.ComponentResource {
  readonly otlpEndpoint: string;
  readonly jaegerQueryUrl: string;
  readonly lokiUrl: string;

  constructor(name: string, args: ObservabilityArgs, opts?: pulumi.ComponentResourceOptions) {
    super('archibald:observability:Observability', name, {}, opts);
    const { tier, namespace } = args;
    const urls = observabilityUrls(args.namespaceName);
    const child = { parent: this };

    const jaegerData = new corev1.PersistentVolumeClaim(
      `${name}-jaeger-data`,
      {
        metadata: { name: JAEGER_DATA_CLAIM, namespace },
        spec: {
          accessModes: ['ReadWriteOnce'],
          resources: { requests: { storage: `${traceStorageGiB(tier)}Gi` } },
        },
      },
      child,
    );
    const jaeger = pinnedChartRelease(
      `${name}-jaeger`,
      'jaeger',
      { name: JAEGER_RELEASE, namespace, values: jaegerValues(tier), atomic: true, timeout: 600 },
      { parent: this, dependsOn: [jaegerData] },
    );
    pinnedChartRelease(
      `${name}-otel-gateway`,
      'openTelemetryCollector',
      {
        name: OTEL_GATEWAY_RELEASE,
        namespace,
        values: otelGatewayValues(tier, args.namespaceName),
        atomic: true,
        timeout: 600,
      },
      { parent: this, dependsOn: [jaeger] },
    );
    const loki = pinnedChartRelease(
      `${name}-loki`,
      'loki',
      { name: LOKI_RELEASE, namespace, values: lokiValues(tier), atomic: true, timeout: 600 },
      child,
    );
    pinnedChartRelease(
      `${name}-otel-logs`,
      'openTelemetryCollector',
      {
        name: OTEL_LOGS_RELEASE,
        namespace,
        values: otelLogsValues(tier, args.namespaceName),
        atomic: true,
        timeout: 600,
      },
      { parent: this, dependsOn: [loki] },
    );

    this.otlpEndpoint = urls.otlpEndpoint;
    this.jaegerQueryUrl = urls.jaegerQuery;
    this.lokiUrl = urls.loki;
    this.registerOutputs({
      otlpEndpoint: this.otlpEndpoint,
      jaegerQueryUrl: this.jaegerQueryUrl,
      lokiUrl: this.lokiUrl,
    });
  }
}
