/**
 * The guardrails as plain functions over (type, props, urn): one definition per policy, run by the
 * CrossGuard pack (policy/index.ts, what `pulumi preview --policy-pack policy` runs) and by the plan
 * command over the resources the mocks captured (stacks/plan/plan.ts). No Pulumi SDK here.
 *
 * Each validator returns its violations' messages. In a real preview an output not yet known is
 * absent from props, so a validator flags a missing input only where the program must set it.
 *
 * Enforcement per stack: policy/config/<stack>.json, in the format of
 * `pulumi preview --policy-pack-config` ({ "all": level, "<policy>": { "enforcementLevel": level } }).
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export type EnforcementLevel = 'advisory' | 'mandatory' | 'disabled';

export interface PolicyResource {
  readonly type: string;
  readonly props: Record<string, unknown>;
  readonly urn: string;
  readonly name: string;
}

export interface StackViolation {
  readonly urn: string;
  readonly message: string;
}

export interface Rule {
  readonly name: string;
  readonly description: string;
  /** When the stack's config file says nothing. */
  readonly enforcementLevel: EnforcementLevel;
  /** One resource's violations. */
  readonly resource?: (r: PolicyResource) => string[];
  /** Violations that need several resources (a bucket and its encryption/public-access blocks). */
  readonly stack?: (rs: readonly PolicyResource[]) => StackViolation[];
}

// ---- helpers ----

/** Follows a path of keys and indices through a resource's inputs; undefined where it breaks off. */
export function at(value: unknown, ...path: (string | number)[]): unknown {
  let v = value;
  for (const k of path) {
    if (v === null || typeof v !== 'object') return undefined;
    v = (v as Record<string | number, unknown>)[k];
  }
  return v;
}

const list = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
const isTrue = (v: unknown): boolean => v === true || v === 'true';

/** The stack a URN belongs to: urn:pulumi:<stack>::<project>::... */
export function stackOfUrn(urn: string): string {
  return /^urn:pulumi:([^:]+)::/.exec(urn)?.[1] ?? '';
}

// ---- Kubernetes workloads ----

const WORKLOAD_POD_SPEC: Readonly<Record<string, readonly string[]>> = {
  'kubernetes:apps/v1:Deployment': ['spec', 'template', 'spec'],
  'kubernetes:apps/v1:StatefulSet': ['spec', 'template', 'spec'],
  'kubernetes:apps/v1:DaemonSet': ['spec', 'template', 'spec'],
  'kubernetes:apps/v1:ReplicaSet': ['spec', 'template', 'spec'],
  'kubernetes:batch/v1:Job': ['spec', 'template', 'spec'],
  'kubernetes:batch/v1:CronJob': ['spec', 'jobTemplate', 'spec', 'template', 'spec'],
  'kubernetes:core/v1:Pod': ['spec'],
};

interface Container {
  readonly name: string;
  readonly image?: unknown;
  readonly resources?: { limits?: Record<string, unknown> };
  readonly securityContext?: { runAsNonRoot?: unknown; runAsUser?: unknown };
}

/** The pod spec of a workload, or undefined for other types. */
export function podSpec(type: string, props: Record<string, unknown>): Record<string, unknown> | undefined {
  const path = WORKLOAD_POD_SPEC[type];
  if (!path) return undefined;
  const spec = at(props, ...path);
  return spec !== null && typeof spec === 'object' ? (spec as Record<string, unknown>) : {};
}

function containers(spec: Record<string, unknown>): Container[] {
  return [...list(spec.initContainers), ...list(spec.containers)] as Container[];
}

export function containerLimits(r: PolicyResource): string[] {
  const spec = podSpec(r.type, r.props);
  if (!spec) return [];
  return containers(spec).flatMap((c) => {
    const missing = ['cpu', 'memory'].filter((k) => c.resources?.limits?.[k] === undefined);
    return missing.length > 0 ? [`container "${c.name}" has no ${missing.join(' or ')} limit`] : [];
  });
}

export function nonRootUser(r: PolicyResource): string[] {
  const spec = podSpec(r.type, r.props);
  if (!spec) return [];
  const pod = (spec.securityContext ?? {}) as { runAsNonRoot?: unknown; runAsUser?: unknown };
  return containers(spec).flatMap((c) => {
    const user = c.securityContext?.runAsUser ?? pod.runAsUser;
    const nonRoot = c.securityContext?.runAsNonRoot ?? pod.runAsNonRoot;
    if (user === 0 || user === '0') return [`container "${c.name}" runs as root (runAsUser 0)`];
    if (isTrue(nonRoot) || (typeof user === 'number' && user > 0)) return [];
    return [`container "${c.name}" may run as root: set runAsNonRoot: true or a runAsUser other than 0`];
  });
}

/** An image reference pinned to a tag other than latest, or to a digest. */
export function imagePinned(image: string): boolean {
  if (image.includes('@sha256:')) return true;
  const lastSegment = image.slice(image.lastIndexOf('/') + 1);
  const colon = lastSegment.lastIndexOf(':');
  if (colon < 0) return false;
  return lastSegment.slice(colon + 1) !== 'latest';
}

export function noLatestImage(r: PolicyResource): string[] {
  const spec = podSpec(r.type, r.props);
  if (!spec) return [];
  return containers(spec).flatMap((c) =>
    typeof c.image === 'string' && !imagePinned(c.image)
      ? [`container "${c.name}" image "${c.image}" is untagged or :latest: pin a tag or a digest`]
      : [],
  );
}

// ---- AWS ----

export function rdsEncrypted(r: PolicyResource): string[] {
  if (r.type !== 'aws:rds/instance:Instance') return [];
  return isTrue(r.props.storageEncrypted) ? [] : ['storage is not encrypted (storageEncrypted: true)'];
}

/** Deletion protection on every instance; automated backups kept 7 days or more on a primary. */
export function rdsDeletionProtectionAndBackups(r: PolicyResource): string[] {
  if (r.type !== 'aws:rds/instance:Instance') return [];
  const out: string[] = [];
  if (!isTrue(r.props.deletionProtection)) out.push('deletionProtection is off');
  if (!r.props.replicateSourceDb) {
    const days = Number(r.props.backupRetentionPeriod ?? 0);
    if (!(days >= 7)) out.push(`automated backups kept ${days} days (at least 7)`);
    if (r.props.skipFinalSnapshot === true) out.push('skipFinalSnapshot is on: a delete keeps no snapshot');
  }
  return out;
}

export function elasticacheEncrypted(r: PolicyResource): string[] {
  if (r.type !== 'aws:elasticache/replicationGroup:ReplicationGroup') return [];
  const out: string[] = [];
  if (!isTrue(r.props.atRestEncryptionEnabled)) out.push('at-rest encryption is off');
  if (!isTrue(r.props.transitEncryptionEnabled)) out.push('in-transit encryption is off');
  return out;
}

export function dataStoresMultiAz(r: PolicyResource): string[] {
  if (r.type === 'aws:rds/instance:Instance' && !r.props.replicateSourceDb)
    return isTrue(r.props.multiAz) ? [] : ['the primary is Single-AZ (multiAz: true)'];
  if (r.type === 'aws:elasticache/replicationGroup:ReplicationGroup') {
    const out: string[] = [];
    if (!isTrue(r.props.multiAzEnabled)) out.push('multiAzEnabled is off');
    if (!isTrue(r.props.automaticFailoverEnabled)) out.push('automaticFailoverEnabled is off');
    return out;
  }
  return [];
}

export function eksEndpointRestricted(r: PolicyResource): string[] {
  if (r.type !== 'aws:eks/cluster:Cluster') return [];
  const vpc = (r.props.vpcConfig ?? {}) as { endpointPublicAccess?: unknown; publicAccessCidrs?: unknown };
  if (vpc.endpointPublicAccess === false || vpc.endpointPublicAccess === 'false') return [];
  const cidrs = list(vpc.publicAccessCidrs).map(String);
  if (cidrs.length === 0) return ['the API endpoint is public and open to 0.0.0.0/0 (no publicAccessCidrs)'];
  return cidrs.includes('0.0.0.0/0') ? ['the API endpoint is public and open to 0.0.0.0/0'] : [];
}

export function imdsV2(r: PolicyResource): string[] {
  let tokens: unknown;
  if (r.type === 'aws:ec2/launchTemplate:LaunchTemplate' || r.type === 'aws:ec2/instance:Instance')
    tokens = at(r.props, 'metadataOptions', 'httpTokens');
  else if (r.type === 'kubernetes:karpenter.k8s.aws/v1:EC2NodeClass')
    tokens = at(r.props, 'spec', 'metadataOptions', 'httpTokens');
  else return [];
  return tokens === 'required'
    ? []
    : [`IMDSv1 allowed (metadataOptions.httpTokens is ${String(tokens ?? 'unset')}, not required)`];
}

/** The tags naming.ts puts on every AWS resource. */
export const REQUIRED_TAGS = ['project', 'stack', 'managed-by', 'component'] as const;

/** Types that hold data, cost money or guard access: each is tagged. */
const TAGGED_TYPES = new Set([
  'aws:ec2/vpc:Vpc',
  'aws:ec2/subnet:Subnet',
  'aws:ec2/natGateway:NatGateway',
  'aws:ec2/eip:Eip',
  'aws:eks/cluster:Cluster',
  'aws:eks/nodeGroup:NodeGroup',
  'aws:rds/instance:Instance',
  'aws:elasticache/replicationGroup:ReplicationGroup',
  'aws:s3/bucket:Bucket',
  'aws:kms/key:Key',
  'aws:backup/vault:Vault',
  'aws:cloudfront/distribution:Distribution',
  'aws:wafv2/webAcl:WebAcl',
  'aws:cloudwatch/logGroup:LogGroup',
]);

export function requiredTags(r: PolicyResource): string[] {
  if (!TAGGED_TYPES.has(r.type)) return [];
  const tags = (r.props.tags ?? {}) as Record<string, unknown>;
  const missing = REQUIRED_TAGS.filter((t) => typeof tags[t] !== 'string' || tags[t] === '');
  return missing.length > 0 ? [`missing tags: ${missing.join(', ')}`] : [];
}

/**
 * Every bucket has server-side encryption by default and a public access block with all four
 * settings on (matched by bucket name, or by resource name where the name is not known yet), and
 * no public canned ACL.
 */
export function s3EncryptedAndPrivate(rs: readonly PolicyResource[]): StackViolation[] {
  const companions = (type: string, bucket: PolicyResource): PolicyResource[] =>
    rs.filter(
      (x) =>
        x.type === type &&
        ((bucket.props.bucket !== undefined && x.props.bucket === bucket.props.bucket) ||
          x.name === bucket.name),
    );
  return rs
    .filter((r) => r.type === 'aws:s3/bucket:Bucket')
    .flatMap((b) => {
      const out: string[] = [];
      const sse = companions(
        'aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration',
        b,
      );
      if (
        !sse.some((s) =>
          list(s.props.rules).some((rule) => at(rule, 'applyServerSideEncryptionByDefault', 'sseAlgorithm')),
        )
      )
        out.push('no default server-side encryption (BucketServerSideEncryptionConfiguration)');
      const blocks = companions('aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock', b);
      const keys = ['blockPublicAcls', 'blockPublicPolicy', 'ignorePublicAcls', 'restrictPublicBuckets'];
      if (!blocks.some((p) => keys.every((k) => isTrue(p.props[k]))))
        out.push('no public access block with all four settings on (BucketPublicAccessBlock)');
      const acl = String(b.props.acl ?? '');
      if (acl.startsWith('public-')) out.push(`public ACL ${acl}`);
      for (const a of rs.filter(
        (x) => x.type === 'aws:s3/bucketAclV2:BucketAclV2' || x.type === 'aws:s3/bucketAcl:BucketAcl',
      ))
        if (a.props.bucket === b.props.bucket && String(a.props.acl ?? '').startsWith('public-'))
          out.push(`public ACL ${String(a.props.acl)}`);
      return out.map((message) => ({ urn: b.urn, message }));
    });
}

// ---- the pack ----

export const RULES: readonly Rule[] = [
  {
    name: 's3-encrypted-and-private',
    description: 'S3 buckets are encrypted by default and block every kind of public access.',
    enforcementLevel: 'mandatory',
    stack: s3EncryptedAndPrivate,
  },
  {
    name: 'rds-encrypted',
    description: 'RDS instances encrypt their storage.',
    enforcementLevel: 'mandatory',
    resource: rdsEncrypted,
  },
  {
    name: 'elasticache-encrypted',
    description: 'ElastiCache replication groups encrypt at rest and in transit.',
    enforcementLevel: 'mandatory',
    resource: elasticacheEncrypted,
  },
  {
    name: 'rds-deletion-protection-and-backups',
    description: 'RDS instances have deletion protection; primaries keep automated backups 7 days or more.',
    enforcementLevel: 'mandatory',
    resource: rdsDeletionProtectionAndBackups,
  },
  {
    name: 'data-stores-multi-az',
    description: 'The RDS primary and the ElastiCache group span availability zones with automatic failover.',
    enforcementLevel: 'mandatory',
    resource: dataStoresMultiAz,
  },
  {
    name: 'eks-endpoint-restricted',
    description: 'A public EKS API endpoint is restricted to listed CIDRs, never 0.0.0.0/0.',
    enforcementLevel: 'mandatory',
    resource: eksEndpointRestricted,
  },
  {
    name: 'imdsv2-required',
    description: 'Nodes (launch templates, Karpenter EC2NodeClasses) require IMDSv2 tokens.',
    enforcementLevel: 'mandatory',
    resource: imdsV2,
  },
  {
    name: 'required-tags',
    description: `AWS resources that hold data, cost money or guard access carry the tags ${REQUIRED_TAGS.join(', ')}.`,
    enforcementLevel: 'mandatory',
    resource: requiredTags,
  },
  {
    name: 'container-limits',
    description: 'Every container of a Kubernetes workload has CPU and memory limits.',
    enforcementLevel: 'mandatory',
    resource: containerLimits,
  },
  {
    name: 'non-root-containers',
    description: 'Every container runs as a non-root user (runAsNonRoot, or a runAsUser other than 0).',
    enforcementLevel: 'mandatory',
    resource: nonRootUser,
  },
  {
    name: 'no-latest-images',
    description: 'Container images are pinned to a tag other than latest, or a digest.',
    enforcementLevel: 'mandatory',
    resource: noLatestImage,
  },
];

// ---- per-stack configuration ----

export type PolicyConfig = Readonly<Record<string, EnforcementLevel>>;

/** The path of a stack's policy config in a checkout. */
export const policyConfigPath = (root: string, stack: string): string =>
  join(root, 'policy', 'config', `${stack}.json`);

/**
 * Each rule's level for a stack from its config file (the --policy-pack-config format): a rule's
 * own entry, else "all", else the rule's default.
 */
export function enforcementLevels(config: unknown): PolicyConfig {
  const doc = (config ?? {}) as Record<string, unknown>;
  const level = (v: unknown): EnforcementLevel | undefined => {
    const l = typeof v === 'string' ? v : at(v, 'enforcementLevel');
    return l === 'advisory' || l === 'mandatory' || l === 'disabled' ? l : undefined;
  };
  const all = level(doc.all);
  return Object.fromEntries(RULES.map((r) => [r.name, level(doc[r.name]) ?? all ?? r.enforcementLevel]));
}

export function loadPolicyConfig(root: string, stack: string): PolicyConfig {
  const file = policyConfigPath(root, stack);
  return enforcementLevels(existsSync(file) ? JSON.parse(readFileSync(file, 'utf8')) : {});
}

export interface PolicyViolation {
  readonly policy: string;
  readonly level: Exclude<EnforcementLevel, 'disabled'>;
  readonly urn: string;
  readonly type: string;
  readonly name: string;
  readonly message: string;
}

export interface PolicyReport {
  readonly pack: 'archibald';
  /** The config the levels came from (relative to the checkout), or null for the defaults. */
  readonly config: string | null;
  readonly levels: PolicyConfig;
  readonly violations: readonly PolicyViolation[];
  readonly mandatory: number;
  readonly advisory: number;
}

/** Runs every rule over a stack's resources at the stack's levels. */
export function runRules(resources: readonly PolicyResource[], levels: PolicyConfig): PolicyViolation[] {
  const byUrn = new Map(resources.map((r) => [r.urn, r]));
  const out: PolicyViolation[] = [];
  for (const rule of RULES) {
    const level = levels[rule.name] ?? rule.enforcementLevel;
    if (level === 'disabled') continue;
    const add = (r: PolicyResource | undefined, urn: string, message: string): void => {
      out.push({ policy: rule.name, level, urn, type: r?.type ?? '', name: r?.name ?? '', message });
    };
    if (rule.resource) for (const r of resources) for (const m of rule.resource(r)) add(r, r.urn, m);
    if (rule.stack) for (const v of rule.stack(resources)) add(byUrn.get(v.urn), v.urn, v.message);
  }
  return out;
}

/** The plan's policy check: the head's resources (inputs as props) against the stack's config. */
export function checkPolicies(
  stack: string,
  resources: readonly { type: string; urn: string; name: string; inputs: Record<string, unknown> }[],
  root: string,
): PolicyReport {
  const levels = loadPolicyConfig(root, stack);
  const violations = runRules(
    resources.map((r) => ({ type: r.type, urn: r.urn, name: r.name, props: r.inputs })),
    levels,
  );
  return {
    pack: 'archibald',
    config: existsSync(policyConfigPath(root, stack)) ? `policy/config/${stack}.json` : null,
    levels,
    violations,
    mandatory: violations.filter((v) => v.level === 'mandatory').length,
    advisory: violations.filter((v) => v.level === 'advisory').length,
  };
}
