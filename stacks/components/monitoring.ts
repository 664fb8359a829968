import * as pulumi from '@pulumi/pulumi';
import { CustomResource } from '@pulumi/kubernetes/apiextensions/customResource.js';
import * as appsv1 from '@pulumi/kubernetes/apps/v1/index.js';
import * as corev1 from '@pulumi/kubernetes/core/v1/index.js';
import { RandomPassword } from '@pulumi/random/randomPassword.js';
import { stringify } from 'yaml';
import { buildAlertmanagerConfig, buildDashboards, buildRuleGroups } from '../../dashboards/index.js';
import { exemplarTraceIdDestination, traceAndLogDatasources } from '../../dashboards/datasources.js';
import { publicCertificate } from '../certificates.js';
import type { ValidationRecord } from '../certificates.js';
import type { StackConfig } from '../config.js';
import type { CacheNode } from './cache.js';
import { DEV_NODE_PORTS, devUrl } from '../dev/kind.js';
import { containerResources, hardenedContainer, pinnedChartRelease, restrictedPod } from '../kube.js';
import { appLabels, selectorLabels } from '../naming.js';
import { prometheusRetentionSize, prometheusStorageGiB } from '../planning/monitoring.js';
import { PINNED } from '../tiers.js';
import type { Tier } from '../tiers.js';
import {
  EXPORTER_SERVICE_ACCOUNT,
  VAULT_CA_KEY,
  VAULT_CA_SECRET,
  VAULT_NAMESPACE,
  VAULT_RELEASE,
  vaultAgentAnnotations,
  vaultEndpoint,
  vaultSecretFile,
} from '../vault-access.js';
import { albIngressAnnotations } from './load-balancer-controller.js';
import type { LoadBalancerController } from './load-balancer-controller.js';
import { observabilityUrls } from './observability.js';

export const MONITORING_NAMESPACE = 'monitoring';
/** Helm release name; with fullnameOverride it fixes every object name the stacks refer to. */
export const KPS_RELEASE = 'kps';
export const PROMETHEUS_URL = `http://${KPS_RELEASE}-prometheus.${MONITORING_NAMESPACE}.svc:9090`;
/** The operator reads the Alertmanager config from alertmanager-<Alertmanager name>. */
export const ALERTMANAGER_CONFIG_SECRET = `alertmanager-${KPS_RELEASE}-alertmanager`;
export const DASHBOARD_LABEL = 'grafana_dashboard';
export const DASHBOARD_FOLDER_ANNOTATION = 'grafana_folder';
/** The label the release's ruleSelector and serviceMonitorSelector match (chart default: release name). */
export const RELEASE_SELECTOR_LABEL = { release: KPS_RELEASE };
const GRAFANA_ADMIN_SECRET = 'grafana-admin';
export const POSTGRES_EXPORTER_PORT = 9187;
export const REDIS_EXPORTER_PORT = 9121;
const EXPORTER_UID = 65534;
/** The Postgres and Redis exporters' container (here and in the single-node deployment). */
export const EXPORTER_RESOURCES = {
  requests: { cpu: '20m', memory: '32Mi' },
  limits: { cpu: '200m', memory: '128Mi' },
} as const;

export interface MonitoringArgs {
  readonly cfg: StackConfig;
  readonly tier: Tier;
  /** Managed control planes (EKS) expose no scheduler/controller-manager/etcd to scrape. */
  readonly managedControlPlane: boolean;
  readonly runtimeNamespace: pulumi.Input<string>;
  readonly alertReceivers?: {
    pagerDutyRoutingKey: pulumi.Output<string>;
    slackWebhookUrl: pulumi.Output<string>;
    slackChannel: string;
  };
  readonly postgresTargets: { name: string; host: pulumi.Input<string> }[];
  /** Every Redis node: one exporter each, since memory and replication are per node. */
  readonly redis: { nodes: readonly CacheNode[]; tls: boolean };
  readonly vaultReady: pulumi.Resource[];
  /** The exporters read their passwords through Vault Agent, so they wait for a configured Vault. */
  readonly deployExporters: boolean;
  /** HA Vault serves unauthenticated telemetry (the VaultSealed alert reads it); dev mode does not. */
  readonly scrapeVault: boolean;
  /** The CA of Vault's TLS listener (HA): Prometheus verifies the server with it. */
  readonly vaultCaCertPem?: pulumi.Output<string>;
  /** In-cluster Postgres (CloudNativePG): its instances serve cnpg_* metrics on their "metrics" port. */
  readonly cloudNativePgCluster?: string;
  /**
   * EKS: Grafana's Ingress joins the shared ALB (HTTPS with its own ACM certificate). Without it
   * (dev), Grafana is a NodePort that kind forwards to the host (stacks/dev/kind-cluster.yaml).
   */
  readonly ingressController?: LoadBalancerController;
}

/** How Grafana is reached: its Ingress on the ALB (EKS) or a NodePort (dev). */
export type GrafanaExposure =
  | {
      readonly kind: 'ingress';
      readonly ingressClassName: string;
      readonly annotations: Record<string, pulumi.Input<string>>;
    }
  | { readonly kind: 'node-port'; readonly nodePort: number };

/** Grafana's host name: grafana.<domain>. */
export function grafanaHost(cfg: StackConfig): string {
  return `grafana.${cfg.domain}`;
}

/** The URL a browser reaches Grafana at (its root_url, so its links and redirects are right). */
export function grafanaPublicUrl(cfg: StackConfig): string {
  return cfg.clusterMode === 'eks'
    ? `https://${grafanaHost(cfg)}`
    : devUrl(grafanaHost(cfg), DEV_NODE_PORTS.grafana);
}

/** kube-prometheus-stack values per tier (checked against the pinned chart's values.yaml by the tests). */
export function kubePrometheusStackValues(a: {
  cfg: StackConfig;
  tier: Tier;
  managedControlPlane: boolean;
  existingAlertmanagerSecret: boolean;
  grafana: GrafanaExposure;
}): Record<string, unknown> {
  const { cfg, tier, managedControlPlane } = a;
  const scrapeInterval = `${tier.monitoring.scrapeIntervalSeconds}s`;
  return {
    fullnameOverride: KPS_RELEASE,
    crds: { enabled: true },
    kubeControllerManager: { enabled: !managedControlPlane },
    kubeScheduler: { enabled: !managedControlPlane },
    kubeEtcd: { enabled: !managedControlPlane },
    kubeProxy: { enabled: !managedControlPlane },
    prometheus: {
      prometheusSpec: {
        replicas: tier.monitoring.prometheusReplicas,
        scrapeInterval,
        retention: `${tier.monitoring.prometheusRetentionDays}d`,
        retentionSize: prometheusRetentionSize(tier),
        // Keeps the trace ids the runtime's histograms carry, so a slow point links to its trace.
        enableFeatures: ['exemplar-storage'],
        storageSpec: {
          volumeClaimTemplate: {
            spec: {
              accessModes: ['ReadWriteOnce'],
              resources: { requests: { storage: `${prometheusStorageGiB(tier)}Gi` } },
            },
          },
        },
      },
    },
    alertmanager: {
      alertmanagerSpec: {
        replicas: tier.monitoring.alertmanagerReplicas,
        // The config is a Kubernetes Secret made from stack secrets, never a Helm value.
        useExistingSecret: a.existingAlertmanagerSecret,
      },
    },
    grafana: {
      admin: { existingSecret: GRAFANA_ADMIN_SECRET, userKey: 'admin-user', passwordKey: 'admin-password' },
      // ingressClassName, pathType, service.type/nodePort and grafana.ini are keys of the grafana
      // subchart (12.11.1), not declared in kube-prometheus-stack's own values.yaml.
      ingress:
        a.grafana.kind === 'ingress'
          ? {
              enabled: true,
              ingressClassName: a.grafana.ingressClassName,
              annotations: a.grafana.annotations,
              hosts: [grafanaHost(cfg)],
              path: '/',
              pathType: 'Prefix',
            }
          : { enabled: false },
      ...(a.grafana.kind === 'node-port'
        ? { service: { type: 'NodePort', nodePort: a.grafana.nodePort } }
        : {}),
      'grafana.ini': { server: { root_url: grafanaPublicUrl(cfg) } },
      // Jaeger and Loki beside the chart's own Prometheus and Alertmanager datasources, and the
      // Prometheus datasource's exemplars linked to their traces (dashboards/datasources.ts).
      additionalDataSources: traceAndLogDatasources({
        jaeger: observabilityUrls(MONITORING_NAMESPACE).jaegerQuery,
        loki: observabilityUrls(MONITORING_NAMESPACE).loki,
      }),
      sidecar: {
        datasources: { exemplarTraceIdDestinations: exemplarTraceIdDestination() },
        dashboards: {
          enabled: true,
          label: DASHBOARD_LABEL,
          labelValue: '1',
          searchNamespace: 'ALL',
          // Keys of the grafana subchart (not declared in kube-prometheus-stack's own values.yaml).
          folderAnnotation: DASHBOARD_FOLDER_ANNOTATION,
          provider: { foldersFromFilesStructure: true },
        },
      },
    },
  };
}

/**
 * kube-prometheus-stack sized per tier, and what makes it Archibald's: the dashboards, rules and
 * Alertmanager routing from dashboards/, ServiceMonitors for API and worker, and the Postgres and
 * Redis exporters the data-stores dashboard reads.
 */
export class Monitoring extends pulumi.ComponentResource {
  readonly grafanaUrl: pulumi.Output<string>;
  readonly grafanaAdminPassword: pulumi.Output<string>;
  /** The monitoring namespace, for what runs beside Prometheus and Grafana (Observability). */
  readonly namespace: pulumi.Output<string>;
  /** EKS: the DNS records that validate Grafana's ACM certificate. */
  readonly grafanaCertificateValidation: pulumi.Output<ValidationRecord[]> | undefined;
  readonly prometheusUrl = PROMETHEUS_URL;

  constructor(name: string, args: MonitoringArgs, opts?: pulumi.ComponentResourceOptions) {
    super('archibald:monitoring:Monitoring', name, {}, opts);
    const { cfg, tier } = args;
    const child = { parent: this };
    const namespace = new corev1.Namespace(`${name}-ns`, { metadata: { name: MONITORING_NAMESPACE } }, child);
    const ns = namespace.metadata.name;
    this.namespace = ns;

    const adminPassword = new RandomPassword(`${name}-grafana-admin`, { length: 32, special: false }, child);
    this.grafanaAdminPassword = pulumi.secret(adminPassword.result);
    const adminSecret = new corev1.Secret(
      `${name}-grafana-admin`,
      {
        metadata: { name: GRAFANA_ADMIN_SECRET, namespace: ns },
        stringData: { 'admin-user': 'admin', 'admin-password': this.grafanaAdminPassword },
      },
      child,
    );

    const dependsOn: pulumi.Resource[] = [adminSecret];
    let grafana: GrafanaExposure;
    if (args.ingressController) {
      const certificate = publicCertificate(
        `${name}-grafana-cert`,
        grafanaHost(cfg),
        cfg,
        'monitoring',
        this,
      );
      grafana = {
        kind: 'ingress',
        ingressClassName: args.ingressController.ingressClassName,
        annotations: albIngressAnnotations(cfg, {
          certificateArn: certificate.arn,
          healthCheckPath: '/api/health',
        }),
      };
      // The controller's webhook validates the chart's Ingress; it must be up before the release.
      dependsOn.push(args.ingressController.release);
      this.grafanaCertificateValidation = certificate.validationRecords;
    } else {
      if (cfg.clusterMode === 'eks') throw new Error('Monitoring: on EKS Grafana is served through the ALB');
      grafana = { kind: 'node-port', nodePort: DEV_NODE_PORTS.grafana };
      this.grafanaCertificateValidation = undefined;
    }
    if (args.alertReceivers) {
      const r = args.alertReceivers;
      const rendered = pulumi.secret(
        pulumi
          .all([r.pagerDutyRoutingKey, r.slackWebhookUrl])
          .apply(([pagerDutyRoutingKey, slackWebhookUrl]) =>
            stringify(
              buildAlertmanagerConfig({ pagerDutyRoutingKey, slackWebhookUrl, slackChannel: r.slackChannel }),
            ),
          ),
      );
      dependsOn.push(
        new corev1.Secret(
          `${name}-alertmanager-config`,
          {
            metadata: { name: ALERTMANAGER_CONFIG_SECRET, namespace: ns },
            stringData: { 'alertmanager.yaml': rendered },
          },
          child,
        ),
      );
    }

    const release = pinnedChartRelease(
      `${name}-kps`,
      'kubePrometheusStack',
      {
        name: KPS_RELEASE,
        namespace: ns,
        values: kubePrometheusStackValues({
          cfg,
          tier,
          managedControlPlane: args.managedControlPlane,
          existingAlertmanagerSecret: args.alertReceivers !== undefined,
          grafana,
        }),
        atomic: true,
        timeout: 900,
      },
      { parent: this, dependsOn },
    );
    const afterCrds = { parent: this, dependsOn: [release] };

    for (const dashboard of buildDashboards()) {
      new corev1.ConfigMap(
        `${name}-dashboard-${dashboard.uid}`,
        {
          metadata: {
            name: `dashboard-${dashboard.uid}`,
            namespace: ns,
            labels: { [DASHBOARD_LABEL]: '1' },
            annotations: { [DASHBOARD_FOLDER_ANNOTATION]: dashboard.folder },
          },
          data: { [`${dashboard.uid}.json`]: JSON.stringify(dashboard.json) },
        },
        child,
      );
    }

    new CustomResource(
      `${name}-rules`,
      {
        apiVersion: 'monitoring.coreos.com/v1',
        kind: 'PrometheusRule',
        metadata: { name: 'archibald', namespace: ns, labels: RELEASE_SELECTOR_LABEL },
        spec: {
          groups: buildRuleGroups(cfg.runbookBaseUrl ? { runbookBaseUrl: cfg.runbookBaseUrl } : {}),
        },
      },
      afterCrds,
    );

    const serviceMonitor = (
      id: string,
      component: string,
      port: string,
      namespace: pulumi.Input<string>,
    ): void => {
      new CustomResource(
        `${name}-servicemonitor-${id}`,
        {
          apiVersion: 'monitoring.coreos.com/v1',
          kind: 'ServiceMonitor',
          metadata: { name: `archibald-${id}`, namespace: ns, labels: RELEASE_SELECTOR_LABEL },
          spec: {
            namespaceSelector: { matchNames: [namespace] },
            selector: { matchLabels: selectorLabels(component) },
            endpoints: [{ port, path: '/metrics', interval: `${tier.monitoring.scrapeIntervalSeconds}s` }],
          },
        },
        afterCrds,
      );
    };
    serviceMonitor('api', 'api', 'metrics', args.runtimeNamespace);
    serviceMonitor('worker', 'worker', 'metrics', args.runtimeNamespace);
    serviceMonitor('postgres-exporter', 'postgres-exporter', 'metrics', args.runtimeNamespace);
    serviceMonitor('redis-exporter', 'redis-exporter', 'metrics', args.runtimeNamespace);

    if (args.scrapeVault) {
      if (!args.vaultCaCertPem)
        throw new Error('Monitoring: scraping Vault needs the CA of its TLS listener');
      // Prometheus reads the CA from a Secret in its own namespace.
      const vaultCa = new corev1.Secret(
        `${name}-vault-ca`,
        {
          metadata: { name: VAULT_CA_SECRET, namespace: ns },
          stringData: { [VAULT_CA_KEY]: args.vaultCaCertPem },
        },
        child,
      );
      // Mirrors the Vault chart's own ServiceMonitor (with TLS on: port and scheme https,
      // /v1/sys/metrics), created here so it waits for the operator's CRDs rather than racing the
      // Vault release. Targets are pod IPs behind the headless service: the TLS check is against
      // that service's name, which the certificate carries.
      new CustomResource(
        `${name}-servicemonitor-vault`,
        {
          apiVersion: 'monitoring.coreos.com/v1',
          kind: 'ServiceMonitor',
          metadata: { name: 'vault', namespace: ns, labels: RELEASE_SELECTOR_LABEL },
          spec: {
            namespaceSelector: { matchNames: [VAULT_NAMESPACE] },
            selector: {
              matchLabels: {
                'app.kubernetes.io/name': 'vault',
                'app.kubernetes.io/instance': 'vault',
                'vault-internal': 'true',
              },
            },
            endpoints: [
              {
                port: 'https',
                scheme: 'https',
                path: '/v1/sys/metrics',
                params: { format: ['prometheus'] },
                interval: `${tier.monitoring.scrapeIntervalSeconds}s`,
                tlsConfig: {
                  ca: { secret: { name: VAULT_CA_SECRET, key: VAULT_CA_KEY } },
                  serverName: `${VAULT_RELEASE}-internal.${VAULT_NAMESPACE}.svc`,
                },
              },
            ],
          },
        },
        { parent: this, dependsOn: [release, vaultCa] },
      );
    }

    if (args.cloudNativePgCluster !== undefined) {
      // Our own PodMonitor (the operator's enablePodMonitor is deprecated) with the release label.
      new CustomResource(
        `${name}-podmonitor-cnpg`,
        {
          apiVersion: 'monitoring.coreos.com/v1',
          kind: 'PodMonitor',
          metadata: { name: 'archibald-postgres', namespace: ns, labels: RELEASE_SELECTOR_LABEL },
          spec: {
            namespaceSelector: { matchNames: [args.runtimeNamespace] },
            selector: { matchLabels: { 'cnpg.io/cluster': args.cloudNativePgCluster } },
            podMetricsEndpoints: [{ port: 'metrics', interval: `${tier.monitoring.scrapeIntervalSeconds}s` }],
          },
        },
        afterCrds,
      );
    }

    if (args.deployExporters) this.exporters(name, args);
    this.grafanaUrl = pulumi.output(grafanaPublicUrl(cfg));
    this.registerOutputs({
      grafanaUrl: this.grafanaUrl,
      grafanaCertificateValidation: this.grafanaCertificateValidation,
      prometheusUrl: this.prometheusUrl,
    });
  }

  private exporters(name: string, args: MonitoringArgs): void {
    const child = { parent: this };
    const vault = vaultEndpoint(args.tier.vault.ha);
    const ns = args.runtimeNamespace;
    const sa = new corev1.ServiceAccount(
      `${name}-exporter`,
      { metadata: { name: EXPORTER_SERVICE_ACCOUNT, namespace: ns, labels: appLabels('exporter') } },
      child,
    );
    const exporterResources = containerResources(EXPORTER_RESOURCES);
    const pod = (
      component: string,
      annotations: pulumi.Input<Record<string, string>>,
      container: Parameters<typeof hardenedContainer>[0],
      extraLabels: Record<string, string> = {},
    ) => ({
      metadata: { labels: { ...appLabels(component), ...extraLabels }, annotations },
      spec: restrictedPod(EXPORTER_UID, {
        serviceAccountName: sa.metadata.name,
        automountServiceAccountToken: true,
        containers: [hardenedContainer({ resources: exporterResources, ...container })],
      }),
    });

    // One postgres_exporter per instance: replication lag is only visible on the replica itself.
    for (const target of args.postgresTargets) {
      new appsv1.Deployment(
        `${name}-postgres-exporter-${target.name}`,
        {
          metadata: {
            name: `postgres-exporter-${target.name}`,
            namespace: ns,
            labels: appLabels('postgres-exporter'),
          },
          spec: {
            replicas: 1,
            selector: {
              matchLabels: {
                ...selectorLabels('postgres-exporter'),
                'archibald.io/postgres-instance': target.name,
              },
            },
            template: pod(
              'postgres-exporter',
              vaultAgentAnnotations(['databasePassword'], vault),
              {
                name: 'postgres-exporter',
                image: PINNED.postgresExporterImage,
                ports: [{ name: 'metrics', containerPort: POSTGRES_EXPORTER_PORT }],
                env: [
                  {
                    name: 'DATA_SOURCE_URI',
                    value: pulumi.interpolate`${target.host}:5432/archibald?sslmode=require`,
                  },
                  { name: 'DATA_SOURCE_USER', value: 'archibald' },
                  { name: 'DATA_SOURCE_PASS_FILE', value: vaultSecretFile('databasePassword') },
                ],
                livenessProbe: { httpGet: { path: '/', port: 'metrics' }, periodSeconds: 30 },
              },
              { 'archibald.io/postgres-instance': target.name },
            ),
          },
        },
        { parent: this, dependsOn: args.vaultReady },
      );
    }
    new corev1.Service(
      `${name}-postgres-exporter`,
      {
        metadata: { name: 'postgres-exporter', namespace: ns, labels: appLabels('postgres-exporter') },
        spec: {
          clusterIP: 'None',
          selector: selectorLabels('postgres-exporter'),
          ports: [{ name: 'metrics', port: POSTGRES_EXPORTER_PORT, targetPort: 'metrics' }],
        },
      },
      child,
    );

    // One redis_exporter per node, never the configuration endpoint: that name resolves to any
    // node, so a scrape would report whichever node answered and hide a lagging replica.
    const scheme = args.redis.tls ? 'rediss' : 'redis';
    for (const node of args.redis.nodes) {
      const redisUri = pulumi.interpolate`${scheme}://${node.endpoint}`;
      const passwordTemplate = redisUri.apply(
        (uri) =>
          `{{- with secret "archibald/data/runtime" -}}{"${uri}":"{{ .Data.data.redis_password }}"}{{- end -}}`,
      );
      new appsv1.Deployment(
        `${name}-redis-exporter-${node.name}`,
        {
          metadata: {
            name: `redis-exporter-${node.name}`,
            namespace: ns,
            labels: appLabels('redis-exporter'),
          },
          spec: {
            replicas: 1,
            selector: {
              matchLabels: { ...selectorLabels('redis-exporter'), 'archibald.io/redis-node': node.name },
            },
            template: pod(
              'redis-exporter',
              passwordTemplate.apply((t) =>
                vaultAgentAnnotations([], vault, { extraTemplates: { 'redis-passwords.json': t } }),
              ),
              {
                name: 'redis-exporter',
                image: PINNED.redisExporterImage,
                ports: [{ name: 'metrics', containerPort: REDIS_EXPORTER_PORT }],
                env: [
                  { name: 'REDIS_ADDR', value: redisUri },
                  { name: 'REDIS_PASSWORD_FILE', value: '/vault/secrets/redis-passwords.json' },
                ],
                livenessProbe: { httpGet: { path: '/health', port: 'metrics' }, periodSeconds: 30 },
              },
              { 'archibald.io/redis-node': node.name },
            ),
          },
        },
        { parent: this, dependsOn: args.vaultReady },
      );
    }
    new corev1.Service(
      `${name}-redis-exporter`,
      {
        metadata: { name: 'redis-exporter', namespace: ns, labels: appLabels('redis-exporter') },
        spec: {
          clusterIP: 'None',
          selector: selectorLabels('redis-exporter'),
          ports: [{ name: 'metrics', port: REDIS_EXPORTER_PORT, targetPort: 'metrics' }],
        },
      },
      child,
    );
  }
}
