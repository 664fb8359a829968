/**
 * A stack evaluation reduced to what planning needs: each resource with its component, its
 * options that matter to a diff (protect, aliases, ignoreChanges, replaceOnChanges, provider), its
 * inputs with secrets masked, and its key inputs for the listing. Pure: no Pulumi runtime here.
 *
 * Secret inputs (Pulumi secret Outputs, and a Kubernetes Secret's data) never leave the snapshot as
 * values: each is replaced by a keyed digest, so a change of secret is still seen as a change, and
 * is printed as `[secret]`.
 */
import { createHmac } from 'node:crypto';
import type { RegisteredResource } from './evaluate.js';

export interface PlannedResource {
  readonly urn: string;
  readonly type: string;
  readonly name: string;
  readonly custom: boolean;
  /** URN of the nearest ComponentResource ancestor ('' at the stack root). */
  readonly component: string;
  readonly protect: boolean;
  readonly retainOnDelete: boolean;
  readonly aliases: readonly string[];
  readonly ignoreChanges: readonly string[];
  readonly replaceOnChanges: readonly string[];
  /** URN of the explicit provider ('' for the default provider or a component). */
  readonly provider: string;
  /** Inputs with every secret replaced by `[secret:<digest>]`. */
  readonly inputs: Record<string, unknown>;
}

export interface StackSnapshot {
  readonly stack: string;
  readonly resources: readonly PlannedResource[];
  readonly evaluationMs: number;
}

const SECRET_MARK = /^\[secret:[0-9a-f]+\]$/;

export const isMaskedSecret = (v: unknown): boolean => typeof v === 'string' && SECRET_MARK.test(v);

/** How a value is shown: masked secrets as `[secret]`, everything else as it is. */
export function shown(v: unknown): unknown {
  if (isMaskedSecret(v)) return '[secret]';
  if (Array.isArray(v)) return v.map(shown);
  if (v !== null && typeof v === 'object')
    return Object.fromEntries(Object.entries(v as Record<string, unknown>).map(([k, x]) => [k, shown(x)]));
  return v;
}

/** Inputs that are secret whether or not the program marked them (pulumi-kubernetes treats them so). */
const ALWAYS_SECRET: Readonly<Record<string, readonly string[]>> = {
  'kubernetes:core/v1:Secret': ['data', 'stringData'],
};

function mask(value: unknown, key: string): string {
  return `[secret:${createHmac('sha256', key)
    .update(JSON.stringify(value ?? null))
    .digest('hex')
    .slice(0, 16)}]`;
}

function maskAt(obj: Record<string, unknown>, path: readonly string[], key: string): Record<string, unknown> {
  const [head, ...rest] = path;
  if (head === undefined || !(head in obj)) return obj;
  const value = obj[head];
  if (rest.length === 0) return { ...obj, [head]: mask(value, key) };
  if (value === null || typeof value !== 'object') return { ...obj, [head]: mask(value, key) };
  if (Array.isArray(value)) {
    const asObject = Object.fromEntries(value.map((v, i) => [String(i), v]));
    const masked = maskAt(asObject, rest, key);
    return { ...obj, [head]: value.map((_, i) => masked[String(i)]) };
  }
  return { ...obj, [head]: maskAt(value as Record<string, unknown>, rest, key) };
}

/**
 * `secretKey` keys the digests; the base and head evaluations of one plan share it (so equal
 * secrets compare equal) and it is never printed.
 */
export function snapshotResources(
  resources: readonly RegisteredResource[],
  secretKey: string,
): PlannedResource[] {
  const byUrn = new Map(resources.map((r) => [r.urn, r]));
  const componentOf = (r: RegisteredResource): string => {
    let parent = byUrn.get(r.parent);
    while (parent && parent.custom) parent = byUrn.get(parent.parent);
    return parent?.urn ?? '';
  };
  return resources.map((r) => {
    let inputs = r.inputs;
    const paths = [...r.secretPaths, ...(ALWAYS_SECRET[r.type] ?? [])];
    for (const path of paths) {
      if (path === '(root)') {
        inputs = { '(root)': mask(inputs, secretKey) };
        break;
      }
      inputs = maskAt(inputs, path.split('.'), secretKey);
    }
    return {
      urn: r.urn,
      type: r.type,
      name: r.name,
      custom: r.custom,
      component: componentOf(r),
      protect: r.protect,
      retainOnDelete: r.retainOnDelete,
      aliases: r.aliases,
      ignoreChanges: r.ignoreChanges,
      replaceOnChanges: r.replaceOnChanges,
      provider: r.provider ? r.provider.slice(0, r.provider.lastIndexOf('::')) : '',
      inputs,
    };
  });
}

/** The inputs a reviewer looks at first, per type (dotted paths; `*` spans an array). */
const KEY_INPUTS: Readonly<Record<string, readonly string[]>> = {
  'pulumi:providers:aws': ['region'],
  'aws:rds/instance:Instance': [
    'identifier',
    'engine',
    'engineVersion',
    'instanceClass',
    'allocatedStorage',
    'multiAz',
    'replicateSourceDb',
    'deletionProtection',
    'backupRetentionPeriod',
  ],
  'aws:elasticache/replicationGroup:ReplicationGroup': [
    'replicationGroupId',
    'engine',
    'engineVersion',
    'nodeType',
    'numNodeGroups',
    'replicasPerNodeGroup',
    'multiAzEnabled',
  ],
  'aws:s3/bucket:Bucket': ['bucket', 'forceDestroy'],
  'aws:eks/cluster:Cluster': [
    'name',
    'version',
    'vpcConfig.endpointPublicAccess',
    'vpcConfig.publicAccessCidrs',
  ],
  'aws:eks/nodeGroup:NodeGroup': ['nodeGroupName', 'instanceTypes', 'scalingConfig'],
  'aws:kms/key:Key': ['description', 'enableKeyRotation', 'deletionWindowInDays'],
  'aws:backup/vault:Vault': ['name'],
  'aws:backup/plan:Plan': ['name'],
  'aws:ec2/vpc:Vpc': ['cidrBlock'],
  'aws:ec2/subnet:Subnet': ['cidrBlock', 'availabilityZone'],
  'aws:cloudfront/distribution:Distribution': ['aliases', 'priceClass', 'enabled'],
  'kubernetes:helm.sh/v3:Release': ['chart', 'version', 'namespace'],
  'kubernetes:apps/v1:Deployment': [
    'metadata.namespace',
    'metadata.name',
    'spec.replicas',
    'spec.template.spec.containers.*.image',
  ],
  'kubernetes:apps/v1:StatefulSet': [
    'metadata.namespace',
    'metadata.name',
    'spec.replicas',
    'spec.template.spec.containers.*.image',
  ],
  'kubernetes:core/v1:PersistentVolumeClaim': [
    'metadata.namespace',
    'metadata.name',
    'spec.storageClassName',
    'spec.resources.requests.storage',
  ],
};

const NAME_INPUTS = ['name', 'identifier', 'bucket', 'replicationGroupId', 'clusterName', 'domainName'];

/** Values at a dotted path; `*` fans out over an array or object. */
export function valuesAt(value: unknown, path: readonly string[]): unknown[] {
  if (path.length === 0) return value === undefined ? [] : [value];
  if (value === null || typeof value !== 'object') return [];
  const [head, ...rest] = path as [string, ...string[]];
  if (head === '*') return Object.values(value as object).flatMap((v: unknown) => valuesAt(v, rest));
  return valuesAt((value as Record<string, unknown>)[head], rest);
}

function brief(v: unknown): unknown {
  const s = shown(v);
  const text = typeof s === 'string' ? s : JSON.stringify(s);
  return text.length > 80 ? `${text.slice(0, 77)}...` : s;
}

/** A resource's key inputs, masked and shortened, for the listing. */
export function keyInputs(r: PlannedResource): Record<string, unknown> {
  let paths = KEY_INPUTS[r.type];
  if (!paths) {
    if (r.type.startsWith('kubernetes:')) paths = ['metadata.namespace', 'metadata.name'];
    else paths = NAME_INPUTS.filter((k) => r.inputs[k] !== undefined);
  }
  const out: Record<string, unknown> = {};
  for (const path of paths) {
    const found = valuesAt(r.inputs, path.split('.'));
    if (found.length === 0) continue;
    out[path] = brief(path.includes('*') ? found : found[0]);
  }
  return out;
}
