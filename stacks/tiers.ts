/**
 * The tier table: every size the stacks use, per tier. Components read sizes from here (directly
 * or through the pure planning functions in stacks/planning/), never from literals of their own.
 *
 * Origin (../shared/seeds):
 * - scale config low/medium/high/enterprise: 2/5/10/20 workers, 5/15/50/100 concurrent videos
 *   → dev/staging/prod/enterprise worker max replicas and (through workerConcurrency) concurrency;
 * - resource allocation table: development 2 CPU/4 GB/20 GB, production 4/8/50, enterprise 8/16/200
 *   → node sizes and volumes;
 * - the seeds' orchestrator runs 3 API replicas with requests 1000m/2Gi and limits 2000m/4Gi
 *   (production); Archon's 500m/512Mi requests and 2000m/2Gi limits are the smaller data point.
 */

export const TIER_NAMES = ['dev', 'staging', 'prod', 'enterprise'] as const;
export type TierName = (typeof TIER_NAMES)[number];

/** Kubernetes resource quantities of one container. */
export interface PodResources {
  readonly cpu: string;
  readonly memory: string;
}

export interface SeedScale {
  readonly name: 'low' | 'medium' | 'high' | 'enterprise';
  readonly workers: number;
  readonly concurrentVideos: number;
}

export interface Tier {
  readonly name: TierName;
  readonly scale: SeedScale;
  readonly network: {
    readonly vpcCidr: string;
    readonly azCount: number;
    /** One NAT gateway per AZ (survives an AZ loss) or a single shared one. */
    readonly natPerAz: boolean;
  };
  readonly nodes: {
    /** From the seeds' resource allocation table (CPU cores / memory / disk). */
    readonly instanceType: string;
    readonly vcpu: number;
    readonly memoryGiB: number;
    readonly diskGiB: number;
    /** Nodes kept for the platform pods (monitoring, Vault, KEDA, exporters) beside the runtime. */
    readonly systemNodes: number;
  };
  readonly api: {
    readonly replicas: number;
    readonly maxReplicas: number;
    readonly cpuTargetPercent: number;
    readonly requests: PodResources;
    readonly limits: PodResources;
    readonly rateLimitMax: number;
    readonly rateLimitWindowSeconds: number;
  };
  readonly worker: {
    readonly minReplicas: number;
    readonly requests: PodResources;
    readonly limits: PodResources;
    readonly shutdownGraceSeconds: number;
    readonly jobAttempts: number;
    readonly jobTimeoutSeconds: number;
    /** Scratch space per worker pod for ffmpeg (emptyDir size limit). */
    readonly workDirGiB: number;
    /**
     * The asset cache's volume per worker pod (emptyDir size limit); the runtime's LRU cap
     * (ASSET_CACHE_MAX_BYTES) is derived from it, with room left for renders in progress.
     */
    readonly assetCacheGiB: number;
  };
  /**
   * `protect` on the stateful and foundational resources (EKS, VPC, KMS keys, data stores, backup
   * vaults, the videos bucket): a destroy or a replacing change stops until an operator unprotects.
   */
  readonly protectResources: boolean;
  /**
   * The Claude script writer's models and the per-video provider budget (SCRIPT_MODEL_CHEAP,
   * SCRIPT_MODEL_PREMIUM, VIDEO_BUDGET_USD); used when the stack has an Anthropic key.
   */
  readonly scripts: {
    readonly cheapModel: string;
    readonly premiumModel: string;
    readonly videoBudgetUsd: number;
  };
  readonly redis: {
    readonly nodeType: string;
    /**
     * Replicas of the queue's one shard. BullMQ's keys share one hash tag ({archibald}), so they live
     * in one slot and extra shards would hold nothing (stacks/planning/cache.ts).
     */
    readonly replicasPerShard: number;
    readonly multiAz: boolean;
    readonly snapshotRetentionDays: number;
    /** In-cluster Redis (dev) persists with AOF; ElastiCache relies on replicas and snapshots. */
    readonly appendOnly: boolean;
    readonly inClusterStorageGiB: number;
  };
  readonly postgres: {
    readonly instanceClass: string;
    /** Memory of instanceClass; RDS derives max_connections from it. */
    readonly instanceMemoryGiB: number;
    readonly storageGiB: number;
    readonly maxStorageGiB: number;
    readonly multiAz: boolean;
    readonly readReplicas: number;
    readonly backupRetentionDays: number;
    readonly deletionProtection: boolean;
    readonly performanceInsightsRetentionDays: number;
  };
  readonly backups: {
    readonly enabled: boolean;
    readonly dailyRetentionDays: number;
    readonly weeklyRetentionDays: number;
    readonly monthlyRetentionDays: number;
    readonly copyToDrRegion: boolean;
    readonly vaultSnapshotSchedule: string;
  };
  /**
   * Traces: the runtime's OTLP goes to a collector gateway (stacks/components/observability.ts),
   * which sends it to Jaeger. The expected span rate sizes Jaeger's volume like activeSeries sizes
   * Prometheus' (stacks/planning/observability.ts).
   */
  readonly tracing: {
    /**
     * Share of new traces kept (root spans; children follow their parent's decision). 1 samples
     * everything (parentbased_always_on); below 1, parentbased_traceidratio with this argument.
     */
    readonly sampleRatio: number;
    /** Spans per second the runtime emits at the tier's full concurrency, before sampling. */
    readonly spansPerSecond: number;
    readonly retentionHours: number;
    readonly collectorReplicas: number;
    readonly collector: { readonly requests: PodResources; readonly limits: PodResources };
    readonly jaeger: { readonly requests: PodResources; readonly limits: PodResources };
  };
  /** Logs: a collector per node tails the pods' JSON logs into Loki (one binary, filesystem). */
  readonly logs: {
    /** Log bytes per second all runtime pods write at the tier's full concurrency. */
    readonly bytesPerSecond: number;
    readonly retentionDays: number;
    /** The per-node collector (DaemonSet): its limits bound what tailing costs each node. */
    readonly agent: { readonly requests: PodResources; readonly limits: PodResources };
    readonly loki: { readonly requests: PodResources; readonly limits: PodResources };
  };
  readonly monitoring: {
    readonly prometheusRetentionDays: number;
    readonly prometheusReplicas: number;
    /** Expected active series; with the scrape interval it sizes Prometheus' volume. */
    readonly activeSeries: number;
    readonly scrapeIntervalSeconds: number;
    readonly alertmanagerReplicas: number;
  };
  /**
   * Containers of the services that run as containers beside the runtime on one box (the
   * single-node deployment, deploy/compose/): Postgres, Redis and the monitoring processes.
   */
  readonly containers: {
    readonly postgres: { readonly requests: PodResources; readonly limits: PodResources };
    readonly redis: { readonly requests: PodResources; readonly limits: PodResources };
    readonly prometheus: { readonly requests: PodResources; readonly limits: PodResources };
    readonly alertmanager: { readonly requests: PodResources; readonly limits: PodResources };
    readonly grafana: { readonly requests: PodResources; readonly limits: PodResources };
  };
  readonly vault: {
    readonly ha: boolean;
    readonly replicas: number;
    readonly storageGiB: number;
  };
  readonly storage: {
    /** Local video storage volume (storageMode local). */
    readonly localGiB: number;
    /** Non-current object versions kept this long in the assets bucket. */
    readonly noncurrentVersionDays: number;
    readonly accessLogRetentionDays: number;
  };
  readonly waf: {
    /** Requests per 5 minutes per client IP before the rate-based rule blocks. */
    readonly rateLimitPer5Min: number;
  };
  readonly ingress: {
    /**
     * AWS Load Balancer Controller pods (EKS). One leads, the others stand by; more than one keeps
     * its admission webhooks (failurePolicy Fail for Ingresses) answering through a pod restart.
     */
    readonly controllerReplicas: number;
  };
}

// Data points from the seeds, named so the table below reads as its origin.
const ARCHON_API = {
  requests: { cpu: '500m', memory: '512Mi' },
  limits: { cpu: '2000m', memory: '2Gi' },
} as const;
const ORCHESTRATOR_API = {
  requests: { cpu: '1000m', memory: '2Gi' },
  limits: { cpu: '2000m', memory: '4Gi' },
} as const;

/** The runtime's default models; a tier changes its budget (dev spends least, enterprise most). */
const SCRIPT_MODELS = { cheapModel: 'claude-haiku-5-5', premiumModel: 'claude-sonnet-5-5' } as const;

/**
 * What the services beside the runtime get as containers on one box (the single-node deployment,
 * deploy/compose/, reads the smallest tier's): the two smaller tiers and the two larger share them.
 */
const SMALL_BOX_CONTAINERS: Tier['containers'] = {
  postgres: { requests: { cpu: '250m', memory: '512Mi' }, limits: { cpu: '1000m', memory: '1Gi' } },
  redis: { requests: { cpu: '100m', memory: '256Mi' }, limits: { cpu: '1000m', memory: '512Mi' } },
  prometheus: { requests: { cpu: '100m', memory: '256Mi' }, limits: { cpu: '500m', memory: '1Gi' } },
  alertmanager: { requests: { cpu: '20m', memory: '32Mi' }, limits: { cpu: '100m', memory: '128Mi' } },
  grafana: { requests: { cpu: '50m', memory: '128Mi' }, limits: { cpu: '500m', memory: '512Mi' } },
};
const LARGE_BOX_CONTAINERS: Tier['containers'] = {
  postgres: { requests: { cpu: '1000m', memory: '2Gi' }, limits: { cpu: '2000m', memory: '4Gi' } },
  redis: { requests: { cpu: '250m', memory: '1Gi' }, limits: { cpu: '1000m', memory: '2Gi' } },
  prometheus: { requests: { cpu: '500m', memory: '2Gi' }, limits: { cpu: '2000m', memory: '4Gi' } },
  alertmanager: { requests: { cpu: '50m', memory: '64Mi' }, limits: { cpu: '200m', memory: '256Mi' } },
  grafana: { requests: { cpu: '100m', memory: '256Mi' }, limits: { cpu: '1000m', memory: '1Gi' } },
};

export const TIERS: Readonly<Record<TierName, Tier>> = {
  dev: {
    name: 'dev',
    scripts: { ...SCRIPT_MODELS, videoBudgetUsd: 0.02 },
    protectResources: false,
    scale: { name: 'low', workers: 2, concurrentVideos: 5 },
    network: { vpcCidr: '10.10.0.0/16', azCount: 2, natPerAz: false },
    nodes: { instanceType: 't3.medium', vcpu: 2, memoryGiB: 4, diskGiB: 20, systemNodes: 1 },
    api: {
      replicas: 1,
      maxReplicas: 2,
      cpuTargetPercent: 70,
      ...ARCHON_API,
      rateLimitMax: 100,
      rateLimitWindowSeconds: 60,
    },
    worker: {
      minReplicas: 1,
      ...ARCHON_API,
      shutdownGraceSeconds: 120,
      jobAttempts: 3,
      jobTimeoutSeconds: 900,
      workDirGiB: 5,
      assetCacheGiB: 2,
    },
    redis: {
      nodeType: 'cache.t4g.small',
      replicasPerShard: 0,
      multiAz: false,
      snapshotRetentionDays: 1,
      appendOnly: true,
      inClusterStorageGiB: 2,
    },
    postgres: {
      instanceClass: 'db.t4g.medium',
      instanceMemoryGiB: 4,
      storageGiB: 20,
      maxStorageGiB: 40,
      multiAz: false,
      readReplicas: 1,
      backupRetentionDays: 1,
      deletionProtection: false,
      performanceInsightsRetentionDays: 7,
    },
    backups: {
      enabled: false,
      dailyRetentionDays: 7,
      weeklyRetentionDays: 28,
      monthlyRetentionDays: 90,
      copyToDrRegion: false,
      vaultSnapshotSchedule: '0 3 * * *',
    },
    monitoring: {
      prometheusRetentionDays: 2,
      prometheusReplicas: 1,
      activeSeries: 50_000,
      scrapeIntervalSeconds: 30,
      alertmanagerReplicas: 1,
    },
    tracing: {
      sampleRatio: 1,
      spansPerSecond: 50,
      retentionHours: 24,
      collectorReplicas: 1,
      collector: { requests: { cpu: '50m', memory: '128Mi' }, limits: { cpu: '500m', memory: '256Mi' } },
      jaeger: { requests: { cpu: '50m', memory: '128Mi' }, limits: { cpu: '500m', memory: '512Mi' } },
    },
    logs: {
      bytesPerSecond: 20_000,
      retentionDays: 3,
      agent: { requests: { cpu: '50m', memory: '64Mi' }, limits: { cpu: '250m', memory: '192Mi' } },
      loki: { requests: { cpu: '100m', memory: '256Mi' }, limits: { cpu: '1000m', memory: '1Gi' } },
    },
    containers: SMALL_BOX_CONTAINERS,
    vault: { ha: false, replicas: 1, storageGiB: 1 },
    storage: { localGiB: 20, noncurrentVersionDays: 7, accessLogRetentionDays: 7 },
    waf: { rateLimitPer5Min: 500 },
    ingress: { controllerReplicas: 1 },
  },
  staging: {
    name: 'staging',
    scripts: { ...SCRIPT_MODELS, videoBudgetUsd: 0.05 },
    protectResources: true,
    scale: { name: 'medium', workers: 5, concurrentVideos: 15 },
    network: { vpcCidr: '10.20.0.0/16', azCount: 2, natPerAz: false },
    nodes: { instanceType: 'c6i.xlarge', vcpu: 4, memoryGiB: 8, diskGiB: 50, systemNodes: 2 },
    api: {
      replicas: 2,
      maxReplicas: 4,
      cpuTargetPercent: 70,
      ...ARCHON_API,
      rateLimitMax: 100,
      rateLimitWindowSeconds: 60,
    },
    worker: {
      minReplicas: 1,
      ...ARCHON_API,
      shutdownGraceSeconds: 300,
      jobAttempts: 3,
      jobTimeoutSeconds: 900,
      workDirGiB: 10,
      assetCacheGiB: 2,
    },
    redis: {
      nodeType: 'cache.t4g.medium',
      replicasPerShard: 1,
      multiAz: false,
      snapshotRetentionDays: 3,
      appendOnly: false,
      inClusterStorageGiB: 5,
    },
    postgres: {
      instanceClass: 'db.t4g.large',
      instanceMemoryGiB: 8,
      storageGiB: 50,
      maxStorageGiB: 200,
      multiAz: false,
      readReplicas: 1,
      backupRetentionDays: 7,
      deletionProtection: true,
      performanceInsightsRetentionDays: 7,
    },
    backups: {
      enabled: true,
      dailyRetentionDays: 7,
      weeklyRetentionDays: 28,
      monthlyRetentionDays: 90,
      copyToDrRegion: true,
      vaultSnapshotSchedule: '0 3 * * *',
    },
    monitoring: {
      prometheusRetentionDays: 7,
      prometheusReplicas: 1,
      activeSeries: 150_000,
      scrapeIntervalSeconds: 30,
      alertmanagerReplicas: 1,
    },
    tracing: {
      sampleRatio: 0.5,
      spansPerSecond: 150,
      retentionHours: 72,
      collectorReplicas: 2,
      collector: { requests: { cpu: '100m', memory: '256Mi' }, limits: { cpu: '1000m', memory: '512Mi' } },
      jaeger: { requests: { cpu: '100m', memory: '256Mi' }, limits: { cpu: '1000m', memory: '1Gi' } },
    },
    logs: {
      bytesPerSecond: 60_000,
      retentionDays: 7,
      agent: { requests: { cpu: '50m', memory: '64Mi' }, limits: { cpu: '250m', memory: '192Mi' } },
      loki: { requests: { cpu: '250m', memory: '512Mi' }, limits: { cpu: '1000m', memory: '2Gi' } },
    },
    containers: SMALL_BOX_CONTAINERS,
    vault: { ha: true, replicas: 3, storageGiB: 10 },
    storage: { localGiB: 50, noncurrentVersionDays: 30, accessLogRetentionDays: 30 },
    waf: { rateLimitPer5Min: 1000 },
    ingress: { controllerReplicas: 2 },
  },
  prod: {
    name: 'prod',
    scripts: { ...SCRIPT_MODELS, videoBudgetUsd: 0.05 },
    protectResources: true,
    scale: { name: 'high', workers: 10, concurrentVideos: 50 },
    network: { vpcCidr: '10.30.0.0/16', azCount: 3, natPerAz: true },
    nodes: { instanceType: 'c6i.xlarge', vcpu: 4, memoryGiB: 8, diskGiB: 50, systemNodes: 3 },
    api: {
      replicas: 3,
      maxReplicas: 9,
      cpuTargetPercent: 70,
      ...ORCHESTRATOR_API,
      rateLimitMax: 100,
      rateLimitWindowSeconds: 60,
    },
    worker: {
      minReplicas: 2,
      ...ORCHESTRATOR_API,
      shutdownGraceSeconds: 600,
      jobAttempts: 5,
      jobTimeoutSeconds: 1200,
      workDirGiB: 20,
      assetCacheGiB: 2,
    },
    redis: {
      nodeType: 'cache.r7g.large',
      replicasPerShard: 2,
      multiAz: true,
      snapshotRetentionDays: 7,
      appendOnly: false,
      inClusterStorageGiB: 10,
    },
    postgres: {
      instanceClass: 'db.r7g.large',
      instanceMemoryGiB: 16,
      storageGiB: 100,
      maxStorageGiB: 1000,
      multiAz: true,
      readReplicas: 2,
      backupRetentionDays: 14,
      deletionProtection: true,
      performanceInsightsRetentionDays: 31,
    },
    backups: {
      enabled: true,
      dailyRetentionDays: 14,
      weeklyRetentionDays: 56,
      monthlyRetentionDays: 365,
      copyToDrRegion: true,
      vaultSnapshotSchedule: '0 */6 * * *',
    },
    monitoring: {
      prometheusRetentionDays: 15,
      prometheusReplicas: 2,
      activeSeries: 400_000,
      scrapeIntervalSeconds: 30,
      alertmanagerReplicas: 3,
    },
    tracing: {
      sampleRatio: 0.1,
      spansPerSecond: 500,
      retentionHours: 168,
      collectorReplicas: 2,
      collector: { requests: { cpu: '200m', memory: '256Mi' }, limits: { cpu: '1000m', memory: '1Gi' } },
      jaeger: { requests: { cpu: '250m', memory: '512Mi' }, limits: { cpu: '1000m', memory: '2Gi' } },
    },
    logs: {
      bytesPerSecond: 200_000,
      retentionDays: 14,
      agent: { requests: { cpu: '100m', memory: '128Mi' }, limits: { cpu: '500m', memory: '256Mi' } },
      loki: { requests: { cpu: '500m', memory: '1Gi' }, limits: { cpu: '2000m', memory: '4Gi' } },
    },
    containers: LARGE_BOX_CONTAINERS,
    vault: { ha: true, replicas: 3, storageGiB: 20 },
    storage: { localGiB: 50, noncurrentVersionDays: 90, accessLogRetentionDays: 90 },
    waf: { rateLimitPer5Min: 2000 },
    ingress: { controllerReplicas: 2 },
  },
  enterprise: {
    name: 'enterprise',
    scripts: { ...SCRIPT_MODELS, videoBudgetUsd: 0.1 },
    protectResources: true,
    scale: { name: 'enterprise', workers: 20, concurrentVideos: 100 },
    network: { vpcCidr: '10.40.0.0/16', azCount: 3, natPerAz: true },
    nodes: { instanceType: 'c6i.2xlarge', vcpu: 8, memoryGiB: 16, diskGiB: 200, systemNodes: 3 },
    api: {
      replicas: 6,
      maxReplicas: 18,
      cpuTargetPercent: 70,
      ...ORCHESTRATOR_API,
      rateLimitMax: 300,
      rateLimitWindowSeconds: 60,
    },
    worker: {
      minReplicas: 4,
      ...ORCHESTRATOR_API,
      shutdownGraceSeconds: 600,
      jobAttempts: 5,
      jobTimeoutSeconds: 1200,
      workDirGiB: 40,
      assetCacheGiB: 2,
    },
    redis: {
      nodeType: 'cache.r7g.xlarge',
      replicasPerShard: 2,
      multiAz: true,
      snapshotRetentionDays: 14,
      appendOnly: false,
      inClusterStorageGiB: 20,
    },
    postgres: {
      instanceClass: 'db.r7g.2xlarge',
      instanceMemoryGiB: 64,
      storageGiB: 200,
      maxStorageGiB: 4000,
      multiAz: true,
      readReplicas: 3,
      backupRetentionDays: 35,
      deletionProtection: true,
      performanceInsightsRetentionDays: 731,
    },
    backups: {
      enabled: true,
      dailyRetentionDays: 35,
      weeklyRetentionDays: 91,
      monthlyRetentionDays: 730,
      copyToDrRegion: true,
      vaultSnapshotSchedule: '0 */6 * * *',
    },
    monitoring: {
      prometheusRetentionDays: 30,
      prometheusReplicas: 2,
      activeSeries: 1_000_000,
      scrapeIntervalSeconds: 30,
      alertmanagerReplicas: 3,
    },
    tracing: {
      sampleRatio: 0.05,
      spansPerSecond: 1_000,
      retentionHours: 168,
      collectorReplicas: 3,
      collector: { requests: { cpu: '250m', memory: '512Mi' }, limits: { cpu: '2000m', memory: '2Gi' } },
      jaeger: { requests: { cpu: '500m', memory: '1Gi' }, limits: { cpu: '2000m', memory: '4Gi' } },
    },
    logs: {
      bytesPerSecond: 400_000,
      retentionDays: 30,
      agent: { requests: { cpu: '100m', memory: '128Mi' }, limits: { cpu: '500m', memory: '256Mi' } },
      loki: { requests: { cpu: '1000m', memory: '2Gi' }, limits: { cpu: '4000m', memory: '8Gi' } },
    },
    containers: LARGE_BOX_CONTAINERS,
    vault: { ha: true, replicas: 5, storageGiB: 50 },
    storage: { localGiB: 200, noncurrentVersionDays: 180, accessLogRetentionDays: 365 },
    waf: { rateLimitPer5Min: 5000 },
    ingress: { controllerReplicas: 2 },
  },
};

export function tierFor(name: TierName): Tier {
  return TIERS[name];
}

/** Versions the stacks pin (one place, so upgrades are one reviewed diff). */
export const PINNED = {
  eksVersion: '1.33',
  // Major version only: RDS applies minor upgrades itself (autoMinorVersionUpgrade), and a pinned
  // minor would make a later `up` try to downgrade.
  postgresEngineVersion: '16',
  postgresParameterFamily: 'postgres16',
  redisEngineVersion: '7.1',
  redisParameterFamily: 'redis7',
  redisImage: 'redis:7.4.5-bookworm',
  charts: {
    kubePrometheusStack: {
      repo: 'https://prometheus-community.github.io/helm-charts',
      chart: 'kube-prometheus-stack',
      version: '88.5.3',
    },
    vault: { repo: 'https://helm.releases.hashicorp.com', chart: 'vault', version: '0.34.1' },
    keda: { repo: 'https://kedacore.github.io/charts', chart: 'keda', version: '2.20.2' },
    cloudnativePg: {
      repo: 'https://cloudnative-pg.github.io/charts',
      chart: 'cloudnative-pg',
      version: '0.29.0',
    },
    // Karpenter publishes its chart only to an OCI registry (pinnedChartRelease handles oci://).
    karpenter: { repo: 'oci://public.ecr.aws/karpenter', chart: 'karpenter', version: '1.14.1' },
    metricsServer: {
      repo: 'https://kubernetes-sigs.github.io/metrics-server/',
      chart: 'metrics-server',
      version: '3.13.1',
    },
    openTelemetryCollector: {
      repo: 'https://open-telemetry.github.io/opentelemetry-helm-charts',
      chart: 'opentelemetry-collector',
      version: '0.170.0',
    },
    jaeger: { repo: 'https://jaegertracing.github.io/helm-charts', chart: 'jaeger', version: '4.11.1' },
    // Loki 3.4.2. The chart's values are not in ../shared: the stacks set few of them (see
    // lokiValues in stacks/components/observability.ts).
    loki: { repo: 'https://grafana.github.io/helm-charts', chart: 'loki', version: '6.29.0' },
    awsLoadBalancerController: {
      repo: 'https://aws.github.io/eks-charts',
      chart: 'aws-load-balancer-controller',
      version: '3.5.0',
    },
  },
  /**
   * The EKS-optimized AL2023 release Karpenter launches (the alias resolves the AMI of the cluster's
   * Kubernetes version). Pinned: an `@latest` alias would roll every node onto an untested AMI.
   */
  karpenterAmiAlias: 'al2023@v20260903',
  vaultImage: 'hashicorp/vault:2.0.4',
  awsCliImage: 'amazon/aws-cli:2.31.8',
  postgresExporterImage: 'quay.io/prometheuscommunity/postgres-exporter:v0.18.1',
  /**
   * The collector distribution with the filelog receiver and the transform processor; the chart
   * has no default repository, and its tag defaults to the chart's appVersion (0.158.0).
   */
  otelCollectorRepository: 'otel/opentelemetry-collector-contrib',
  /**
   * Images of the single-node deployment (deploy/compose/), the versions the stacks run: Postgres
   * 16.8 (as cnpgPostgresImage), collector 0.158.0 (chart 0.170.0), Jaeger 2.19.0 (4.11.1),
   * kube-prometheus-stack 88.5.3's Prometheus v3.14.0 and Alertmanager v0.34.0. Grafana is pinned
   * here alone: its subchart's values (and so its default tag) are not in ../shared.
   */
  singleNodeImages: {
    postgres: 'postgres:16.8-bookworm',
    otelCollector: 'otel/opentelemetry-collector-contrib:0.158.0',
    jaeger: 'jaegertracing/jaeger:2.19.0',
    prometheus: 'prom/prometheus:v3.14.0',
    alertmanager: 'prom/alertmanager:v0.34.0',
    grafana: 'grafana/grafana:12.3.0',
  },
  redisExporterImage: 'oliver006/redis_exporter:v1.80.1',
  cnpgPostgresImage: 'ghcr.io/cloudnative-pg/postgresql:16.8-bookworm',
  /** Dev's in-cluster S3-compatible store for CloudNativePG's WAL archive and base backups. */
  minioImage: 'quay.io/minio/minio:RELEASE.2025-04-22T22-12-26Z',
} as const;
