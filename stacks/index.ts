/**
 * The Pulumi program (Pulumi.yaml `main: stacks/`): validates the stack's config, then builds the
 * components in dependency order and returns the stack outputs. The tests import this same
 * default export under Pulumi's mocks.
 */
import * as pulumi from '@pulumi/pulumi';
import { Provider as AwsProvider } from '@pulumi/aws/provider.js';
import { loadStackConfig, loadStackSecrets } from './config.js';
import { Backups } from './components/backups.js';
import { Cache } from './components/cache.js';
import { Cdn } from './components/cdn.js';
import { Cluster } from './components/cluster.js';
import { CNPG_CLUSTER, Database, DATABASE_NAME, DATABASE_USER } from './components/database.js';
import { MetricsServer } from './components/metrics-server.js';
import { LoadBalancerController } from './components/load-balancer-controller.js';
import { MONITORING_NAMESPACE, Monitoring } from './components/monitoring.js';
import { Network } from './components/network.js';
import { Observability } from './components/observability.js';
import { NodeAutoscaler } from './components/node-autoscaler.js';
import { Runtime } from './components/runtime.js';
import { Secrets } from './components/secrets.js';
import { TIERS } from './tiers.js';

export default async function main(): Promise<Record<string, unknown>> {
  const cfg = loadStackConfig();
  const tier = TIERS[cfg.tier];
  const secrets = loadStackSecrets(cfg);

  // Explicit providers only: nothing lands in whatever region the operator's shell defaults to, and
  // nothing in another account than the stack's. They ignore the aws:* stack config, so the
  // operator's aws:profile is handed to each.
  const awsProvider = (name: string, region: string): AwsProvider =>
    new AwsProvider(name, {
      region,
      ...(cfg.accountId ? { allowedAccountIds: [cfg.accountId] } : {}),
      ...(cfg.awsProfile ? { profile: cfg.awsProfile } : {}),
    });
  const aws = cfg.usesAws ? awsProvider('aws', cfg.region) : undefined;
  const awsProviders = aws ? [aws] : [];

  const network =
    cfg.clusterMode === 'eks'
      ? new Network('network', { cfg, tier }, { providers: awsProviders })
      : undefined;
  const cluster = new Cluster(
    'cluster',
    { cfg, tier, ...(network ? { network } : {}) },
    { providers: awsProviders },
  );
  const providers = [...awsProviders, cluster.provider];

  // Nodes follow the pods (Karpenter, on EKS) and the API's HPA has CPU metrics to scale on.
  if (cfg.clusterMode === 'eks') new NodeAutoscaler('nodes', { cfg, tier, cluster }, { providers });
  new MetricsServer('metrics-server', { cfg, tier, cluster }, { providers });
  // EKS: the controller of the "alb" IngressClass; the API's and Grafana's Ingresses share its ALB.
  const ingressController = network
    ? new LoadBalancerController('ingress', { cfg, tier, cluster, network }, { providers })
    : undefined;

  let cdn: Cdn | undefined;
  if (cfg.storageMode === 's3') {
    const usEast1 = awsProvider('aws-us-east-1', 'us-east-1');
    cdn = new Cdn('cdn', { cfg, tier, usEast1 }, { providers });
  }

  const runtime = new Runtime(
    'runtime',
    { cfg, tier, cluster, ...(cdn ? { assetsBucketArn: cdn.bucketArn } : {}) },
    { providers },
  );
  const dataStoreArgs = { cfg, tier, namespace: runtime.namespaceName, ...(network ? { network } : {}) };
  const cache = new Cache('cache', dataStoreArgs, { providers });
  const database = new Database('database', dataStoreArgs, { providers });

  const vault = new Secrets(
    'secrets',
    {
      cfg,
      tier,
      cluster,
      databasePassword: database.password,
      redisPassword: cache.password,
      anthropicApiKey: secrets.anthropicApiKey,
      vaultToken: secrets.vaultToken,
      runtimeNamespace: runtime.namespaceName,
    },
    { providers },
  );

  const monitoring = new Monitoring(
    'monitoring',
    {
      cfg,
      tier,
      managedControlPlane: cfg.clusterMode === 'eks',
      runtimeNamespace: runtime.namespaceName,
      ...(cfg.alerting && secrets.pagerDutyRoutingKey && secrets.slackWebhookUrl
        ? {
            alertReceivers: {
              pagerDutyRoutingKey: secrets.pagerDutyRoutingKey,
              slackWebhookUrl: secrets.slackWebhookUrl,
              slackChannel: cfg.alerting.slackChannel,
            },
          }
        : {}),
      postgresTargets: [
        { name: 'primary', host: database.primaryHost },
        ...database.replicaHosts.map((host, i) => ({ name: `replica-${i}`, host })),
      ],
      redis: { nodes: cache.nodes, tls: cache.tls },
      vaultReady: vault.ready,
      scrapeVault: tier.vault.ha,
      ...(vault.caCertPem ? { vaultCaCertPem: vault.caCertPem } : {}),
      deployExporters: vault.configured,
      ...(cfg.databaseMode === 'in-cluster' ? { cloudNativePgCluster: CNPG_CLUSTER } : {}),
      ...(ingressController ? { ingressController } : {}),
    },
    { providers },
  );

  // Traces and logs live beside Prometheus and Grafana, whose datasources point at them.
  const observability = new Observability(
    'observability',
    { tier, namespace: monitoring.namespace, namespaceName: MONITORING_NAMESPACE },
    { providers },
  );

  // Pods read their secrets through Vault Agent: until Vault is configured (HA before `vault
  // operator init`) they could never start, and `pulumi up` would wait on them until it failed.
  if (vault.configured) {
    runtime.deploy('runtime', {
      endpoints: pulumi
        .all([database.primaryHost, database.readerHosts, cache.endpoint, cdn?.bucketName, cdn?.baseUrl])
        .apply(([databaseHost, databaseReaderHosts, redisEndpoint, bucket, cdnBaseUrl]) => ({
          databaseHost,
          databaseReaderHosts,
          databaseName: DATABASE_NAME,
          databaseUser: DATABASE_USER,
          redisEndpoint,
          redisCluster: cache.clusterMode,
          redisTls: cache.tls,
          ...(bucket && cdnBaseUrl ? { s3: { bucket, region: cfg.region, cdnBaseUrl } } : {}),
          hasAnthropicKey: secrets.anthropicApiKey !== undefined,
          otlpEndpoint: observability.otlpEndpoint,
        })),
      prometheusUrl: monitoring.prometheusUrl,
      vaultReady: vault.ready,
      dataStoresReady: [...database.ready, ...cache.ready],
      inClusterDataStores: cfg.cacheMode === 'in-cluster' && cfg.databaseMode === 'in-cluster',
      ...(database.caSecretName ? { postgresCaSecret: database.caSecretName } : {}),
      ...(network ? { vpcCidr: network.vpcCidr, loadBalancerSubnetCidrs: network.publicSubnetCidrs } : {}),
      ...(ingressController ? { ingressController } : {}),
    });
  } else {
    runtime.deferDeploy();
  }

  if (cfg.backups) {
    if (!cdn || !database.primaryArn || !cfg.drRegion)
      throw new Error('backups need rds, s3 and a drRegion (validated in config)');
    const dr = awsProvider('aws-dr', cfg.drRegion);
    new Backups(
      'backups',
      {
        cfg,
        tier,
        drProvider: dr,
        databaseArn: database.primaryArn,
        assetsBucket: cdn.bucket,
        assetsBucketVersioning: cdn.bucketVersioning,
        cluster,
        vaultReady: vault.release,
      },
      { providers },
    );
  }

  return {
    tier: cfg.tier,
    apiUrl: runtime.apiUrl,
    // The shared ALB: both the API's and Grafana's DNS names point here (CNAME or alias).
    apiLoadBalancerHostname: runtime.loadBalancerHostname,
    apiCertificateValidation: runtime.certificateValidationRecords,
    cdnDomain: cdn?.domainName,
    cdnDistributionDomain: cdn?.distributionDomainName,
    cdnCertificateValidation: cdn?.certificateValidationRecords,
    videosBucket: cdn?.bucketName,
    grafanaUrl: monitoring.grafanaUrl,
    grafanaCertificateValidation: monitoring.grafanaCertificateValidation,
    grafanaAdminPassword: monitoring.grafanaAdminPassword,
    otlpEndpoint: observability.otlpEndpoint,
    dbPrimaryEndpoint: database.primaryHost,
    dbReaderEndpoints: database.readerHosts,
    redisConfigurationEndpoint: cache.endpoint,
    kubeconfig: cluster.kubeconfig,
    imageRepositoryUrl: runtime.repositoryUrl,
    vaultAddress: vault.address,
    vaultConfigured: vault.configured,
    vaultDevRootToken: vault.devRootToken,
    vaultCaCert: vault.caCertPem,
    vaultBootstrapPolicy: vault.bootstrapPolicy,
  };
}
