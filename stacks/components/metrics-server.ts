import * as pulumi from '@pulumi/pulumi';
import type { StackConfig } from '../config.js';
import { pinnedChartRelease } from '../kube.js';
import type { Tier } from '../tiers.js';
import type { Cluster } from './cluster.js';

export interface MetricsServerArgs {
  readonly cfg: StackConfig;
  readonly tier: Tier;
  readonly cluster: Cluster;
  /** Namespace of the release. Default `kube-system`, where the resource metrics API usually lives. */
  readonly namespace?: string;
}

/**
 * Helm values of the pinned metrics-server chart. Two replicas with a disruption budget where the
 * API runs more than one replica (an HPA without metrics stops scaling); the kubelets' serving
 * certificates are trusted except on an existing cluster (kind, minikube, k3d), whose kubelets
 * serve self-signed certificates that metrics-server could never verify.
 */
export function metricsServerValues(cfg: StackConfig, tier: Tier): Record<string, unknown> {
  const ha = tier.api.replicas > 1;
  return {
    replicas: ha ? 2 : 1,
    ...(ha ? { podDisruptionBudget: { enabled: true, maxUnavailable: 1 } } : {}),
    args: cfg.clusterMode === 'existing' ? ['--kubelet-insecure-tls'] : [],
  };
}

/**
 * metrics-server: the resource metrics API (metrics.k8s.io) the API's HorizontalPodAutoscaler
 * reads CPU utilisation from. Neither EKS nor kind ships it; without it the HPA never scales.
 */
export class MetricsServer extends pulumi.ComponentResource {
  readonly release: pulumi.Resource;

  constructor(name: string, args: MetricsServerArgs, opts?: pulumi.ComponentResourceOptions) {
    super('archibald:metrics:MetricsServer', name, {}, opts);
    this.release = pinnedChartRelease(
      `${name}-release`,
      'metricsServer',
      {
        name: 'metrics-server',
        namespace: args.namespace ?? 'kube-system',
        values: metricsServerValues(args.cfg, args.tier),
      },
      { parent: this, provider: args.cluster.provider },
    );
    this.registerOutputs({});
  }
}
