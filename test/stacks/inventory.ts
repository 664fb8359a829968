/**
 * Inventory assertions shared by the per-stack tests: what every stack must register for the
 * runtime and the monitoring, sized from the tier table.
 */
import assert from 'node:assert/strict';
import { buildDashboards, buildRuleGroups, scrapeJobs } from '../../dashboards/index.js';
import { metricCatalog } from '../../runtime/contract/metrics.js';
import { configVariableNames } from '../../runtime/config/schema.js';
import { nodePoolLimits, nodePoolRequirements } from '../../stacks/planning/nodes.js';
import { apiScaling, workerScaling } from '../../stacks/planning/scaling.js';
import type { Tier } from '../../stacks/tiers.js';
import { at, kubernetesObject, ofType, one } from './harness.js';
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
  assert.deepEqual(at(apiContainer, 'ports'), [
    { name: 'http', containerPort: 8080 },
    { name: 'metrics', containerPort: 9465 },
  ]);

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
  const apiService = kubernetesObject(e, 'Service', scrapeJobs.api);
  kubernetesObject(e, 'Service', scrapeJobs.worker);
  // The API's /metrics is on its own port: monitoring may reach it, the public listener lacks it.
  assert.deepEqual(at(apiService.inputs, 'spec.ports'), [
    { name: 'http', port: 8080, targetPort: 'http' },
    { name: 'metrics', port: 9465, targetPort: 'metrics' },
  ]);
  const fromMonitoring = kubernetesObject(e, 'NetworkPolicy', 'metrics-from-monitoring');
  const scraped = (at(fromMonitoring.inputs, 'spec.ingress.0.ports') as { port: number }[]).map(
    (p) => p.port,
  );
  assert.ok(scraped.includes(9465), 'monitoring reaches the API metrics port');
  assert.ok(!scraped.includes(8080), 'monitoring needs nothing from the public API port');
  const apiIngress = kubernetesObject(e, 'NetworkPolicy', 'api-ingress');
  assert.deepEqual(
    (at(apiIngress.inputs, 'spec.ingress') as { ports: { port: number }[] }[]).flatMap((r) =>
      r.ports.map((p) => p.port),
    ),
    [8080],
    'clients reach only the public API port',
  );

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

  // The asset cache's cap fits the worker's asset-cache volume, with room for renders in progress.
  const volumes = at(worker.inputs, 'spec.template.spec.volumes') as Array<{
    name: string;
    emptyDir?: { sizeLimit?: string };
  }>;
  const volumeBytes = tier.worker.assetCacheGiB * 1024 ** 3;
  assert.equal(
    volumes.find((v) => v.name === 'asset-cache')?.emptyDir?.sizeLimit,
    `${tier.worker.assetCacheGiB}Gi`,
  );
  const cap = runtimeConfig.assetCacheMaxBytes;
  assert.ok(
    cap < volumeBytes - 100 * 1024 ** 2 && cap > volumeBytes / 2,
    `cap ${cap} in a ${volumeBytes} B volume`,
  );
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
    ['api', 'metrics'],
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

/** metrics-server: the pinned chart in kube-system, so the API's CPU HPA has metrics in every stack. */
export function assertMetricsServer(e: Evaluation, tier: Tier, existingCluster: boolean): void {
  const releases = ofType(e, 'kubernetes:helm.sh/v3:Release').filter(
    (r) => r.inputs.chart === 'metrics-server',
  );
  assert.equal(releases.length, 1, 'one metrics-server release');
  const release = releases[0] as RegisteredResource;
  assert.equal(release.inputs.version, '3.13.1');
  assert.equal(release.inputs.namespace, 'kube-system');
  assert.equal(
    at(release.inputs, 'repositoryOpts.repo'),
    'https://kubernetes-sigs.github.io/metrics-server/',
  );
  assert.deepEqual(
    at(release.inputs, 'values.args'),
    existingCluster ? ['--kubelet-insecure-tls'] : [],
    existingCluster
      ? 'kind kubelets serve self-signed certificates'
      : 'EKS kubelet certificates are verified: no --kubelet-insecure-tls',
  );
  assert.equal(at(release.inputs, 'values.replicas'), tier.api.replicas > 1 ? 2 : 1);
  // The HPA it feeds scales on CPU.
  const hpa = kubernetesObject(e, 'HorizontalPodAutoscaler', 'archibald-api');
  assert.equal(at(hpa.inputs, 'spec.metrics.0.resource.name'), 'cpu');
}

interface PolicyStatement {
  Sid?: string;
  Effect: string;
  Action: string | string[];
  Resource?: string | string[];
  Principal?: Record<string, unknown>;
  Condition?: Record<string, Record<string, unknown>>;
}

const statementsOf = (policy: unknown): PolicyStatement[] =>
  (JSON.parse(String(policy)) as { Statement: PolicyStatement[] }).Statement;
const actionsOf = (s: PolicyStatement): string[] => (Array.isArray(s.Action) ? s.Action : [s.Action]);

/**
 * Karpenter on EKS: the controller's IRSA role and scoped permissions, the node role with its
 * instance profile and EC2_LINUX access entry, the interruption queue and its EventBridge rules,
 * discovery tags, and a NodePool/EC2NodeClass sized from the tier.
 */
export function assertNodeAutoscaler(e: Evaluation, tier: Tier, clusterName: string): void {
  const component = 'archibald:nodes:NodeAutoscaler';
  const release = ofType(e, 'kubernetes:helm.sh/v3:Release').find((r) =>
    String(r.inputs.chart).endsWith('/karpenter'),
  );
  assert.ok(release, 'a Karpenter release');
  assert.equal(release.inputs.chart, 'oci://public.ecr.aws/karpenter/karpenter', 'the OCI chart reference');
  assert.equal(release.inputs.repositoryOpts, undefined, 'no --repo for an OCI chart');
  assert.equal(release.inputs.version, '1.14.1');
  assert.equal(release.inputs.namespace, 'kube-system');
  assert.equal(at(release.inputs, 'values.settings.clusterName'), clusterName);
  const region = e.config['archibald:region'];
  assert.ok(region);
  assert.deepEqual(
    at(release.inputs, 'values.controller.env'),
    [{ name: 'AWS_REGION', value: region }],
    'the region without IMDS (hop limit 1 keeps pods off it)',
  );

  // The interruption queue: Karpenter reads the queue EventBridge writes to.
  const queue = one(e, 'aws:sqs/queue:Queue');
  assert.equal(queue.inputs.messageRetentionSeconds, 300);
  assert.equal(queue.inputs.sqsManagedSseEnabled, true);
  const queuePolicy = one(e, 'aws:sqs/queuePolicy:QueuePolicy');
  const queueName = String(at(release.inputs, 'values.settings.interruptionQueue'));
  assert.ok(queueName.length > 0 && String(queuePolicy.inputs.queueUrl).endsWith(`/${queueName}`));
  const queueStatements = statementsOf(queuePolicy.inputs.policy);
  const send = queueStatements.find((s) => s.Effect === 'Allow');
  const queueArn = String(send?.Resource);
  assert.match(queueArn, new RegExp(`^arn:aws:sqs:[a-z0-9-]+:\\d{12}:${queueName}$`));
  assert.deepEqual(send?.Principal, { Service: 'events.amazonaws.com' });
  assert.ok(
    queueStatements.some(
      (s) => s.Effect === 'Deny' && at(s.Condition, 'Bool.aws:SecureTransport') === 'false',
    ),
    'the queue refuses plain HTTP',
  );
  const rules = ofType(e, 'aws:cloudwatch/eventRule:EventRule');
  const patterns = rules.map((r) => JSON.parse(String(r.inputs.eventPattern)) as Record<string, string[]>);
  assert.deepEqual(patterns.map((p) => p['detail-type']?.[0]).sort(), [
    'AWS Health Event',
    'EC2 Capacity Reservation Instance Interruption Warning',
    'EC2 Instance Rebalance Recommendation',
    'EC2 Instance State-change Notification',
    'EC2 Spot Instance Interruption Warning',
  ]);
  const targets = ofType(e, 'aws:cloudwatch/eventTarget:EventTarget');
  assert.equal(targets.length, rules.length, 'one target per rule');
  for (const t of targets) assert.equal(t.inputs.arn, queueArn, `${t.name} feeds the interruption queue`);
  const sourceArns = at(send?.Condition, 'ArnEquals.aws:SourceArn') as string[];
  assert.equal(sourceArns.length, rules.length, 'only the stack rules may send');

  // The controller role trusts exactly the chart's service account, through the cluster's OIDC provider.
  const roles = under(e, component, 'aws:iam/role:Role');
  const controller = roles.find((r) =>
    String(r.inputs.assumeRolePolicy).includes('AssumeRoleWithWebIdentity'),
  );
  assert.ok(controller, 'an IRSA controller role');
  const [trust, ...more] = statementsOf(controller.inputs.assumeRolePolicy);
  assert.equal(more.length, 0, 'one trust statement');
  assert.deepEqual(trust?.Principal, {
    Federated: one(e, 'aws:iam/openIdConnectProvider:OpenIdConnectProvider').id,
  });
  const condition = (trust?.Condition?.StringEquals ?? {}) as Record<string, string>;
  const sub = Object.entries(condition).find(([k]) => k.endsWith(':sub'));
  const aud = Object.entries(condition).find(([k]) => k.endsWith(':aud'));
  assert.equal(sub?.[1], 'system:serviceaccount:kube-system:karpenter', 'only the karpenter service account');
  assert.equal(aud?.[1], 'sts.amazonaws.com');
  assert.equal(at(release.inputs, 'values.serviceAccount.name'), 'karpenter');
  assert.equal(
    (at(release.inputs, 'values.serviceAccount.annotations') as Record<string, string>)[
      'eks.amazonaws.com/role-arn'
    ],
    `arn:aws:iam::123456789012:role/${controller.id}`,
    'the service account assumes the controller role',
  );

  // Its permissions: scoped to this cluster's resources, no IAM writes, under IAM's inline size limit.
  const policies = under(e, component, 'aws:iam/rolePolicy:RolePolicy').filter(
    (p) => p.inputs.role === controller.id,
  );
  const statements = policies.flatMap((p) => statementsOf(p.inputs.policy));
  const allActions = statements.flatMap(actionsOf);
  assert.ok(!allActions.some((a) => a === '*' || a.endsWith(':*')), 'no wildcard actions');
  assert.deepEqual(
    allActions.filter((a) => /^iam:(Create|Delete|Add|Remove|Tag|Put|Attach)/.test(a)),
    [],
    'no IAM writes: the instance profile is made by the stack',
  );
  const owned = `aws:ResourceTag/kubernetes.io/cluster/${clusterName}`;
  const terminate = statements.filter((s) => actionsOf(s).includes('ec2:TerminateInstances'));
  assert.ok(terminate.length > 0);
  for (const s of terminate)
    assert.equal(
      (s.Condition?.StringEquals as Record<string, string>)[owned],
      'owned',
      'terminates only instances of this cluster',
    );
  for (const s of statements.filter((x) => actionsOf(x).includes('ec2:CreateLaunchTemplate')))
    assert.equal(
      (s.Condition?.StringEquals as Record<string, string>)[
        `aws:RequestTag/kubernetes.io/cluster/${clusterName}`
      ],
      'owned',
    );
  const sqsRead = statements.find((s) => actionsOf(s).includes('sqs:ReceiveMessage'));
  assert.equal(sqsRead?.Resource, queueArn, 'reads the interruption queue only');
  const inlineChars = policies
    .map((p) => String(p.inputs.policy).replace(/\s/g, '').length)
    .reduce((a, b) => a + b, 0);
  assert.ok(inlineChars < 10_240, `${inlineChars} characters of inline policy fit IAM's 10,240 per role`);

  // Nodes: their own role, instance profile and EC2_LINUX access entry (authenticationMode API).
  const profile = one(e, 'aws:iam/instanceProfile:InstanceProfile');
  const nodeRole = roles.find((r) => r.id === profile.inputs.role);
  assert.ok(nodeRole, 'the instance profile holds the Karpenter node role');
  assert.deepEqual(statementsOf(nodeRole.inputs.assumeRolePolicy)[0]?.Principal, {
    Service: 'ec2.amazonaws.com',
  });
  // The admin roles' STANDARD entries are the cluster's; the node role's is the only EC2_LINUX one.
  const linuxEntries = ofType(e, 'aws:eks/accessEntry:AccessEntry').filter(
    (a) => a.inputs.type === 'EC2_LINUX',
  );
  assert.equal(linuxEntries.length, 1, 'one EC2_LINUX access entry');
  const entry = linuxEntries[0]!;
  assert.equal(entry.inputs.clusterName, clusterName);
  assert.equal(
    entry.inputs.principalArn,
    `arn:aws:iam::123456789012:role/${nodeRole.id}`,
    'the node role joins',
  );
  const passRole = statements.find((s) => actionsOf(s).includes('iam:PassRole'));
  assert.equal(passRole?.Resource, entry.inputs.principalArn, 'the controller passes the node role only');
  assert.deepEqual(
    under(e, component, 'aws:iam/rolePolicyAttachment:RolePolicyAttachment')
      .filter((a) => a.inputs.role === nodeRole.id)
      .map((a) => String(a.inputs.policyArn).split('/').pop())
      .sort(),
    ['AmazonEC2ContainerRegistryReadOnly', 'AmazonEKSWorkerNodePolicy', 'AmazonEKS_CNI_Policy'],
  );

  // Discovery: the private subnets, the node group the data stores admit, and the EKS cluster group.
  const discovery = (r: RegisteredResource): unknown =>
    (r.inputs.tags as Record<string, string>)['karpenter.sh/discovery'];
  const subnets = ofType(e, 'aws:ec2/subnet:Subnet');
  const privateSubnets = subnets.filter((s) => s.name.includes('-private-'));
  assert.equal(privateSubnets.length, tier.network.azCount);
  for (const s of privateSubnets) assert.equal(discovery(s), clusterName, `${s.name} is discoverable`);
  for (const s of subnets.filter((x) => x.name.includes('-public-')))
    assert.equal(discovery(s), undefined, `${s.name}: no node in a public subnet`);
  const groups = ofType(e, 'aws:ec2/securityGroup:SecurityGroup');
  const nodesSg = one(e, 'aws:ec2/securityGroup:SecurityGroup', 'network-nodes');
  assert.deepEqual(
    groups.filter((g) => discovery(g) !== undefined).map((g) => g.name),
    ['network-nodes'],
    'Karpenter nodes join the node group, never a data store group',
  );
  assert.equal(discovery(nodesSg), clusterName);
  for (const store of ['network-redis', 'network-postgres'])
    assert.deepEqual(
      at(one(e, 'aws:ec2/securityGroup:SecurityGroup', store).inputs, 'ingress.0.securityGroups'),
      [nodesSg.id],
      `${store} admits the group Karpenter nodes carry`,
    );
  const clusterSgTag = one(e, 'aws:ec2/tag:Tag');
  const launchTemplate = one(e, 'aws:ec2/launchTemplate:LaunchTemplate');
  assert.equal(clusterSgTag.inputs.key, 'karpenter.sh/discovery');
  assert.equal(clusterSgTag.inputs.value, clusterName);
  assert.equal(
    clusterSgTag.inputs.resourceId,
    (launchTemplate.inputs.vpcSecurityGroupIds as string[])[0],
    'the EKS cluster security group, as on the system nodes',
  );

  // The EC2NodeClass: pinned AMI, IMDSv2 with one hop, encrypted gp3 root sized from the tier.
  const nodeClass = kubernetesObject(e, 'EC2NodeClass', 'runtime');
  assert.equal(at(nodeClass.inputs, 'spec.instanceProfile'), profile.id);
  assert.match(String(at(nodeClass.inputs, 'spec.amiSelectorTerms.0.alias')), /^al2023@v\d{8}$/);
  assert.deepEqual(at(nodeClass.inputs, 'spec.subnetSelectorTerms'), [
    { tags: { 'karpenter.sh/discovery': clusterName } },
  ]);
  assert.deepEqual(at(nodeClass.inputs, 'spec.securityGroupSelectorTerms'), [
    { tags: { 'karpenter.sh/discovery': clusterName } },
  ]);
  assert.equal(at(nodeClass.inputs, 'spec.metadataOptions.httpTokens'), 'required');
  assert.equal(at(nodeClass.inputs, 'spec.metadataOptions.httpPutResponseHopLimit'), 1);
  assert.deepEqual(at(nodeClass.inputs, 'spec.blockDeviceMappings.0.ebs'), {
    volumeSize: `${tier.nodes.diskGiB}Gi`,
    volumeType: 'gp3',
    encrypted: true,
    deleteOnTermination: true,
  });
  assert.ok(nodeClass.dependencies.includes(entry.urn), 'nodes can join before the first launch');
  assert.ok(nodeClass.dependencies.includes(release.urn), 'the CRDs come with the chart');

  // The NodePool: requirements and limits from the tier, and room for a worker to finish.
  const pool = kubernetesObject(e, 'NodePool', 'runtime');
  assert.equal(
    at(pool.inputs, 'spec.template.spec.nodeClassRef.name'),
    at(nodeClass.inputs, 'metadata.name'),
  );
  assert.deepEqual(at(pool.inputs, 'spec.template.spec.requirements'), nodePoolRequirements(tier));
  const limits = nodePoolLimits(tier);
  assert.deepEqual(at(pool.inputs, 'spec.limits'), { cpu: limits.cpu, memory: limits.memory });
  assert.equal(at(pool.inputs, 'spec.limits.cpu'), String(limits.nodes * tier.nodes.vcpu));
  assert.deepEqual(at(pool.inputs, 'spec.disruption.budgets'), [{ nodes: '1' }]);
  const worker = kubernetesObject(e, 'Deployment', 'archibald-worker');
  const podGrace = Number(at(worker.inputs, 'spec.template.spec.terminationGracePeriodSeconds'));
  const nodeGrace = Number(
    /^(\d+)s$/.exec(String(at(pool.inputs, 'spec.template.spec.terminationGracePeriod')))?.[1],
  );
  assert.ok(
    nodeGrace >= podGrace + tier.worker.jobTimeoutSeconds,
    `a draining node keeps a worker ${nodeGrace}s: a job timeout and the pod's ${podGrace}s grace`,
  );
  assert.equal(
    (at(worker.inputs, 'spec.template.metadata.annotations') as Record<string, string>)[
      'karpenter.sh/do-not-disrupt'
    ],
    'true',
    'consolidation never drains a worker mid-video',
  );
  assert.ok(pool.dependencies.includes(release.urn));

  // The controller stays on the managed (system) node group.
  const terms = at(
    release.inputs,
    'values.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms',
  ) as { matchExpressions: { key: string; operator: string }[] }[];
  for (const term of terms) {
    const ops = Object.fromEntries(term.matchExpressions.map((m) => [m.key, m.operator]));
    assert.equal(ops['karpenter.sh/nodepool'], 'DoesNotExist');
    assert.equal(ops['eks.amazonaws.com/nodegroup'], 'Exists');
  }
}

/** What the NodeAutoscaler component registers, counted by type. */
export function nodeAutoscalerInventory(e: Evaluation): Record<string, number> {
  const components = new Set(ofType(e, 'archibald:nodes:NodeAutoscaler').map((r) => r.urn));
  const counts: Record<string, number> = {};
  for (const r of e.resources.filter((x) => components.has(x.parent)))
    counts[r.type] = (counts[r.type] ?? 0) + 1;
  return Object.fromEntries(Object.entries(counts).sort(([a], [b]) => a.localeCompare(b)));
}

/** The NodeAutoscaler's resources on EKS (the same in every eks-mode stack). */
export const NODE_AUTOSCALER_INVENTORY: Readonly<Record<string, number>> = {
  'aws:cloudwatch/eventRule:EventRule': 5,
  'aws:cloudwatch/eventTarget:EventTarget': 5,
  'aws:ec2/tag:Tag': 1,
  'aws:eks/accessEntry:AccessEntry': 1,
  'aws:iam/instanceProfile:InstanceProfile': 1,
  'aws:iam/role:Role': 2,
  'aws:iam/rolePolicy:RolePolicy': 4,
  'aws:iam/rolePolicyAttachment:RolePolicyAttachment': 3,
  'aws:sqs/queue:Queue': 1,
  'aws:sqs/queuePolicy:QueuePolicy': 1,
  'kubernetes:helm.sh/v3:Release': 1,
  'kubernetes:karpenter.k8s.aws/v1:EC2NodeClass': 1,
  'kubernetes:karpenter.sh/v1:NodePool': 1,
};
