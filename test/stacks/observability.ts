import assert from 'node:assert/strict';
import {
  JAEGER_RELEASE,
  LOKI_RELEASE,
  OTEL_GATEWAY_RELEASE,
  OTEL_LOGS_RELEASE,
  observabilityUrls,
} from '../../stacks/components/observability.js';
import { MONITORING_NAMESPACE } from '../../stacks/components/monitoring.js';
import {
  logRetention,
  logStorageGiB,
  traceRetention,
  traceStorageGiB,
} from '../../stacks/planning/observability.js';
import type { Tier } from '../../stacks/tiers.js';
import { DATASOURCE_UIDS, TRACE_ID_LABEL } from '../../dashboards/datasources.js';
import { at, kubernetesObject, ofType } from './harness.js';
import type { Evaluation, RegisteredResource } from './harness.js';
import { container, under } from './inventory.js';

function release(e: Evaluation, name: string): RegisteredResource {
  const found = ofType(e, 'kubernetes:helm.sh/v3:Release').filter((r) => r.inputs.name === name);
  assert.equal(found.length, 1, `one ${name} release`);
  return found[0] as RegisteredResource;
}

/** The four releases of the Observability component, in the monitoring namespace. */
export function assertTraceAndLogReleases(e: Evaluation, tier: Tier): void {
  const releases = under(e, 'archibald:observability:Observability', 'kubernetes:helm.sh/v3:Release');
  assert.deepEqual(
    releases.map((r) => r.inputs.name).sort(),
    [JAEGER_RELEASE, LOKI_RELEASE, OTEL_GATEWAY_RELEASE, OTEL_LOGS_RELEASE].sort(),
  );
  for (const r of releases)
    assert.equal(r.inputs.namespace, MONITORING_NAMESPACE, `${String(r.inputs.name)}`);

  const gateway = release(e, OTEL_GATEWAY_RELEASE);
  assert.equal(at(gateway.inputs, 'values.mode'), 'deployment');
  assert.equal(at(gateway.inputs, 'values.replicaCount'), tier.tracing.collectorReplicas);
  assert.deepEqual(at(gateway.inputs, 'values.resources.limits'), tier.tracing.collector.limits);
  assert.equal(
    at(gateway.inputs, 'values.config.exporters.otlp/jaeger.endpoint'),
    observabilityUrls(MONITORING_NAMESPACE).jaegerOtlpGrpc,
    'the gateway sends traces to Jaeger',
  );
  assert.deepEqual(at(gateway.inputs, 'values.config.service.pipelines.traces.exporters'), ['otlp/jaeger']);

  const logs = release(e, OTEL_LOGS_RELEASE);
  assert.equal(at(logs.inputs, 'values.mode'), 'daemonset', 'one log agent per node');
  assert.equal(at(logs.inputs, 'values.presets.logsCollection.enabled'), true, 'it tails the pods’ logs');
  assert.equal(
    at(logs.inputs, 'values.config.exporters.otlphttp/loki.endpoint'),
    `${observabilityUrls(MONITORING_NAMESPACE).loki}/otlp`,
  );
  assert.deepEqual(at(logs.inputs, 'values.config.service.pipelines.logs.exporters'), ['otlphttp/loki']);

  const jaeger = release(e, JAEGER_RELEASE);
  assert.equal(
    at(jaeger.inputs, 'values.userconfig.extensions.jaeger_storage.backends.primary_store.badger.ttl.spans'),
    traceRetention(tier),
  );
  assert.deepEqual(at(jaeger.inputs, 'values.jaeger.resources.limits'), tier.tracing.jaeger.limits);
  const claim = kubernetesObject(e, 'PersistentVolumeClaim', 'jaeger-data');
  assert.equal(at(claim.inputs, 'spec.resources.requests.storage'), `${traceStorageGiB(tier)}Gi`);
  assert.equal(at(claim.inputs, 'metadata.namespace'), MONITORING_NAMESPACE);

  const loki = release(e, LOKI_RELEASE);
  assert.equal(at(loki.inputs, 'values.singleBinary.persistence.size'), `${logStorageGiB(tier)}Gi`);
  assert.equal(at(loki.inputs, 'values.loki.limits_config.retention_period'), logRetention(tier));
  assert.deepEqual(at(loki.inputs, 'values.singleBinary.resources.limits'), tier.logs.loki.limits);
}

/** The runtime's OTEL_* variables point at the gateway with the tier's sampler. */
export function assertRuntimeExportsTraces(e: Evaluation, expected: { sampler: string; arg?: string }): void {
  const data = at(kubernetesObject(e, 'ConfigMap', 'archibald-config').inputs, 'data') as Record<
    string,
    string
  >;
  assert.equal(data.OTEL_EXPORTER_OTLP_ENDPOINT, observabilityUrls(MONITORING_NAMESPACE).otlpEndpoint);
  assert.equal(data.OTEL_EXPORTER_OTLP_PROTOCOL, 'http/protobuf');
  assert.equal(data.OTEL_TRACES_SAMPLER, expected.sampler);
  assert.equal(data.OTEL_TRACES_SAMPLER_ARG, expected.arg);
  assert.match(data.OTEL_RESOURCE_ATTRIBUTES ?? '', /deployment\.environment\.name=/);
  for (const role of ['api', 'worker']) {
    const env = container(kubernetesObject(e, 'Deployment', `archibald-${role}`)).env as {
      name: string;
      value: string;
    }[];
    assert.deepEqual(
      env.filter((v) => v.name === 'OTEL_SERVICE_NAME').map((v) => v.value),
      [`archibald-${role}`],
      `${role} reports its spans under its own service name`,
    );
  }
  const egress = kubernetesObject(e, 'NetworkPolicy', 'runtime-to-otel-collector');
  assert.deepEqual(at(egress.inputs, 'spec.egress.0.ports'), [{ protocol: 'TCP', port: 4318 }]);
  assert.deepEqual(
    at(egress.inputs, 'spec.egress.0.to.0.namespaceSelector.matchLabels'),
    { 'kubernetes.io/metadata.name': MONITORING_NAMESPACE },
    'the runtime may reach the collector in the monitoring namespace',
  );
}

/** Grafana gets Jaeger and Loki, and Prometheus' exemplars link to Jaeger. */
export function assertGrafanaLinksTraces(e: Evaluation): void {
  const kps = ofType(e, 'kubernetes:helm.sh/v3:Release').find(
    (r) => r.inputs.chart === 'kube-prometheus-stack',
  );
  assert.ok(kps);
  const sources = at(kps.inputs, 'values.grafana.additionalDataSources') as { uid: string; url: string }[];
  assert.deepEqual(
    sources.map((s) => [s.uid, s.url]),
    [
      [DATASOURCE_UIDS.jaeger, observabilityUrls(MONITORING_NAMESPACE).jaegerQuery],
      [DATASOURCE_UIDS.loki, observabilityUrls(MONITORING_NAMESPACE).loki],
    ],
  );
  assert.deepEqual(at(kps.inputs, 'values.prometheus.prometheusSpec.enableFeatures'), ['exemplar-storage']);
  assert.deepEqual(at(kps.inputs, 'values.grafana.sidecar.datasources.exemplarTraceIdDestinations'), {
    datasourceUid: DATASOURCE_UIDS.jaeger,
    traceIdLabelName: TRACE_ID_LABEL,
    urlDisplayLabel: 'View trace',
  });
}
