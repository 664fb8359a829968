import type { StackConfig } from './config.js';

/** Tags every AWS resource carries (cost allocation, ownership, which stack made it). */
export function awsTags(cfg: StackConfig, component: string): Record<string, string> {
  return { project: 'archibald', stack: cfg.stack, tier: cfg.tier, component, 'managed-by': 'pulumi' };
}

interface NameRule {
  /** The AWS name it becomes, for error messages. */
  readonly service: string;
  /** The service's length limit for that name. */
  readonly max: number;
  /** S3 bucket names are global across all accounts: these carry the account ID. */
  readonly global?: boolean;
}

/**
 * Every physical name the stacks give an AWS resource, with the owning service's length limit
 * (AWS API references). physicalName() accepts only these suffixes, so a new name cannot skip the
 * length check config validation runs over this table.
 */
export const PHYSICAL_NAMES = {
  videos: { service: 'S3 bucket name', max: 63, global: true },
  'cdn-logs': { service: 'S3 bucket name', max: 63, global: true },
  'videos-replica': { service: 'S3 bucket name', max: 63, global: true },
  'vault-snapshots': { service: 'S3 bucket name', max: 63, global: true },
  cdn: { service: 'WAFv2 web ACL name', max: 128 },
  redis: { service: 'ElastiCache replication group ID', max: 40 },
  postgres: { service: 'RDS DB instance identifier', max: 63 },
  'postgres-final': { service: 'RDS DB snapshot identifier', max: 255 },
  runtime: { service: 'IAM role name', max: 64 },
  'load-balancer-controller': { service: 'IAM role name', max: 64 },
  public: { service: 'AWS Load Balancer Controller IngressGroup name', max: 63 },
  backups: { service: 'AWS Backup vault name', max: 50 },
  'backups-dr': { service: 'AWS Backup vault name', max: 50 },
  data: { service: 'AWS Backup selection name', max: 50 },
} as const satisfies Record<string, NameRule>;
export type PhysicalNameSuffix = keyof typeof PHYSICAL_NAMES;

/** What a physical name is made of: the stack name and, for global names, the account ID. */
export interface NameScope {
  readonly stack: string;
  readonly accountId: string | undefined;
}

/**
 * Physical name for an AWS resource whose name must be unique per account and region
 * (archibald-<stack>-<suffix>), or, for S3 buckets, unique worldwide (…-<account ID>).
 */
export function physicalName(scope: NameScope, suffix: PhysicalNameSuffix): string {
  const rule: NameRule = PHYSICAL_NAMES[suffix];
  if (rule.global && !scope.accountId)
    throw new Error(`${rule.service} ${suffix} needs the account ID (archibald:accountId)`);
  return rule.global
    ? `archibald-${scope.stack}-${suffix}-${scope.accountId}`
    : `archibald-${scope.stack}-${suffix}`;
}

/** Identifier of read replica i: the RDS identifier rule applies to it too. */
export function replicaIdentifier(scope: NameScope, i: number): string {
  return `${physicalName(scope, 'postgres')}-replica-${i}`;
}

/** The EKS cluster's name; subnets carry it in their kubernetes.io/cluster/<name> tag. */
export function clusterName(scope: Pick<NameScope, 'stack'>): string {
  return `archibald-${scope.stack}`;
}

/** The stack's own ECR repository (archibald/<stack>): two stacks in one account never collide. */
export function imageRepositoryName(scope: Pick<NameScope, 'stack'>): string {
  return `archibald/${scope.stack}`;
}

/** AWS names we build from the stack name: lower-case letters, digits and single hyphens. */
const STACK_NAME = /^[a-z](?:[a-z0-9]|-(?!-))*[a-z0-9]$/;

/**
 * Problems with the names an AWS stack would create, checked before anything is created: the stack
 * name's characters, and each name against its service's length limit. Empty when all fit.
 */
export function physicalNameProblems(scope: NameScope, readReplicas: number): string[] {
  if (!STACK_NAME.test(scope.stack)) {
    return [
      `the stack name "${scope.stack}" becomes part of AWS resource names: allowed: lower-case letters, digits and single hyphens, starting with a letter and not ending with a hyphen`,
    ];
  }
  const names: { name: string; rule: NameRule }[] = (Object.keys(PHYSICAL_NAMES) as PhysicalNameSuffix[]).map(
    (suffix) => ({
      name: physicalName({ ...scope, accountId: scope.accountId ?? '000000000000' }, suffix),
      rule: PHYSICAL_NAMES[suffix],
    }),
  );
  for (let i = 0; i < readReplicas; i++)
    names.push({ name: replicaIdentifier(scope, i), rule: PHYSICAL_NAMES.postgres });
  names.push({ name: clusterName(scope), rule: { service: 'EKS cluster name', max: 100 } });
  return names
    .filter(({ name, rule }) => name.length > rule.max)
    .map(
      ({ name, rule }) =>
        `the stack name "${scope.stack}" makes the ${rule.service} "${name}" ${name.length} characters long; AWS allows at most ${rule.max}: choose a stack name at most ${scope.stack.length - (name.length - rule.max)} characters long`,
    );
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
