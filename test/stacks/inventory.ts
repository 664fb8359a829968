/**
 * Inventory assertions shared by the per-stack tests: what every stack must register for the
 * runtime and the monitoring, sized from the tier table.
 */
import assert from 'node:assert/strict';
import { buildDashboards, buildRuleGroups, scrapeJobs } from '../../dashboards/index.js';
import { metricCatalog } from '../../runtime/contract/metrics.js';
import { configVariableNames } from '../../runtime/config/schema.js';
import { apiScaling, workerScaling } from '../../stacks/planning/scaling.js';
import type { Tier } from '../../stacks/tiers.js';
import { at, kubernetesObject, ofType } from './harness.js';
import type { Evaluation, RegisteredResource } from './harness.js';
import { loadWithRuntimeLoader } from './runtime-config.js';

export function container(r: RegisteredResource, path = 'spec.template.spec'): Record<string, unknown> {
  const containers = at(r.inputs, `${path}.containers`) as Record<string, unknown>[];
  assert.ok(Array.isArray(containers) && containers.length > 0, `${r.name} has containers`);
  return containers[0] as Record<string, unknown>;
}

/** Every resource is a component, a provider, or parented under one of our components. */
export function assertEverythingParented(e: Evaluation): void {
  const componentUrns = new Set(e.resources.filter((r) => r.type.startsWith('archibald:')).map((r) => r.urn));
  for (const r of e.resources) {
    if (r.type.startsWith('archibald:') || r.type.startsWith('pulumi:providers:')) continue;
    assert.ok(
      componentUrns.has(r.parent),
      `${r.type} ${r.name} is parented under a component (parent ${r.parent || 'stack'})`,
    );
  }
  for (const r of e.resources.filter((x) => x.type.startsWith('archibald:'))) {
    assert.equal(
      r.parent.includes('pulumi:pulumi:Stack') || r.parent === '',
      true,
      `component ${r.name} sits at the stack root`,
    );
  }
}

/** Kubernetes resources use the cluster's explicit provider; AWS resources an explicit AWS provider. */
export function assertExplicitProviders(e: Evaluation): void {
  const k8sProviders = ofType(e, 'pulumi:providers:kubernetes').map((p) => p.urn);
  const awsProviders = ofType(e, 'pulumi:providers:aws').map((p) => p.urn);
  assert.equal(k8sProviders.length, 1, 'one Kubernetes provider');
  for (const r of e.resources) {
    if (r.type.startsWith('kubernetes:')) {
      assert.ok(
        r.provider.startsWith(`${k8sProviders[0]}::`),
        `${r.type} ${r.name} uses the cluster's provider (got "${r.provider}")`,
      );
    }
    if (r.type.startsWith('aws:')) {
      assert.ok(
        awsProviders.some((p) => r.provider.startsWith(`${p}::`)),
        `${r.type} ${r.name} uses an explicit AWS provider (got "${r.provider}")`,
      );
    }
  }
}

export function assertRuntime(e: Evaluation, tier: Tier): void {
  const api = kubernetesObject(e, 'Deployment', 'archibald-api');
  const worker = kubernetesObject(e, 'Deployment', 'archibald-worker');
  const apiScale = apiScaling(tier);
  const workerScale = workerScaling(tier);

  assert.equal(at(api.inputs, 'spec.replicas'), tier.api.replicas);
  assert.deepEqual(at(api.inputs, 'spec.strategy'), {
    type: 'RollingUpdate',
    rollingUpdate: { maxSurge: 1, maxUnavailable: 0 },
  });
  const apiContainer = container(api);
  assert.deepEqual(apiContainer.args, ['serve']);
  assert.deepEqual(at(apiContainer, 'resources'), {
    requests: { ...tier.api.requests },
    limits: { ...tier.api.limits },
  });
  assert.equal(at(apiContainer, 'livenessProbe.httpGet.path'), '/health');
  assert.equal(at(apiContainer, 'readinessProbe.httpGet.path'), '/ready');
  assert.deepEqual(at(apiContainer, 'ports'), [{ name: 'http', containerPort: 8080 }]);

  const workerContainer = container(worker);
  assert.deepEqual(workerContainer.args, ['worker']);
  assert.equal(at(worker.inputs, 'spec.replicas'), workerScale.minReplicas);
  assert.deepEqual(at(workerContainer, 'resources'), {
    requests: { ...tier.worker.requests },
    limits: { ...tier.worker.limits },
  });
  assert.equal(at(workerContainer, 'livenessProbe.httpGet.port'), 'metrics');
  assert.equal(
    at(worker.inputs, 'spec.template.spec.terminationGracePeriodSeconds'),
    tier.worker.shutdownGraceSeconds + 30,
  );

  const migrate = ofType(e, 'kubernetes:batch/v1:Job').find((j) =>
    String(at(j.inputs, 'metadata.name')).startsWith('archibald-migrate-'),
  );
  assert.ok(migrate, 'a migration Job');
  for (const d of [api, worker, migrate]) {
    const c = container(d);
    assert.equal(at(c, 'securityContext.readOnlyRootFilesystem'), true, `${d.name}: read-only root`);
    assert.equal(
      at(c, 'securityContext.allowPrivilegeEscalation'),
      false,
      `${d.name}: no privilege escalation`,
    );
    assert.deepEqual(at(c, 'securityContext.capabilities.drop'), ['ALL']);
    assert.equal(
      at(d.inputs, 'spec.template.spec.securityContext.runAsNonRoot'),
      true,
      `${d.name}: non-root`,
    );
    const mounts = (c.volumeMounts as { mountPath: string }[]).map((m) => m.mountPath);
    assert.ok(
      mounts.includes('/var/lib/archibald/work') && mounts.includes('/var/cache/archibald'),
      `${d.name}: writable work and cache dirs`,
    );
    const annotations = at(d.inputs, 'spec.template.metadata.annotations') as Record<string, string>;
    assert.equal(
      annotations['vault.hashicorp.com/agent-inject'],
      'true',
      `${d.name}: Vault Agent injects its secrets`,
    );
    assert.equal(annotations['vault.hashicorp.com/role'], 'archibald-runtime');
    assert.ok(
      annotations['vault.hashicorp.com/agent-inject-template-database-password']?.includes(
        '.Data.data.database_password',
      ),
    );
  }

  // The migration Job runs before the API and the workers roll.
  assert.deepEqual(container(migrate).args, ['migrate']);
  assert.equal(
    (at(migrate.inputs, 'spec.template.metadata.annotations') as Record<string, string>)[
      'vault.hashicorp.com/agent-pre-populate-only'
    ],
    'true',
  );
  assert.ok(api.dependencies.includes(migrate.urn), 'the API Deployment waits for the migration Job');
  assert.ok(worker.dependencies.includes(migrate.urn), 'the worker Deployment waits for the migration Job');

  const hpa = kubernetesObject(e, 'HorizontalPodAutoscaler', 'archibald-api');
  assert.equal(at(hpa.inputs, 'spec.minReplicas'), apiScale.minReplicas);
  assert.equal(at(hpa.inputs, 'spec.maxReplicas'), apiScale.maxReplicas);
  assert.equal(at(hpa.inputs, 'spec.metrics.0.resource.name'), 'cpu');
  assert.equal(
    at(hpa.inputs, 'spec.metrics.0.resource.target.averageUtilization'),
    tier.api.cpuTargetPercent,
  );

  const scaler = kubernetesObject(e, 'ScaledObject', 'archibald-worker');
  assert.equal(at(scaler.inputs, 'spec.minReplicaCount'), workerScale.minReplicas);
  assert.equal(at(scaler.inputs, 'spec.maxReplicaCount'), tier.scale.workers);
  assert.equal(at(scaler.inputs, 'spec.triggers.0.type'), 'prometheus');
  const query = at(scaler.inputs, 'spec.triggers.0.metadata.query') as string;
  assert.ok(query.includes(metricCatalog.queueJobs.name), 'KEDA reads the catalog queue metric');
  assert.equal(at(scaler.inputs, 'spec.triggers.0.metadata.threshold'), String(workerScale.concurrency));
  const keda = ofType(e, 'kubernetes:helm.sh/v3:Release').find((r) => r.inputs.chart === 'keda');
  assert.ok(keda && scaler.dependencies.includes(keda.urn), 'the ScaledObject waits for the KEDA release');

  assert.equal(
    at(kubernetesObject(e, 'PodDisruptionBudget', 'archibald-api').inputs, 'spec.minAvailable'),
    apiScale.minAvailable,
  );
  assert.equal(
    at(kubernetesObject(e, 'PodDisruptionBudget', 'archibald-worker').inputs, 'spec.maxUnavailable'),
    1,
  );

  const policies = ofType(e, 'kubernetes:networking.k8s.io/v1:NetworkPolicy').map((p) =>
    at(p.inputs, 'metadata.name'),
  );
  for (const name of [
    'default-deny',
    'allow-dns',
    'api-ingress',
    'metrics-from-monitoring',
    'clients-to-vault',
    'clients-to-data-stores',
    'runtime-to-https',
  ]) {
    assert.ok(policies.includes(name), `NetworkPolicy ${name}`);
  }
  const deny = kubernetesObject(e, 'NetworkPolicy', 'default-deny');
  assert.deepEqual(at(deny.inputs, 'spec.policyTypes'), ['Ingress', 'Egress']);
  assert.equal(at(deny.inputs, 'spec.ingress'), undefined, 'default deny admits nothing');

  // Service names are the Prometheus jobs the alerts select on.
  kubernetesObject(e, 'Service', scrapeJobs.api);
  kubernetesObject(e, 'Service', scrapeJobs.worker);

  // The ConfigMap holds exactly names the runtime reads, and the runtime's own loader accepts it.
  const data = at(kubernetesObject(e, 'ConfigMap', 'archibald-config').inputs, 'data') as Record<
    string,
    string
  >;
  const names = new Set<string>(configVariableNames);
  for (const key of Object.keys(data))
    assert.ok(names.has(key), `ConfigMap key ${key} is a runtime config variable`);
  for (const key of Object.keys(data))
    assert.ok(!/PASSWORD$|API_KEY$/.test(key), `${key}: secrets reach pods only as files`);
  assert.equal(data.MIGRATE_ON_START, 'false');
  assert.equal(data.HOST, '0.0.0.0');
  assert.equal(data.WORKER_CONCURRENCY, String(workerScale.concurrency));
  const runtimeConfig = loadWithRuntimeLoader(data);
  assert.equal(runtimeConfig.worker.concurrency, workerScale.concurrency);
  assert.equal(runtimeConfig.port, 8080);
  assert.equal(runtimeConfig.migrateOnStart, false);
}

export function assertMonitoring(e: Evaluation, tier: Tier): void {
  const kps = ofType(e, 'kubernetes:helm.sh/v3:Release').find(
    (r) => r.inputs.chart === 'kube-prometheus-stack',
  );
  assert.ok(kps, 'kube-prometheus-stack release');
  assert.equal(kps.inputs.version, '88.5.3');
  assert.equal(
    at(kps.inputs, 'values.prometheus.prometheusSpec.retention'),
    `${tier.monitoring.prometheusRetentionDays}d`,
  );
  assert.equal(
    at(kps.inputs, 'values.prometheus.prometheusSpec.replicas'),
    tier.monitoring.prometheusReplicas,
  );
  assert.equal(at(kps.inputs, 'values.grafana.sidecar.dashboards.enabled'), true);

  const dashboards = buildDashboards();
  const configMaps = ofType(e, 'kubernetes:core/v1:ConfigMap').filter(
    (c) => (at(c.inputs, 'metadata.labels') as Record<string, string> | undefined)?.grafana_dashboard === '1',
  );
  assert.equal(configMaps.length, dashboards.length, 'one ConfigMap per dashboard');
  for (const d of dashboards) {
    const cm = configMaps.find((c) => at(c.inputs, 'metadata.name') === `dashboard-${d.uid}`);
    assert.ok(cm, `dashboard ${d.uid} has a ConfigMap`);
    assert.equal((at(cm.inputs, 'metadata.annotations') as Record<string, string>).grafana_folder, d.folder);
    assert.deepEqual(
      JSON.parse((at(cm.inputs, 'data') as Record<string, string>)[`${d.uid}.json`] as string),
      JSON.parse(JSON.stringify(d.json)),
    );
  }
  const label = at(kps.inputs, 'values.grafana.sidecar.dashboards.label');
  assert.equal(label, 'grafana_dashboard', 'the sidecar watches the label the ConfigMaps carry');

  const rule = kubernetesObject(e, 'PrometheusRule', 'archibald');
  assert.deepEqual(at(rule.inputs, 'spec.groups'), JSON.parse(JSON.stringify(buildRuleGroups())));
  assert.equal(
    (at(rule.inputs, 'metadata.labels') as Record<string, string>).release,
    kps.inputs.name,
    'the release ruleSelector matches the rule',
  );

  for (const [id, port] of [
    ['api', 'http'],
    ['worker', 'metrics'],
    ['postgres-exporter', 'metrics'],
    ['redis-exporter', 'metrics'],
  ] as const) {
    const sm = kubernetesObject(e, 'ServiceMonitor', `archibald-${id}`);
    assert.equal(at(sm.inputs, 'spec.endpoints.0.port'), port);
    assert.equal(at(sm.inputs, 'spec.endpoints.0.path'), '/metrics');
    assert.equal((at(sm.inputs, 'metadata.labels') as Record<string, string>).release, kps.inputs.name);
    assert.ok(sm.dependencies.includes(kps.urn), `ServiceMonitor ${id} waits for the operator's CRDs`);
  }
  const exporterImages = ofType(e, 'kubernetes:apps/v1:Deployment').map((d) => String(container(d).image));
  assert.ok(
    exporterImages.some((i) => i.startsWith('quay.io/prometheuscommunity/postgres-exporter:v')),
    'pinned postgres exporter',
  );
  assert.ok(
    exporterImages.some((i) => i.startsWith('oliver006/redis_exporter:v')),
    'pinned redis exporter',
  );
}

/** Resources of one type created under the given component. */
export function under(e: Evaluation, componentType: string, type: string): RegisteredResource[] {
  const components = new Set(e.resources.filter((r) => r.type === componentType).map((r) => r.urn));
  return e.resources.filter((r) => r.type === type && components.has(r.parent));
}
