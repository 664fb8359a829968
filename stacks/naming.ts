import type { StackConfig } from './config.js';

/** Tags every AWS resource carries (cost allocation, ownership, which stack made it). */
export function awsTags(cfg: StackConfig, component: string): Record<string, string> {
  return { project: 'archibald', stack: cfg.stack, tier: cfg.tier, component, 'managed-by': 'pulumi' };
}

/** Physical-name prefix for AWS resources whose names must be unique per account/region. */
export function physicalName(cfg: StackConfig, suffix: string): string {
  return `archibald-${cfg.stack}-${suffix}`;
}

/** Standard Kubernetes labels for the runtime's objects. */
export function appLabels(component: string): Record<string, string> {
  return {
    'app.kubernetes.io/name': 'archibald',
    'app.kubernetes.io/component': component,
    'app.kubernetes.io/part-of': 'archibald',
    'app.kubernetes.io/managed-by': 'pulumi',
  };
}

/** The subset of appLabels that selects pods (stable across upgrades). */
export function selectorLabels(component: string): Record<string, string> {
  return { 'app.kubernetes.io/name': 'archibald', 'app.kubernetes.io/component': component };
}

/** The EKS cluster's name; subnets carry it in their kubernetes.io/cluster/<name> tag. */
export function clusterName(cfg: StackConfig): string {
  return `archibald-${cfg.stack}`;
}
