import assert from 'node:assert/strict';
import { test } from 'node:test';
import { probeResource } from './harness.js';
import type { RegisteredResource } from './harness.js';
import {
  coalesceValues,
  chartsSkip,
  crdsSkip,
  loadCrdValidators,
  unknownValuePaths,
  validateCustomResource,
  validateKubernetesObject,
  valuesSchemaErrors,
} from './schemas.js';

const resource = (type: string, inputs: Record<string, unknown>) => probeResource(type, inputs);

test('a Helm value typo is reported with its path; free-form maps stay open', { skip: chartsSkip }, () => {
  assert.deepEqual(unknownValuePaths('vault', { server: { ha: { replicaz: 3 } } }), ['server.ha.replicaz']);
  assert.deepEqual(
    unknownValuePaths('kube-prometheus-stack', { prometheus: { prometheusSpec: { retension: '15d' } } }),
    ['prometheus.prometheusSpec.retension'],
  );
  assert.deepEqual(unknownValuePaths('vault', { server: { extraEnvironmentVars: { ANYTHING: '1' } } }), []);
  assert.deepEqual(unknownValuePaths('keda', { operatorr: {} }), ['operatorr']);
});

test("a value of the wrong type fails the chart's values.schema.json", { skip: chartsSkip }, () => {
  assert.ok(valuesSchemaErrors('vault', { server: { ha: { replicas: 'three' } } }).length > 0);
  assert.ok(valuesSchemaErrors('opentelemetry-collector', { mode: 'sidecar' }).length > 0);
  assert.ok(
    valuesSchemaErrors('opentelemetry-collector', { image: { repositry: 'otel/x' } }).length > 0,
    'the collector schema closes its image map',
  );
});

test("the collector's own config is free-form, its chart keys are not", { skip: chartsSkip }, () => {
  assert.deepEqual(
    unknownValuePaths('opentelemetry-collector', { config: { exporters: { 'otlp/anything': {} } } }),
    [],
  );
  assert.deepEqual(unknownValuePaths('opentelemetry-collector', { presets: { logCollection: {} } }), [
    'presets.logCollection',
  ]);
  assert.deepEqual(unknownValuePaths('jaeger', { jaeger: { resourcez: {} } }), ['jaeger.resourcez']);
  assert.deepEqual(unknownValuePaths('jaeger', { jaeger: { resources: { limits: { cpu: '1' } } } }), []);
});

test("schema validation sees the values as Helm does: over the chart's defaults, null removing a key", () => {
  assert.deepEqual(coalesceValues({ a: { b: 1, c: 2 }, d: [1] }, { a: { c: null, e: 3 }, d: [2] }), {
    a: { b: 1, e: 3 },
    d: [2],
  });
});

test('a Kubernetes object with a wrong field type fails validation', () => {
  const bad = resource('kubernetes:apps/v1:Deployment', {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'x' },
    spec: {
      replicas: 'three',
      selector: { matchLabels: { a: 'b' } },
      template: { spec: { containers: [{ name: 'c', image: 'i' }] } },
    },
  });
  assert.match(validateKubernetesObject(bad) ?? '', /replicas/);
  const good = resource('kubernetes:core/v1:ConfigMap', {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: 'x' },
    data: { a: 'b' },
  });
  assert.equal(validateKubernetesObject(good), undefined);
});

test('a custom resource that breaks its CRD fails validation', { skip: crdsSkip }, () => {
  const validators = loadCrdValidators();
  const scaled = (spec: Record<string, unknown>): RegisteredResource =>
    resource('kubernetes:keda.sh/v1alpha1:ScaledObject', {
      apiVersion: 'keda.sh/v1alpha1',
      kind: 'ScaledObject',
      metadata: { name: 'x' },
      spec,
    });
  assert.equal(
    validateCustomResource(
      validators,
      scaled({ scaleTargetRef: { name: 'w' }, triggers: [{ type: 'prometheus', metadata: {} }] }),
    ),
    undefined,
  );
  assert.match(
    validateCustomResource(
      validators,
      scaled({ scaleTargetRef: { name: 'w' }, minReplicaCount: 'one', triggers: [] }),
    ) ?? '',
    /minReplicaCount/,
  );
  assert.match(validateCustomResource(validators, scaled({ triggers: [] })) ?? '', /scaleTargetRef/);
  assert.match(
    validateCustomResource(validators, resource('kubernetes:example.com/v1:Widget', {})) ?? '',
    /no CRD/,
  );
});

test(
  'a grafana subchart key is accepted only where it is listed, not everything beside it',
  { skip: chartsSkip },
  () => {
    const grafana = (ini: Record<string, unknown>) => ({ grafana: { 'grafana.ini': ini } });
    assert.deepEqual(
      unknownValuePaths('kube-prometheus-stack', grafana({ server: { root_url: 'https://g.example.com' } })),
      [],
    );
    assert.deepEqual(unknownValuePaths('kube-prometheus-stack', grafana({ server: { root_ur: 'x' } })), [
      'grafana.grafana.ini.server.root_ur',
    ]);
    assert.deepEqual(
      unknownValuePaths('kube-prometheus-stack', { grafana: { ingress: { ingressClasName: 'alb' } } }),
      ['grafana.ingress.ingressClasName'],
    );
    assert.deepEqual(
      unknownValuePaths('aws-load-balancer-controller', { serviceAcount: { name: 'x' }, clusterName: 'c' }),
      ['serviceAcount'],
    );
  },
);
