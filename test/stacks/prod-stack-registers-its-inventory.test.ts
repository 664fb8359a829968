import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { nodeGroupSize } from '../../stacks/planning/capacity.js';
import { prometheusStorageGiB } from '../../stacks/planning/monitoring.js';
import { TIERS } from '../../stacks/tiers.js';
import { BOOTSTRAP_POLICY_HCL } from '../../stacks/vault-access.js';
import { at, countByType, evaluateStack, kubernetesObject, ofType, one } from './harness.js';
import type { Evaluation } from './harness.js';
import {
  assertEverythingParented,
  assertExplicitProviders,
  assertMetricsServer,
  assertMonitoring,
  assertNodeAutoscaler,
  assertRuntime,
  NODE_AUTOSCALER_INVENTORY,
  nodeAutoscalerInventory,
  under,
} from './inventory.js';
import {
  assertEveryIngressIsServed,
  assertExposureInventory,
  assertHttpsEndpoints,
  assertLoadBalancerController,
  assertLoadBalancerReachesPods,
} from './exposure.js';

const tier = TIERS.prod;
let e: Evaluation;
before(async () => {
  e = await evaluateStack('prod');
});

test('prod evaluates with no unknown resource type or invoke', () => {
  assert.deepEqual(e.unknownTypes, []);
  assert.deepEqual(e.unknownCalls, []);
  assert.ok(e.resources.length > 100, `${e.resources.length} resources`);
});

test('prod has one of each component, everything parented, explicit providers', () => {
  const counts = countByType(e);
  for (const c of [
    'network:Network',
    'cluster:Cluster',
    'cache:Cache',
    'database:Database',
    'monitoring:Monitoring',
    'observability:Observability',
    'secrets:Secrets',
    'cdn:Cdn',
    'backups:Backups',
    'runtime:Runtime',
    'nodes:NodeAutoscaler',
    'metrics:MetricsServer',
  ]) {
    assert.equal(counts[`archibald:${c}`], 1, c);
  }
  assertEverythingParented(e);
  assertExplicitProviders(e);
});

test('prod network: 3 AZs, public and private subnets, a NAT per AZ', () => {
  assert.equal(ofType(e, 'aws:ec2/subnet:Subnet').length, 6);
  assert.equal(ofType(e, 'aws:ec2/natGateway:NatGateway').length, 3);
  assert.equal(one(e, 'aws:ec2/vpc:Vpc').inputs.cidrBlock, tier.network.vpcCidr);
  const privateRoutes = ofType(e, 'aws:ec2/routeTable:RouteTable').filter((r) => r.name.includes('private'));
  const nats = new Set(privateRoutes.map((r) => at(r.inputs, 'routes.0.natGatewayId')));
  assert.equal(nats.size, 3, 'each private subnet leaves through its own AZ NAT');
});

test('prod cluster: pinned EKS, control-plane logs, node group sized from the tier, OIDC for IRSA', () => {
  const cluster = one(e, 'aws:eks/cluster:Cluster');
  assert.equal(cluster.inputs.version, '1.33');
  assert.deepEqual(cluster.inputs.enabledClusterLogTypes, [
    'api',
    'audit',
    'authenticator',
    'controllerManager',
    'scheduler',
  ]);
  const nodes = one(e, 'aws:eks/nodeGroup:NodeGroup');
  const size = nodeGroupSize(tier);
  assert.deepEqual(nodes.inputs.scalingConfig, {
    minSize: size.min,
    desiredSize: size.desired,
    maxSize: size.max,
  });
  assert.deepEqual(nodes.inputs.instanceTypes, [tier.nodes.instanceType]);
  assert.equal(
    at(one(e, 'aws:ec2/launchTemplate:LaunchTemplate').inputs, 'blockDeviceMappings.0.ebs.volumeSize'),
    tier.nodes.diskGiB,
  );
  const launchTemplate = one(e, 'aws:ec2/launchTemplate:LaunchTemplate');
  const nodesSg = one(e, 'aws:ec2/securityGroup:SecurityGroup', 'network-nodes');
  assert.ok(
    (launchTemplate.inputs.vpcSecurityGroupIds as string[]).includes(nodesSg.id),
    'nodes carry the group the data stores admit',
  );
  assert.equal(at(launchTemplate.inputs, 'metadataOptions.httpTokens'), 'required', 'IMDSv2 only');
  assert.deepEqual(one(e, 'aws:iam/openIdConnectProvider:OpenIdConnectProvider').inputs.clientIdLists, [
    'sts.amazonaws.com',
  ]);
  const k8s = one(e, 'pulumi:providers:kubernetes');
  assert.ok(k8s.dependencies.includes(nodes.urn), 'the Kubernetes provider waits for the node group');
  const addon = (addonName: string) => {
    const found = ofType(e, 'aws:eks/addon:Addon').filter((a) => a.inputs.addonName === addonName);
    assert.equal(found.length, 1, `one ${addonName} add-on`);
    return found[0] as (typeof found)[number];
  };
  const vpcCni = addon('vpc-cni');
  assert.deepEqual(
    JSON.parse(String(vpcCni.inputs.configurationValues)),
    { enableNetworkPolicy: 'true' },
    'the NetworkPolicies are enforced, not just accepted',
  );
  assert.ok(nodes.dependencies.includes(vpcCni.urn), 'the CNI is configured before nodes join');
  const ebsCsi = addon('aws-ebs-csi-driver');
  assert.ok(k8s.dependencies.includes(ebsCsi.urn), 'the Kubernetes provider waits for the volume driver');
  const ebsCsiRole = ofType(e, 'aws:iam/role:Role').find(
    (r) => r.id === ebsCsi.inputs.serviceAccountRoleArn?.toString().split('/').pop(),
  );
  assert.ok(ebsCsiRole, 'the EBS CSI driver has its own IRSA role');
  assert.match(
    String(ebsCsiRole.inputs.assumeRolePolicy),
    /system:serviceaccount:kube-system:ebs-csi-controller-sa/,
    "only the driver's controller may assume it",
  );
  const defaultClasses = ofType(e, 'kubernetes:storage.k8s.io/v1:StorageClass').filter(
    (c) =>
      (at(c.inputs, 'metadata.annotations') as Record<string, string> | undefined)?.[
        'storageclass.kubernetes.io/is-default-class'
      ] === 'true',
  );
  assert.equal(defaultClasses.length, 1, 'one default StorageClass, so PersistentVolumeClaims bind');
  assert.equal(defaultClasses[0]?.inputs.provisioner, 'ebs.csi.aws.com');
  assert.equal(at(defaultClasses[0]?.inputs, 'parameters.encrypted'), 'true', 'volumes encrypted at rest');
});

test("prod cache: cluster mode, one shard for the queue's hash tag with the tier replicas, noeviction, failover, multi-AZ", () => {
  const group = one(e, 'aws:elasticache/replicationGroup:ReplicationGroup');
  assert.equal(group.inputs.numNodeGroups, 1, 'every queue key shares {archibald}: one slot, one shard');
  assert.equal(group.inputs.replicasPerNodeGroup, tier.redis.replicasPerShard);
  assert.equal(group.inputs.nodeType, tier.redis.nodeType);
  assert.equal(group.inputs.automaticFailoverEnabled, true);
  assert.equal(group.inputs.multiAzEnabled, true);
  assert.equal(group.inputs.snapshotRetentionLimit, tier.redis.snapshotRetentionDays);
  const params = one(e, 'aws:elasticache/parameterGroup:ParameterGroup').inputs.parameters as {
    name: string;
    value: string;
  }[];
  assert.ok(params.some((p) => p.name === 'maxmemory-policy' && p.value === 'noeviction'));
  assert.ok(params.some((p) => p.name === 'cluster-enabled' && p.value === 'yes'));
});

test('prod database: multi-AZ primary and the tier read replicas, PITR retention, Performance Insights', () => {
  const instances = ofType(e, 'aws:rds/instance:Instance');
  const primary = instances.find((i) => !i.inputs.replicateSourceDb);
  assert.ok(primary);
  assert.equal(instances.length, 1 + tier.postgres.readReplicas);
  assert.equal(primary.inputs.multiAz, true);
  assert.equal(primary.inputs.instanceClass, tier.postgres.instanceClass);
  // Major only: RDS upgrades minors itself, and a pinned minor would make a later up try to downgrade.
  assert.equal(primary.inputs.engineVersion, '16');
  assert.equal(primary.inputs.autoMinorVersionUpgrade, true);
  assert.equal(primary.inputs.backupRetentionPeriod, tier.postgres.backupRetentionDays);
  assert.equal(primary.inputs.performanceInsightsEnabled, true);
  assert.equal(
    primary.inputs.performanceInsightsRetentionPeriod,
    tier.postgres.performanceInsightsRetentionDays,
  );
  const replicas = ofType(e, 'aws:rds/instance:Instance').filter((r) => r.inputs.replicateSourceDb);
  assert.equal(replicas.length, tier.postgres.readReplicas);
  const data = at(kubernetesObject(e, 'ConfigMap', 'archibald-config').inputs, 'data') as Record<
    string,
    string
  >;
  assert.equal(
    (data.DATABASE_READ_URL ?? '').split(',').length,
    tier.postgres.readReplicas,
    "one read URL per replica, at the replica's own endpoint (the name its certificate carries)",
  );
});

test('prod CDN: CloudFront with OAC, WAF in us-east-1 with managed rules and a rate limit', () => {
  const acl = one(e, 'aws:wafv2/webAcl:WebAcl');
  assert.equal(acl.inputs.scope, 'CLOUDFRONT');
  assert.match(acl.provider, /::aws-us-east-1::/);
  const rules = acl.inputs.rules as { name: string; statement: Record<string, unknown> }[];
  assert.ok(rules.some((r) => r.name === 'AWSManagedRulesCommonRuleSet'));
  assert.equal(
    at(
      rules.find((r) => r.statement.rateBasedStatement),
      'statement.rateBasedStatement.limit',
    ),
    tier.waf.rateLimitPer5Min,
  );
  const dist = one(e, 'aws:cloudfront/distribution:Distribution');
  assert.equal(at(dist.inputs, 'viewerCertificate.minimumProtocolVersion'), 'TLSv1.2_2021');
  assert.equal(at(dist.inputs, 'defaultCacheBehavior.viewerProtocolPolicy'), 'redirect-to-https');
  assert.ok(String(dist.inputs.webAclId).startsWith('arn:aws:wafv2:us-east-1:'));
  assert.ok(at(dist.inputs, 'loggingConfig.bucket'), 'access logs');
});

test('prod backups: daily/weekly/monthly with tier retention, copies to the DR region, S3 replication', () => {
  const plan = one(e, 'aws:backup/plan:Plan');
  const rules = plan.inputs.rules as {
    ruleName: string;
    lifecycle: { deleteAfter: number };
    copyActions: { destinationVaultArn: string }[];
  }[];
  assert.deepEqual(
    rules.map((r) => [r.ruleName, r.lifecycle.deleteAfter]),
    [
      ['daily', tier.backups.dailyRetentionDays],
      ['weekly', tier.backups.weeklyRetentionDays],
      ['monthly', tier.backups.monthlyRetentionDays],
    ],
  );
  for (const r of rules)
    assert.match(r.copyActions[0]?.destinationVaultArn ?? '', /^arn:aws:backup:eu-central-1:/);
  const selection = one(e, 'aws:backup/selection:Selection');
  const selected = selection.inputs.resources as string[];
  assert.ok(
    selected.some((a) => a.startsWith('arn:aws:rds:')) && selected.some((a) => a.startsWith('arn:aws:s3:::')),
    'RDS and the videos bucket',
  );
  const replication = one(e, 'aws:s3/bucketReplicationConfig:BucketReplicationConfig');
  assert.equal(
    at(replication.inputs, 'rules.0.destination.bucket'),
    'arn:aws:s3:::archibald-prod-videos-replica-123456789012',
  );
  assert.equal(
    at(one(e, 'kubernetes:batch/v1:CronJob').inputs, 'spec.schedule'),
    tier.backups.vaultSnapshotSchedule,
    'Vault raft snapshots',
  );
  assert.equal(under(e, 'archibald:backups:Backups', 'aws:backup/vault:Vault').length, 2);
});

test('prod Vault: HA raft with KMS auto-unseal, injector on, configured with the runtime role', () => {
  const vault = ofType(e, 'kubernetes:helm.sh/v3:Release').find((r) => r.inputs.chart === 'vault');
  assert.ok(vault);
  assert.equal(vault.inputs.version, '0.34.1');
  assert.equal(at(vault.inputs, 'values.server.ha.enabled'), true);
  assert.equal(at(vault.inputs, 'values.server.ha.replicas'), tier.vault.replicas);
  assert.match(String(at(vault.inputs, 'values.server.ha.raft.config')), /seal "awskms"/);
  assert.match(
    String(at(vault.inputs, 'values.server.ha.raft.config')),
    /leader_api_addr = "https:\/\/vault-2\.vault-internal:8200"/,
    'followers retry-join the leader over TLS',
  );
  assert.equal(at(vault.inputs, 'values.global.tlsDisable'), false, 'the listener serves TLS');
  assert.equal(at(vault.inputs, 'values.injector.enabled'), true);
  const configure = ofType(e, 'kubernetes:batch/v1:Job').find((j) =>
    String(at(j.inputs, 'metadata.name')).startsWith('vault-configure-'),
  );
  assert.ok(configure, 'a configure Job (the stack has a Vault token)');
  const script = String(at(configure.inputs, 'spec.template.spec.containers.0.command.2'));
  assert.match(
    script,
    /auth\/kubernetes\/role\/archibald-runtime bound_service_account_names=archibald,archibald-exporter/,
  );
  assert.equal(
    e.outputs.vaultBootstrapPolicy?.value,
    BOOTSTRAP_POLICY_HCL,
    'the operator writes the bootstrap policy from the stack output',
  );
  assert.match(String(e.outputs.vaultCaCert?.value), /^-----BEGIN CERTIFICATE-----/);
  assert.equal(e.outputs.vaultAddress?.value, 'https://vault-active.vault.svc:8200');
});

test('prod monitoring: sized from the tier, dashboards, rules and ServiceMonitors provisioned', () => {
  assertMonitoring(e, tier);
  const kps = ofType(e, 'kubernetes:helm.sh/v3:Release').find(
    (r) => r.inputs.chart === 'kube-prometheus-stack',
  );
  assert.equal(
    at(
      kps?.inputs,
      'values.prometheus.prometheusSpec.storageSpec.volumeClaimTemplate.spec.resources.requests.storage',
    ),
    `${prometheusStorageGiB(tier)}Gi`,
  );
  assert.equal(
    at(kps?.inputs, 'values.kubeControllerManager.enabled'),
    false,
    'no managed control-plane scrapes on EKS',
  );
  assert.equal(at(kps?.inputs, 'values.alertmanager.alertmanagerSpec.useExistingSecret'), true);
  const alertmanager = ofType(e, 'kubernetes:core/v1:Secret').find(
    (s) => at(s.inputs, 'metadata.name') === 'alertmanager-kps-alertmanager',
  );
  assert.ok(alertmanager?.secretPaths.includes('stringData'), 'the rendered Alertmanager config is a secret');
  const rendered =
    (at(alertmanager?.inputs, 'stringData') as Record<string, string>)['alertmanager.yaml'] ?? '';
  assert.match(
    rendered,
    /routing_key: R0UT1NGKEY0123456789abcdef012345/,
    "routes to the stack's PagerDuty key",
  );
  assert.equal(
    at(
      one(e, 'kubernetes:monitoring.coreos.com/v1:ServiceMonitor', 'monitoring-servicemonitor-vault').inputs,
      'spec.endpoints.0.path',
    ),
    '/v1/sys/metrics',
    'VaultSealed has its metric',
  );
  assert.equal(
    ofType(e, 'kubernetes:apps/v1:Deployment').filter((d) =>
      String(at(d.inputs, 'metadata.name')).startsWith('postgres-exporter-'),
    ).length,
    1 + tier.postgres.readReplicas,
  );
});

test('prod runtime: replicas, probes, scaling and policies from the tier', () => {
  assertRuntime(e, tier);
  const sa = one(e, 'kubernetes:core/v1:ServiceAccount', 'runtime-sa');
  const annotations = at(sa.inputs, 'metadata.annotations') as Record<string, string>;
  assert.match(
    annotations['eks.amazonaws.com/role-arn'] ?? '',
    /^arn:aws:iam::\d+:role\//,
    'IRSA role on the runtime service account',
  );
  const policy = JSON.parse(
    String(one(e, 'aws:iam/rolePolicy:RolePolicy', 'runtime-irsa').inputs.policy),
  ) as { Statement: { Action: string[]; Resource: string }[] };
  assert.deepEqual(
    policy.Statement.map((s) => [s.Action, s.Resource]),
    [
      [['s3:PutObject', 's3:GetObject'], 'arn:aws:s3:::archibald-prod-videos-123456789012/*'],
      [['s3:ListBucket'], 'arn:aws:s3:::archibald-prod-videos-123456789012'],
    ],
    'the HEAD-then-PUT publish of runtime/storage/s3-storage.ts on the videos bucket, nothing else',
  );
  assert.ok(
    policy.Statement.every(
      (s) => (s as { Effect?: string }).Effect === 'Allow' && !s.Action.some((a) => a.includes('*')),
    ),
    'no wildcard actions',
  );
  assert.equal(
    ofType(e, 'kubernetes:core/v1:Service').filter((s) => at(s.inputs, 'spec.type') === 'LoadBalancer')
      .length,
    0,
    'no Service of type LoadBalancer: the API is an Ingress of the shared ALB',
  );
  assert.equal(one(e, 'aws:ecr/repository:Repository').inputs.imageTagMutability, 'IMMUTABLE');
});

test('prod outputs the endpoints, with the kubeconfig and Grafana password secret', () => {
  const value = (key: string): string => String(e.outputs[key]?.value);
  assert.equal(value('apiUrl'), 'https://archibald.example.com');
  assert.equal(value('cdnDomain'), 'cdn.archibald.example.com');
  assert.equal(value('grafanaUrl'), 'https://grafana.archibald.example.com');
  assert.match(value('dbPrimaryEndpoint'), /^archibald-prod-postgres\..+\.rds\.amazonaws\.com$/);
  const readers = e.outputs.dbReaderEndpoints?.value as string[];
  assert.ok(readers.length > 0);
  for (const reader of readers)
    assert.match(reader, /^archibald-prod-postgres-replica-\d\..+\.rds\.amazonaws\.com$/);
  assert.match(value('redisConfigurationEndpoint'), /^clustercfg\..+:6379$/);
  assert.equal(e.outputs.kubeconfig?.secret, true);
  assert.match(value('kubeconfig'), /"command":"aws","args":\["eks","get-token"/);
  assert.equal(e.outputs.grafanaAdminPassword?.secret, true);
  for (const [key, output] of Object.entries(e.outputs)) {
    if (!output.secret && output.value !== undefined)
      assert.ok(!/password|token|kubeconfig/i.test(key) || key === 'vaultConfigured', `${key} is not secret`);
  }
});

test('prod nodes: Karpenter scales nodes from the tier, metrics-server feeds the CPU HPA', () => {
  assert.equal(countByType(e)['archibald:nodes:NodeAutoscaler'], 1);
  assert.equal(countByType(e)['archibald:metrics:MetricsServer'], 1);
  assert.deepEqual(nodeAutoscalerInventory(e), NODE_AUTOSCALER_INVENTORY);
  assertNodeAutoscaler(e, tier, 'archibald-prod');
  assertMetricsServer(e, tier, false);
});

test('prod exposure: every Ingress has a class the installed AWS Load Balancer Controller serves', () => {
  assert.equal(assertEveryIngressIsServed(e), 2);
  assertExposureInventory(e);
});

test('prod exposure: the controller from the pinned chart, its role trusted by its service account only', () => {
  assertLoadBalancerController(e, tier, 'eu-west-1');
});

test('prod exposure: API and Grafana on HTTPS with issued ACM certificates for their hosts, one ALB', () => {
  assertHttpsEndpoints(e, 'archibald.example.com');
  assertLoadBalancerReachesPods(e);
});
