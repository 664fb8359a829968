import * as crypto from 'node:crypto';
import * as pulumi from '@pulumi/pulumi';
import * as ecr from '@pulumi/aws/ecr/index.js';
import * as iam from '@pulumi/aws/iam/index.js';
import { CustomResource } from '@pulumi/kubernetes/apiextensions/customResource.js';
import * as appsv1 from '@pulumi/kubernetes/apps/v1/index.js';
import * as autoscalingv2 from '@pulumi/kubernetes/autoscaling/v2/index.js';
import * as batchv1 from '@pulumi/kubernetes/batch/v1/index.js';
import * as corev1 from '@pulumi/kubernetes/core/v1/index.js';
import * as networkingv1 from '@pulumi/kubernetes/networking/v1/index.js';
import * as policyv1 from '@pulumi/kubernetes/policy/v1/index.js';
import type * as k8sInput from '@pulumi/kubernetes/types/input.js';
import { scrapeJobs } from '../../dashboards/index.js';
import { publicCertificate } from '../certificates.js';
import type { ValidationRecord } from '../certificates.js';
import type { StackConfig } from '../config.js';
import { DEV_NODE_PORTS } from '../dev/kind.js';
import { assumeRoleForServiceAccount, policyDocument } from '../iam.js';
import { containerResources, hardenedContainer, pinnedChartRelease, restrictedPod } from '../kube.js';
import { appLabels, awsTags, imageRepositoryName, physicalName, selectorLabels } from '../naming.js';
import { apiScaling, workerScaling } from '../planning/scaling.js';
import {
  API_METRICS_PORT,
  API_PORT,
  PATHS,
  POSTGRES_CA_DIR,
  WORKER_METRICS_PORT,
  otelServiceName,
  publicBaseUrl,
  runtimeEnvironment,
} from '../runtime/environment.js';
import type { RuntimeEndpoints } from '../runtime/environment.js';
import type { Tier } from '../tiers.js';
import {
  RUNTIME_NAMESPACE,
  RUNTIME_SERVICE_ACCOUNT,
  VAULT_NAMESPACE,
  vaultAgentAnnotations,
  vaultEndpoint,
} from '../vault-access.js';
import type { Cluster } from './cluster.js';
import { CNPG_CLUSTER } from './database.js';
import { READINESS_GATE_LABEL, albIngressAnnotations } from './load-balancer-controller.js';
import type { LoadBalancerController } from './load-balancer-controller.js';
import { MONITORING_NAMESPACE, POSTGRES_EXPORTER_PORT, REDIS_EXPORTER_PORT } from './monitoring.js';
import { OTLP_HTTP_PORT } from './observability.js';

export interface RuntimeArgs {
  readonly cfg: StackConfig;
  readonly tier: Tier;
  readonly cluster: Cluster;
  /** The videos bucket the service account may write (s3 storage mode). */
  readonly assetsBucketArn?: pulumi.Input<string>;
}

export interface RuntimeDeployArgs {
  readonly endpoints: pulumi.Input<RuntimeEndpoints>;
  /** Prometheus the KEDA trigger queries. */
  readonly prometheusUrl: string;
  /** Vault must be configured before pods that log in to it start. */
  readonly vaultReady: pulumi.Resource[];
  /** Postgres and Redis accepting connections: the migration Job runs against them. */
  readonly dataStoresReady: pulumi.Resource[];
  /** Pods of the in-cluster data stores, for the NetworkPolicies (dev). */
  readonly inClusterDataStores: boolean;
  readonly vpcCidr?: string;
  /** EKS: the controller of the API's Ingress (the shared ALB). */
  readonly ingressController?: LoadBalancerController;
  /** EKS: the subnets the internet-facing ALB's nodes have their addresses in (the public ones). */
  readonly loadBalancerSubnetCidrs?: readonly string[];
  /** In-cluster Postgres: the Secret with the CA its server certificates are signed by (ca.crt). */
  readonly postgresCaSecret?: pulumi.Input<string>;
}

/** The image's non-root user (runtime/Dockerfile). */
export const RUNTIME_UID = 10001;
export const KEDA_NAMESPACE = 'keda';

export function kedaValues(): Record<string, unknown> {
  return {
    crds: { install: true },
    operator: { replicaCount: 1 },
    resources: { operator: { requests: { cpu: '100m', memory: '128Mi' }, limits: { memory: '512Mi' } } },
  };
}

/**
 * The runtime: namespace, service account (IRSA: write the videos bucket, nothing else), ConfigMap,
 * migration Job, API and worker Deployments, Services, the public entry (on EKS an Ingress of the
 * shared ALB with TLS from ACM; in dev a NodePort kind forwards to the host), API HPA on CPU, KEDA scaling workers on queue depth, disruption budgets and
 * NetworkPolicies. Built in two steps: the namespace first (the in-cluster data stores live in
 * it), then deploy() once the data stores and Vault exist.
 */
export class Runtime extends pulumi.ComponentResource {
  readonly namespace: corev1.Namespace;
  readonly namespaceName: pulumi.Output<string>;
  readonly serviceAccount: corev1.ServiceAccount;
  readonly repositoryUrl: pulumi.Output<string> | undefined;
  readonly apiUrl: pulumi.Output<string>;
  loadBalancerHostname: pulumi.Output<string> | undefined;
  certificateValidationRecords: pulumi.Output<ValidationRecord[]> | undefined;
  private readonly args: RuntimeArgs;

  constructor(name: string, args: RuntimeArgs, opts?: pulumi.ComponentResourceOptions) {
    super('archibald:runtime:Runtime', name, {}, opts);
    this.args = args;
    const { cfg, cluster } = args;
    const child = { parent: this };
    this.apiUrl = pulumi.output(publicBaseUrl(cfg));

    this.namespace = new corev1.Namespace(
      `${name}-ns`,
      {
        metadata: {
          name: RUNTIME_NAMESPACE,
          labels: {
            'pod-security.kubernetes.io/enforce': 'restricted',
            'pod-security.kubernetes.io/enforce-version': 'latest',
            // EKS: an API pod is Ready only once the ALB sees it healthy, so a rollout never
            // leaves the target group with only new, still-registering pods.
            ...(cfg.clusterMode === 'eks' ? READINESS_GATE_LABEL : {}),
          },
        },
      },
      child,
    );
    this.namespaceName = this.namespace.metadata.name;

    let roleArn: pulumi.Output<string> | undefined;
    if (cfg.clusterMode === 'eks') {
      const tags = awsTags(cfg, 'runtime');
      const repository = new ecr.Repository(
        `${name}-images`,
        {
          name: imageRepositoryName(cfg),
          imageTagMutability: 'IMMUTABLE',
          imageScanningConfiguration: { scanOnPush: true },
          encryptionConfigurations: [{ encryptionType: 'KMS' }],
          tags,
        },
        child,
      );
      new ecr.LifecyclePolicy(
        `${name}-images`,
        {
          repository: repository.name,
          policy: JSON.stringify({
            rules: [
              {
                rulePriority: 1,
                description: 'keep the last 50 images',
                selection: { tagStatus: 'any', countType: 'imageCountMoreThan', countNumber: 50 },
                action: { type: 'expire' },
              },
            ],
          }),
        },
        child,
      );
      this.repositoryUrl = repository.repositoryUrl;
      if (args.assetsBucketArn !== undefined) {
        if (!cluster.oidcProviderArn || !cluster.oidcIssuerUrl)
          throw new Error('Runtime: IRSA needs the EKS OIDC provider');
        const role = new iam.Role(
          `${name}-irsa`,
          {
            name: physicalName(cfg, 'runtime'),
            assumeRolePolicy: assumeRoleForServiceAccount(
              cluster.oidcProviderArn,
              cluster.oidcIssuerUrl,
              RUNTIME_NAMESPACE,
              RUNTIME_SERVICE_ACCOUNT,
            ),
            tags,
          },
          child,
        );
        new iam.RolePolicy(
          `${name}-irsa`,
          {
            role: role.id,
            // Exactly what runtime/storage/s3-storage.ts calls: HeadObject (authorised by
            // s3:GetObject) before PutObject. Without s3:ListBucket S3 answers a HEAD of a missing
            // key with 403 instead of 404, and every first publish would fail.
            policy: policyDocument([
              {
                Sid: 'PublishVideos',
                Effect: 'Allow',
                Action: ['s3:PutObject', 's3:GetObject'],
                Resource: pulumi.interpolate`${args.assetsBucketArn}/*`,
              },
              {
                Sid: 'SeeMissingVideosAs404',
                Effect: 'Allow',
                Action: ['s3:ListBucket'],
                Resource: args.assetsBucketArn,
              },
            ]),
          },
          child,
        );
        roleArn = role.arn;
      }
    } else {
      this.repositoryUrl = undefined;
    }

    this.serviceAccount = new corev1.ServiceAccount(
      `${name}-sa`,
      {
        metadata: {
          name: RUNTIME_SERVICE_ACCOUNT,
          namespace: this.namespaceName,
          labels: appLabels('runtime'),
          ...(roleArn ? { annotations: { 'eks.amazonaws.com/role-arn': roleArn } } : {}),
        },
      },
      child,
    );
  }

  deploy(name: string, d: RuntimeDeployArgs): void {
    const { cfg, tier } = this.args;
    const child = { parent: this };
    const ns = this.namespaceName;
    const api = apiScaling(tier);
    const workers = workerScaling(tier);
    const endpoints = pulumi.output(d.endpoints);
    const local = cfg.storageMode === 'local';
    const hasAnthropicKey = endpoints.apply((e) => e.hasAnthropicKey);
    const vault = vaultEndpoint(tier.vault.ha);

    const config = new corev1.ConfigMap(
      `${name}-config`,
      {
        metadata: { name: 'archibald-config', namespace: ns, labels: appLabels('runtime') },
        data: endpoints.apply((e) => ({
          ...runtimeEnvironment(cfg, tier, e),
          // EKS: the ALB (target type ip) connects from its subnets and appends the client to
          // X-Forwarded-For; only those hops are believed, so clients cannot pick their address.
          ...(d.loadBalancerSubnetCidrs ? { TRUST_PROXY: d.loadBalancerSubnetCidrs.join(',') } : {}),
        })),
      },
      child,
    );

    const storage = local
      ? new corev1.PersistentVolumeClaim(
          `${name}-videos`,
          {
            metadata: { name: 'archibald-videos', namespace: ns, labels: appLabels('storage') },
            spec: {
              accessModes: ['ReadWriteOnce'],
              resources: { requests: { storage: `${tier.storage.localGiB}Gi` } },
            },
          },
          child,
        )
      : undefined;

    const volumes: k8sInput.core.v1.Volume[] = [
      { name: 'work', emptyDir: { sizeLimit: `${tier.worker.workDirGiB}Gi` } },
      { name: 'asset-cache', emptyDir: { sizeLimit: `${tier.worker.assetCacheGiB}Gi` } },
      { name: 'tmp', emptyDir: { sizeLimit: '1Gi' } },
      ...(storage ? [{ name: 'videos', persistentVolumeClaim: { claimName: storage.metadata.name } }] : []),
      // Only the certificate: the operator's Secret also holds the CA's private key.
      ...(d.postgresCaSecret
        ? [
            {
              name: 'postgres-ca',
              secret: { secretName: d.postgresCaSecret, items: [{ key: 'ca.crt', path: 'ca.crt' }] },
            },
          ]
        : []),
    ];
    const volumeMounts: k8sInput.core.v1.VolumeMount[] = [
      { name: 'work', mountPath: PATHS.work },
      { name: 'asset-cache', mountPath: PATHS.assetCache },
      { name: 'tmp', mountPath: PATHS.tmp },
      ...(storage ? [{ name: 'videos', mountPath: PATHS.storage }] : []),
      // Over the image's RDS bundle, at the sslrootcert path the ConfigMap's URLs name.
      ...(d.postgresCaSecret ? [{ name: 'postgres-ca', mountPath: POSTGRES_CA_DIR, readOnly: true }] : []),
    ];
    const secretFiles = hasAnthropicKey.apply((has) =>
      has
        ? (['databasePassword', 'redisPassword', 'anthropicApiKey'] as const)
        : (['databasePassword', 'redisPassword'] as const),
    );

    const podSpec = (
      role: 'api' | 'worker' | 'migrate',
      container: k8sInput.core.v1.Container,
      extra: Partial<k8sInput.core.v1.PodSpec> = {},
    ): k8sInput.core.v1.PodSpec =>
      restrictedPod(RUNTIME_UID, {
        serviceAccountName: this.serviceAccount.metadata.name,
        // Vault Agent logs in with this token; IRSA reads its projected token.
        automountServiceAccountToken: true,
        containers: [
          hardenedContainer({
            envFrom: [{ configMapRef: { name: config.metadata.name } }],
            env: [{ name: 'OTEL_SERVICE_NAME', value: otelServiceName(role) }],
            volumeMounts,
            ...container,
          }),
        ],
        volumes,
        topologySpreadConstraints: [
          {
            maxSkew: 1,
            topologyKey: 'topology.kubernetes.io/zone',
            whenUnsatisfiable: 'ScheduleAnyway',
            labelSelector: { matchLabels: selectorLabels(role) },
          },
        ],
        ...extra,
      });

    // The migration Job is named after the image, so a new image runs migrations again, and the
    // API Deployment waits for it: the schema is ahead of the code that needs it.
    const imageDigest = crypto.createHash('sha256').update(cfg.image).digest('hex').slice(0, 10);
    const migrate = new batchv1.Job(
      `${name}-migrate`,
      {
        metadata: { name: `archibald-migrate-${imageDigest}`, namespace: ns, labels: appLabels('migrate') },
        spec: {
          backoffLimit: 3,
          activeDeadlineSeconds: 900,
          template: {
            metadata: {
              labels: appLabels('migrate'),
              annotations: secretFiles.apply((f) =>
                vaultAgentAnnotations(f, vault, { prePopulateOnly: true }),
              ),
            },
            spec: podSpec(
              'migrate',
              {
                name: 'migrate',
                image: cfg.image,
                args: ['migrate'],
                resources: containerResources(tier.worker),
              },
              { restartPolicy: 'Never' },
            ),
          },
        },
      },
      { parent: this, dependsOn: [...d.vaultReady, ...d.dataStoresReady] },
    );

    const apiLabels = appLabels('api');
    const apiDeployment = new appsv1.Deployment(
      `${name}-api`,
      {
        metadata: { name: 'archibald-api', namespace: ns, labels: apiLabels },
        spec: {
          replicas: api.minReplicas,
          selector: { matchLabels: selectorLabels('api') },
          strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } },
          template: {
            metadata: {
              labels: apiLabels,
              annotations: secretFiles.apply((f) => vaultAgentAnnotations(f, vault)),
            },
            spec: podSpec(
              'api',
              {
                name: 'api',
                image: cfg.image,
                args: ['serve'],
                ports: [
                  { name: 'http', containerPort: API_PORT },
                  { name: 'metrics', containerPort: API_METRICS_PORT },
                ],
                livenessProbe: {
                  httpGet: { path: '/health', port: 'http' },
                  periodSeconds: 10,
                  timeoutSeconds: 2,
                  failureThreshold: 3,
                },
                readinessProbe: {
                  httpGet: { path: '/ready', port: 'http' },
                  periodSeconds: 5,
                  timeoutSeconds: 2,
                  failureThreshold: 2,
                },
                startupProbe: {
                  httpGet: { path: '/health', port: 'http' },
                  periodSeconds: 2,
                  failureThreshold: 30,
                },
                resources: containerResources(tier.api),
              },
              { terminationGracePeriodSeconds: 30 },
            ),
          },
        },
      },
      { parent: this, dependsOn: [migrate], ignoreChanges: ['spec.replicas'] },
    );

    const workerLabels = appLabels('worker');
    const workerDeployment = new appsv1.Deployment(
      `${name}-worker`,
      {
        metadata: { name: 'archibald-worker', namespace: ns, labels: workerLabels },
        spec: {
          replicas: workers.minReplicas,
          selector: { matchLabels: selectorLabels('worker') },
          strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } },
          template: {
            metadata: {
              labels: workerLabels,
              // A node autoscaler never drains a worker's node to save money mid-video (planning/nodes.ts).
              annotations: secretFiles.apply((f) => ({
                ...vaultAgentAnnotations(f, vault),
                'karpenter.sh/do-not-disrupt': 'true',
              })),
            },
            spec: podSpec(
              'worker',
              {
                name: 'worker',
                image: cfg.image,
                args: ['worker'],
                ports: [{ name: 'metrics', containerPort: WORKER_METRICS_PORT }],
                livenessProbe: {
                  httpGet: { path: '/health', port: 'metrics' },
                  periodSeconds: 15,
                  timeoutSeconds: 3,
                  failureThreshold: 4,
                },
                readinessProbe: {
                  httpGet: { path: '/health', port: 'metrics' },
                  periodSeconds: 10,
                  timeoutSeconds: 3,
                },
                resources: containerResources(tier.worker),
              },
              {
                // Running jobs get their grace period to finish before the kubelet kills the pod.
                terminationGracePeriodSeconds: tier.worker.shutdownGraceSeconds + 30,
              },
            ),
          },
        },
      },
      { parent: this, dependsOn: [migrate], ignoreChanges: ['spec.replicas'] },
    );

    // Service names are the Prometheus job names the alerts and dashboards select on.
    const apiService = new corev1.Service(
      `${name}-api`,
      {
        metadata: { name: scrapeJobs.api, namespace: ns, labels: apiLabels },
        spec: {
          selector: selectorLabels('api'),
          // The Ingress routes only 'http'; 'metrics' is for the ServiceMonitor.
          ports: [
            { name: 'http', port: API_PORT, targetPort: 'http' },
            { name: 'metrics', port: API_METRICS_PORT, targetPort: 'metrics' },
          ],
        },
      },
      child,
    );
    new corev1.Service(
      `${name}-worker`,
      {
        metadata: { name: scrapeJobs.worker, namespace: ns, labels: workerLabels },
        spec: {
          clusterIP: 'None',
          selector: selectorLabels('worker'),
          ports: [{ name: 'metrics', port: WORKER_METRICS_PORT, targetPort: 'metrics' }],
        },
      },
      child,
    );

    if (cfg.clusterMode === 'eks') {
      if (!d.ingressController) throw new Error('Runtime: on EKS the API is served through the ALB Ingress');
      const certificate = publicCertificate(`${name}-api-cert`, cfg.domain, cfg, 'runtime', this);
      const ingress = new networkingv1.Ingress(
        `${name}-api`,
        {
          metadata: {
            name: 'archibald-api',
            namespace: ns,
            labels: apiLabels,
            annotations: albIngressAnnotations(cfg, {
              certificateArn: certificate.arn,
              healthCheckPath: '/ready',
            }),
          },
          spec: {
            ingressClassName: d.ingressController.ingressClassName,
            rules: [
              {
                host: cfg.domain,
                http: {
                  paths: [
                    {
                      path: '/',
                      pathType: 'Prefix',
                      backend: { service: { name: apiService.metadata.name, port: { name: 'http' } } },
                    },
                  ],
                },
              },
            ],
          },
        },
        { parent: this, dependsOn: [d.ingressController.release] },
      );
      // The group's ALB: Grafana's Ingress is served by the same load balancer.
      this.loadBalancerHostname = ingress.status.loadBalancer.ingress.apply(
        (entries) => entries?.[0]?.hostname ?? '',
      );
      this.certificateValidationRecords = certificate.validationRecords;
    } else {
      // kind forwards the host port in stacks/dev/kind-cluster.yaml to this NodePort.
      new corev1.Service(
        `${name}-api-public`,
        {
          metadata: { name: 'archibald-api-public', namespace: ns, labels: apiLabels },
          spec: {
            type: 'NodePort',
            selector: selectorLabels('api'),
            ports: [{ name: 'http', port: API_PORT, targetPort: 'http', nodePort: DEV_NODE_PORTS.api }],
          },
        },
        child,
      );
    }

    new autoscalingv2.HorizontalPodAutoscaler(
      `${name}-api`,
      {
        metadata: { name: 'archibald-api', namespace: ns, labels: apiLabels },
        spec: {
          scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: apiDeployment.metadata.name },
          minReplicas: api.minReplicas,
          maxReplicas: api.maxReplicas,
          metrics: [
            {
              type: 'Resource',
              resource: {
                name: 'cpu',
                target: { type: 'Utilization', averageUtilization: api.cpuTargetPercent },
              },
            },
          ],
        },
      },
      child,
    );

    const kedaNs = new corev1.Namespace(`${name}-keda-ns`, { metadata: { name: KEDA_NAMESPACE } }, child);
    const keda = pinnedChartRelease(
      `${name}-keda`,
      'keda',
      {
        name: 'keda',
        namespace: kedaNs.metadata.name,
        values: kedaValues(),
        atomic: true,
      },
      child,
    );
    new CustomResource(
      `${name}-worker-scaler`,
      {
        apiVersion: 'keda.sh/v1alpha1',
        kind: 'ScaledObject',
        metadata: { name: 'archibald-worker', namespace: ns, labels: workerLabels },
        spec: {
          scaleTargetRef: { name: workerDeployment.metadata.name },
          minReplicaCount: workers.minReplicas,
          maxReplicaCount: workers.maxReplicas,
          pollingInterval: 15,
          cooldownPeriod: 300,
          advanced: {
            horizontalPodAutoscalerConfig: {
              behavior: {
                // Scale down slowly: a worker leaving releases its jobs after the grace period.
                scaleDown: {
                  stabilizationWindowSeconds: 300,
                  policies: [{ type: 'Pods', value: 1, periodSeconds: 60 }],
                },
              },
            },
          },
          triggers: [
            {
              type: 'prometheus',
              metadata: {
                serverAddress: d.prometheusUrl,
                query: workers.query,
                threshold: String(workers.jobsPerReplica),
              },
            },
          ],
        },
      },
      { parent: this, dependsOn: [keda] },
    );

    new policyv1.PodDisruptionBudget(
      `${name}-api`,
      {
        metadata: { name: 'archibald-api', namespace: ns, labels: apiLabels },
        spec: { minAvailable: api.minAvailable, selector: { matchLabels: selectorLabels('api') } },
      },
      child,
    );
    new policyv1.PodDisruptionBudget(
      `${name}-worker`,
      {
        metadata: { name: 'archibald-worker', namespace: ns, labels: workerLabels },
        spec: { maxUnavailable: 1, selector: { matchLabels: selectorLabels('worker') } },
      },
      child,
    );

    this.networkPolicies(name, d);
    this.registerOutputs({ apiUrl: this.apiUrl, repositoryUrl: this.repositoryUrl });
  }

  /** Closes the component without workloads (Vault not configured yet); deploy() comes on a later up. */
  deferDeploy(): void {
    this.registerOutputs({ apiUrl: this.apiUrl, repositoryUrl: this.repositoryUrl });
  }

  /** Default deny for Archibald's pods, then exactly the paths that must exist. */
  private networkPolicies(name: string, d: RuntimeDeployArgs): void {
    const ns = this.namespaceName;
    const child = { parent: this };
    const partOf = { 'app.kubernetes.io/part-of': 'archibald' };
    const nsSelector = (n: string): k8sInput.meta.v1.LabelSelector => ({
      matchLabels: { 'kubernetes.io/metadata.name': n },
    });
    const roles = (...r: string[]): k8sInput.meta.v1.LabelSelector => ({
      matchLabels: partOf,
      matchExpressions: [{ key: 'app.kubernetes.io/component', operator: 'In', values: r }],
    });
    const policy = (suffix: string, spec: k8sInput.networking.v1.NetworkPolicySpec): void => {
      new networkingv1.NetworkPolicy(
        `${name}-netpol-${suffix}`,
        { metadata: { name: suffix, namespace: ns }, spec },
        child,
      );
    };
    const clients = ['api', 'worker', 'migrate', 'postgres-exporter', 'redis-exporter'];

    policy('default-deny', { podSelector: { matchLabels: partOf }, policyTypes: ['Ingress', 'Egress'] });
    policy('allow-dns', {
      podSelector: { matchLabels: partOf },
      policyTypes: ['Egress'],
      egress: [
        {
          to: [{ namespaceSelector: nsSelector('kube-system') }],
          ports: [
            { protocol: 'UDP', port: 53 },
            { protocol: 'TCP', port: 53 },
          ],
        },
      ],
    });
    policy('api-ingress', {
      podSelector: { matchLabels: selectorLabels('api') },
      policyTypes: ['Ingress'],
      // EKS: clients arrive from the ALB (target type ip), whose addresses are in the public
      // subnets. dev: through the NodePort, which kube-proxy may source-NAT to any node address.
      ingress: [
        {
          ...(d.loadBalancerSubnetCidrs
            ? { from: d.loadBalancerSubnetCidrs.map((cidr) => ({ ipBlock: { cidr } })) }
            : {}),
          ports: [{ protocol: 'TCP', port: API_PORT }],
        },
      ],
    });
    policy('metrics-from-monitoring', {
      podSelector: { matchLabels: partOf },
      policyTypes: ['Ingress'],
      ingress: [
        {
          from: [{ namespaceSelector: nsSelector(MONITORING_NAMESPACE) }],
          ports: [
            { protocol: 'TCP', port: API_METRICS_PORT },
            { protocol: 'TCP', port: WORKER_METRICS_PORT },
            { protocol: 'TCP', port: POSTGRES_EXPORTER_PORT },
            { protocol: 'TCP', port: REDIS_EXPORTER_PORT },
          ],
        },
      ],
    });
    policy('clients-to-vault', {
      podSelector: roles(...clients),
      policyTypes: ['Egress'],
      egress: [
        {
          to: [{ namespaceSelector: nsSelector(VAULT_NAMESPACE) }],
          ports: [{ protocol: 'TCP', port: 8200 }],
        },
      ],
    });
    const dataStorePeers: k8sInput.networking.v1.NetworkPolicyPeer[] = d.inClusterDataStores
      ? [
          { podSelector: { matchLabels: selectorLabels('redis') } },
          { podSelector: { matchLabels: { 'cnpg.io/cluster': CNPG_CLUSTER } } },
        ]
      : [{ ipBlock: { cidr: d.vpcCidr ?? '10.0.0.0/8' } }];
    policy('clients-to-data-stores', {
      podSelector: roles(...clients),
      policyTypes: ['Egress'],
      egress: [
        {
          to: dataStorePeers,
          ports: [
            { protocol: 'TCP', port: 5432 },
            { protocol: 'TCP', port: 6379 },
          ],
        },
      ],
    });
    policy('runtime-to-otel-collector', {
      podSelector: roles('api', 'worker', 'migrate'),
      policyTypes: ['Egress'],
      // Spans go to the gateway collector's OTLP/HTTP port in the monitoring namespace.
      egress: [
        {
          to: [{ namespaceSelector: nsSelector(MONITORING_NAMESPACE) }],
          ports: [{ protocol: 'TCP', port: OTLP_HTTP_PORT }],
        },
      ],
    });
    policy('runtime-to-https', {
      podSelector: roles('api', 'worker'),
      policyTypes: ['Egress'],
      // S3, STS (IRSA) and the model providers; never the node's metadata endpoint.
      egress: [
        {
          to: [{ ipBlock: { cidr: '0.0.0.0/0', except: ['169.254.169.254/32'] } }],
          ports: [{ protocol: 'TCP', port: 443 }],
        },
      ],
    });
    if (d.inClusterDataStores) {
      policy('redis-from-clients', {
        podSelector: { matchLabels: selectorLabels('redis') },
        policyTypes: ['Ingress'],
        ingress: [{ from: [{ podSelector: roles(...clients) }], ports: [{ protocol: 'TCP', port: 6379 }] }],
      });
    }
  }
}
