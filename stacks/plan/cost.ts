/**
 * Monthly cost estimate of an evaluated stack from the price table kept in the repository
 * (stacks/pricing/aws-<region>.json: each figure with its source and as-of date, plus the usage it
 * assumes where the program says nothing, e.g. GB stored in a bucket).
 *
 * Pure functions: each resource's cost is a function of its inputs and the table, tested without
 * mocks. The plan prices the head with the head's table and the base with the base's table, so a
 * price change in the table moves the delta like a change in the program does.
 *
 * Counted: EKS control plane, managed node group instances and their root volumes, the Karpenter
 * NodePool at the nodes the program expects at rest (its archibald.io/expected-* annotations, from
 * the tier table), NAT gateways (hours + assumed GB processed), public IPv4 (EIPs), RDS instances
 * (class × hours, ×2 Multi-AZ; gp3 storage, ×2 Multi-AZ; replicas at the primary's storage),
 * ElastiCache nodes (node type × shards × (1 + replicas)), the ALB an internet-facing Ingress
 * group makes, S3 buckets and CloudFront (assumed usage), WAF web ACL + rules, KMS keys, AWS Backup
 * storage (the selected databases' storage per vault copy), CloudWatch log groups (assumed
 * ingestion), PVCs on EKS (gp3). Not counted: data transfer beyond the assumptions, requests, IAM,
 * ACM, SQS at idle, anything on a local kind cluster (dev).
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { at } from '../../policy/rules.js';

export interface Price {
  readonly usd?: number;
  readonly byType?: Readonly<Record<string, number>>;
  readonly unit: string;
  readonly source: string;
}

export interface PriceTable {
  readonly region: string;
  readonly currency: 'USD';
  readonly hoursPerMonth: number;
  readonly asOf: string;
  readonly prices: Readonly<Record<string, Price>>;
  readonly usage: Readonly<Record<string, number | string>>;
}

/** A resource as the plan has it (PlannedResource fits). */
export interface CostedResource {
  readonly urn: string;
  readonly type: string;
  readonly name: string;
  readonly inputs: Record<string, unknown>;
  /** URN of the explicit provider ('' for the default one). */
  readonly provider?: string;
}

export interface CostLine {
  readonly urn: string;
  readonly type: string;
  readonly name: string;
  /** What is priced, e.g. "db.r7g.large Multi-AZ, 730 h". */
  readonly item: string;
  readonly monthlyUsd: number;
  /** Price-table keys used. */
  readonly prices: readonly string[];
}

export interface StackCost {
  readonly region: string;
  readonly asOf: string;
  readonly monthlyUsd: number;
  readonly lines: readonly CostLine[];
  /** Instance/node types met that the table has no price for (priced at 0: add them). */
  readonly unpriced: readonly string[];
}

export class PriceError extends Error {
  override readonly name = 'PriceError';
}

/** The table for `region` in a checkout (its stacks/pricing/aws-<region>.json). */
export function loadPriceTable(root: string, region: string): PriceTable | null {
  const file = join(root, 'stacks', 'pricing', `aws-${region}.json`);
  if (!existsSync(file)) return null;
  return JSON.parse(readFileSync(file, 'utf8')) as PriceTable;
}

const round2 = (n: number): number => Math.round(n * 100) / 100;

function flat(table: PriceTable, key: string): number {
  const p = table.prices[key];
  if (p?.usd === undefined) throw new PriceError(`price table ${table.region}: no flat price "${key}"`);
  return p.usd;
}

/** A per-type price, or undefined when the table does not list the type. */
function typed(table: PriceTable, key: string, type: string): number | undefined {
  return table.prices[key]?.byType?.[type];
}

function usage(table: PriceTable, key: string): number {
  const v = table.usage[key];
  return typeof v === 'number' ? v : 0;
}

// ---- per-resource pure functions (inputs → monthly USD) ----

export function eksClusterMonthly(table: PriceTable): number {
  return flat(table, 'eks.clusterHour') * table.hoursPerMonth;
}

/** `nodes` instances of `instanceType` with a `rootGb` gp3 root volume each. */
export function instancesMonthly(
  table: PriceTable,
  instanceType: string,
  nodes: number,
  rootGb: number,
): { monthlyUsd: number; priced: boolean } {
  const hour = typed(table, 'ec2.instanceHour', instanceType);
  const compute = (hour ?? 0) * table.hoursPerMonth * nodes;
  const disks = flat(table, 'ebs.gp3GbMonth') * rootGb * nodes;
  return { monthlyUsd: compute + disks, priced: hour !== undefined };
}

export interface RdsShape {
  readonly instanceClass: string;
  readonly allocatedStorageGb: number;
  readonly multiAz: boolean;
}

export function rdsInstanceMonthly(table: PriceTable, db: RdsShape): { monthlyUsd: number; priced: boolean } {
  const hour = typed(table, 'rds.postgresInstanceHour', db.instanceClass);
  const copies = db.multiAz ? 2 : 1;
  const compute = (hour ?? 0) * table.hoursPerMonth * copies;
  const storage = flat(table, 'rds.gp3GbMonth') * db.allocatedStorageGb * copies;
  return { monthlyUsd: compute + storage, priced: hour !== undefined };
}

export function elasticacheMonthly(
  table: PriceTable,
  nodeType: string,
  nodes: number,
): { monthlyUsd: number; priced: boolean } {
  const hour = typed(table, 'elasticache.nodeHour', nodeType);
  return { monthlyUsd: (hour ?? 0) * table.hoursPerMonth * nodes, priced: hour !== undefined };
}

export function natGatewayMonthly(table: PriceTable): number {
  return (
    flat(table, 'vpc.natGatewayHour') * table.hoursPerMonth +
    flat(table, 'vpc.natGatewayGb') * usage(table, 'natGbProcessedPerGateway')
  );
}

export function wafMonthly(table: PriceTable, rules: number): number {
  return (
    flat(table, 'waf.webAclMonth') +
    flat(table, 'waf.ruleMonth') * rules +
    flat(table, 'waf.millionRequests') * usage(table, 'wafMillionRequests')
  );
}

/** Kubernetes quantity ("50Gi", "100G", "512Mi") in GB (GiB counted as GB: the table's precision). */
export function quantityGb(q: unknown): number {
  if (typeof q === 'number') return q / 1e9;
  if (typeof q !== 'string') return 0;
  const m = /^(\d+(?:\.\d+)?)(Ki|Mi|Gi|Ti|K|M|G|T)?$/.exec(q.trim());
  if (!m) return 0;
  const n = Number(m[1]);
  const unit = m[2] ?? '';
  const factor: Record<string, number> = {
    '': 1e-9,
    K: 1e-6,
    Ki: 1 / (1024 * 1024),
    M: 1e-3,
    Mi: 1 / 1024,
    G: 1,
    Gi: 1,
    T: 1000,
    Ti: 1024,
  };
  return n * (factor[unit] ?? 0);
}

// ---- the stack ----

const num = (v: unknown, fallback = 0): number => {
  const n = typeof v === 'string' ? Number(v) : v;
  return typeof n === 'number' && Number.isFinite(n) ? n : fallback;
};

/** EKS's default root volume when neither a launch template nor diskSize says (GB). */
const EKS_DEFAULT_DISK_GB = 20;

/** Prices every resource of one stack. */
export function stackCost(resources: readonly CostedResource[], table: PriceTable): StackCost {
  const lines: CostLine[] = [];
  const unpriced = new Set<string>();
  const h = table.hoursPerMonth;
  const line = (r: CostedResource, item: string, usd: number, prices: string[]): void => {
    if (usd > 0 || prices.length > 0)
      lines.push({ urn: r.urn, type: r.type, name: r.name, item, monthlyUsd: usd, prices });
  };
  const onEks = resources.some((r) => r.type === 'aws:eks/cluster:Cluster');
  const launchTemplateGb =
    num(
      at(
        resources.find((r) => r.type === 'aws:ec2/launchTemplate:LaunchTemplate')?.inputs,
        'blockDeviceMappings',
        0,
        'ebs',
        'volumeSize',
      ),
    ) || undefined;
  const primaries = new Map<string, number>();
  for (const r of resources)
    if (r.type === 'aws:rds/instance:Instance' && !r.inputs.replicateSourceDb)
      primaries.set(String(r.inputs.identifier ?? r.name), num(r.inputs.allocatedStorage));

  for (const r of resources) {
    const i = r.inputs;
    switch (r.type) {
      case 'aws:eks/cluster:Cluster':
        line(r, `EKS control plane, ${h} h`, eksClusterMonthly(table), ['eks.clusterHour']);
        break;
      case 'aws:eks/nodeGroup:NodeGroup': {
        const type = String(at(i, 'instanceTypes', 0) ?? '');
        const nodes = num(at(i, 'scalingConfig', 'desiredSize'), 1);
        const disk = num(i.diskSize) || launchTemplateGb || EKS_DEFAULT_DISK_GB;
        const c = instancesMonthly(table, type, nodes, disk);
        if (!c.priced) unpriced.add(`ec2 ${type}`);
        line(r, `${nodes} × ${type} (system nodes) + ${disk} GB gp3 each`, c.monthlyUsd, [
          'ec2.instanceHour',
          'ebs.gp3GbMonth',
        ]);
        break;
      }
      case 'kubernetes:karpenter.sh/v1:NodePool': {
        const annotations = (at(i, 'metadata', 'annotations') ?? {}) as Record<string, unknown>;
        const type = String(annotations['archibald.io/expected-instance-type'] ?? '');
        const nodes = num(annotations['archibald.io/expected-nodes']);
        if (!type || nodes === 0) break;
        const nodeClass = resources.find((x) => x.type === 'kubernetes:karpenter.k8s.aws/v1:EC2NodeClass');
        const disk = quantityGb(at(nodeClass?.inputs, 'spec', 'blockDeviceMappings', 0, 'ebs', 'volumeSize'));
        const c = instancesMonthly(table, type, nodes, disk);
        if (!c.priced) unpriced.add(`ec2 ${type}`);
        line(r, `${nodes} × ${type} at rest (Karpenter) + ${disk} GB gp3 each`, c.monthlyUsd, [
          'ec2.instanceHour',
          'ebs.gp3GbMonth',
        ]);
        break;
      }
      case 'aws:ec2/natGateway:NatGateway':
        line(
          r,
          `NAT gateway, ${h} h + ${usage(table, 'natGbProcessedPerGateway')} GB (assumed)`,
          natGatewayMonthly(table),
          ['vpc.natGatewayHour', 'vpc.natGatewayGb'],
        );
        break;
      case 'aws:ec2/eip:Eip':
        line(r, `public IPv4, ${h} h`, flat(table, 'vpc.publicIpv4Hour') * h, ['vpc.publicIpv4Hour']);
        break;
      case 'aws:rds/instance:Instance': {
        const replicaOf = i.replicateSourceDb ? String(i.replicateSourceDb) : undefined;
        const shape: RdsShape = {
          instanceClass: String(i.instanceClass ?? ''),
          allocatedStorageGb: num(i.allocatedStorage) || (replicaOf ? (primaries.get(replicaOf) ?? 0) : 0),
          multiAz: i.multiAz === true,
        };
        const c = rdsInstanceMonthly(table, shape);
        if (!c.priced) unpriced.add(`rds ${shape.instanceClass}`);
        line(
          r,
          `${shape.instanceClass}${shape.multiAz ? ' Multi-AZ' : ''}${replicaOf ? ' read replica' : ''} + ${shape.allocatedStorageGb} GB gp3`,
          c.monthlyUsd,
          ['rds.postgresInstanceHour', 'rds.gp3GbMonth'],
        );
        break;
      }
      case 'aws:elasticache/replicationGroup:ReplicationGroup': {
        const type = String(i.nodeType ?? '');
        const nodes =
          i.numCacheClusters !== undefined
            ? num(i.numCacheClusters, 1)
            : num(i.numNodeGroups, 1) * (1 + num(i.replicasPerNodeGroup));
        const c = elasticacheMonthly(table, type, nodes);
        if (!c.priced) unpriced.add(`elasticache ${type}`);
        line(r, `${nodes} × ${type}`, c.monthlyUsd, ['elasticache.nodeHour']);
        break;
      }
      case 'kubernetes:networking.k8s.io/v1:Ingress': {
        const annotations = (at(i, 'metadata', 'annotations') ?? {}) as Record<string, unknown>;
        const isAlb =
          at(i, 'spec', 'ingressClassName') === 'alb' ||
          Object.keys(annotations).some((k) => k.startsWith('alb.ingress.kubernetes.io/'));
        if (!isAlb) break;
        // One ALB per ingress group; a later Ingress of the same group adds none.
        const group = annotations['alb.ingress.kubernetes.io/group.name'];
        if (
          group !== undefined &&
          lines.some((l) => l.type === r.type && l.item.endsWith(`group ${String(group)}`))
        )
          break;
        const lcu = usage(table, 'albLcu');
        line(
          r,
          `ALB, ${h} h + ${lcu} LCU (assumed)${group !== undefined ? `, group ${String(group)}` : ''}`,
          (flat(table, 'elb.albHour') + flat(table, 'elb.lcuHour') * lcu) * h,
          ['elb.albHour', 'elb.lcuHour'],
        );
        break;
      }
      case 'aws:s3/bucket:Bucket': {
        const gb = usage(table, 's3GbPerBucket');
        line(r, `S3 Standard, ${gb} GB (assumed)`, flat(table, 's3.standardGbMonth') * gb, [
          's3.standardGbMonth',
        ]);
        break;
      }
      case 'aws:cloudfront/distribution:Distribution': {
        const gb = usage(table, 'cloudfrontGbOut');
        line(r, `CloudFront, ${gb} GB out (assumed)`, flat(table, 'cloudfront.gbOut') * gb, [
          'cloudfront.gbOut',
        ]);
        break;
      }
      case 'aws:wafv2/webAcl:WebAcl': {
        const rules = Array.isArray(i.rules) ? i.rules.length : 0;
        line(r, `WAF web ACL + ${rules} rules`, wafMonthly(table, rules), [
          'waf.webAclMonth',
          'waf.ruleMonth',
          'waf.millionRequests',
        ]);
        break;
      }
      case 'aws:kms/key:Key':
        line(r, 'KMS key', flat(table, 'kms.keyMonth'), ['kms.keyMonth']);
        break;
      case 'aws:backup/plan:Plan': {
        // The selected databases' storage, kept once in the vault and once per copy action of the
        // first rule (incremental snapshots: one full copy is the estimate's floor).
        const selection = resources.find((x) => x.type === 'aws:backup/selection:Selection');
        const selected = Array.isArray(selection?.inputs.resources)
          ? selection.inputs.resources.map(String)
          : [];
        const gb = [...primaries]
          .filter(([id]) => selected.some((arn) => arn.endsWith(`:db:${id}`)))
          .reduce((s, [, g]) => s + g, 0);
        const copies =
          1 +
          (Array.isArray(at(i, 'rules', 0, 'copyActions'))
            ? (at(i, 'rules', 0, 'copyActions') as unknown[]).length
            : 0);
        line(
          r,
          `backup storage, ${gb} GB × ${copies} vault${copies === 1 ? '' : 's'}`,
          flat(table, 'backup.warmGbMonth') * gb * copies,
          ['backup.warmGbMonth'],
        );
        break;
      }
      case 'aws:cloudwatch/logGroup:LogGroup': {
        const gb = usage(table, 'controlPlaneLogsGbIngested');
        const months = Math.min(num(i.retentionInDays, 30), 365) / 30;
        line(
          r,
          `CloudWatch logs, ${gb} GB/month ingested (assumed), ${num(i.retentionInDays, 30)} days kept`,
          flat(table, 'cloudwatch.logsIngestGb') * gb +
            flat(table, 'cloudwatch.logsStoreGbMonth') * gb * months,
          ['cloudwatch.logsIngestGb', 'cloudwatch.logsStoreGbMonth'],
        );
        break;
      }
      case 'kubernetes:core/v1:PersistentVolumeClaim': {
        if (!onEks) break;
        const gb = quantityGb(at(i, 'spec', 'resources', 'requests', 'storage'));
        line(r, `PVC ${gb} GB gp3`, flat(table, 'ebs.gp3GbMonth') * gb, ['ebs.gp3GbMonth']);
        break;
      }
      default:
        break;
    }
  }
  const rounded = lines.map((l) => ({ ...l, monthlyUsd: round2(l.monthlyUsd) }));
  return {
    region: table.region,
    asOf: table.asOf,
    monthlyUsd: round2(rounded.reduce((s, l) => s + l.monthlyUsd, 0)),
    lines: rounded.sort((a, b) => b.monthlyUsd - a.monthlyUsd),
    unpriced: [...unpriced].sort(),
  };
}

/**
 * The region a stack runs in: that of the AWS provider most of its resources use (the DR and
 * us-east-1 providers hold a few; they are priced at this region's rates). Null without AWS.
 */
export function stackRegion(resources: readonly CostedResource[]): string | null {
  const uses = new Map<string, number>();
  for (const r of resources) if (r.provider) uses.set(r.provider, (uses.get(r.provider) ?? 0) + 1);
  const providers = resources
    .filter((r) => r.type === 'pulumi:providers:aws' && typeof r.inputs.region === 'string')
    .sort((a, b) => (uses.get(b.urn) ?? 0) - (uses.get(a.urn) ?? 0));
  return providers[0] ? String(providers[0].inputs.region) : null;
}

/**
 * A stack's cost from the price table of the checkout at `root`: null when the stack has no AWS
 * provider (dev runs on a local kind cluster: nothing billed); a PriceError when the stack's
 * region has no table.
 */
export function checkoutStackCost(root: string, resources: readonly CostedResource[]): StackCost | null {
  const region = stackRegion(resources);
  if (region === null) return null;
  const table = loadPriceTable(root, region);
  if (!table) throw new PriceError(`no price table for ${region}: add stacks/pricing/aws-${region}.json`);
  return stackCost(resources, table);
}

/** The stack's region when the checkout has no price table for it, else null. */
export function unpricedRegion(root: string, resources: readonly CostedResource[]): string | null {
  const region = stackRegion(resources);
  return region !== null && loadPriceTable(root, region) === null ? region : null;
}
