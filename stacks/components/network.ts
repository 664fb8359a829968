import * as pulumi from '@pulumi/pulumi';
import { getAvailabilityZonesOutput } from '@pulumi/aws/getAvailabilityZones.js';
import * as ec2 from '@pulumi/aws/ec2/index.js';
import type { StackConfig } from '../config.js';
import { awsTags, clusterName } from '../naming.js';
import { natGatewayCount, planSubnets } from '../planning/network.js';
import type { Tier } from '../tiers.js';

/** The tag Karpenter discovers node subnets and security groups by; its value is the cluster name. */
export const KARPENTER_DISCOVERY_TAG = 'karpenter.sh/discovery';

export interface NetworkArgs {
  readonly cfg: StackConfig;
  readonly tier: Tier;
}

/**
 * VPC over the tier's AZs: public subnets (load balancers, NAT), private subnets (nodes, data
 * stores), NAT per AZ or one shared, and the security groups that admit only the cluster's nodes
 * to Redis and Postgres.
 */
export class Network extends pulumi.ComponentResource {
  readonly vpcId: pulumi.Output<string>;
  readonly vpcCidr: string;
  readonly publicSubnetIds: pulumi.Output<string>[];
  readonly privateSubnetIds: pulumi.Output<string>[];
  /** Where internet-facing load balancers get their addresses (tagged kubernetes.io/role/elb). */
  readonly publicSubnetCidrs: readonly string[];
  /** Attached to every node: the only source the data stores admit. */
  readonly nodeSecurityGroupId: pulumi.Output<string>;
  readonly redisSecurityGroupId: pulumi.Output<string>;
  readonly postgresSecurityGroupId: pulumi.Output<string>;

  constructor(name: string, args: NetworkArgs, opts?: pulumi.ComponentResourceOptions) {
    super('archibald:network:Network', name, {}, opts);
    const { cfg, tier } = args;
    const child = { parent: this };
    const tags = (extra: Record<string, string> = {}): Record<string, string> => ({
      ...awsTags(cfg, 'network'),
      ...extra,
    });
    const plan = planSubnets(tier.network.vpcCidr, tier.network.azCount);
    const azs = getAvailabilityZonesOutput({ state: 'available' }, child);
    const clusterTag = `kubernetes.io/cluster/${clusterName(cfg)}`;
    // Karpenter's EC2NodeClass selects the subnets and security groups its nodes get by this tag.
    const discovery = { [KARPENTER_DISCOVERY_TAG]: clusterName(cfg) };

    const vpc = new ec2.Vpc(
      `${name}-vpc`,
      {
        cidrBlock: tier.network.vpcCidr,
        enableDnsHostnames: true,
        enableDnsSupport: true,
        tags: tags({ Name: `archibald-${cfg.stack}` }),
      },
      { parent: this, protect: tier.protectResources },
    );
    const igw = new ec2.InternetGateway(`${name}-igw`, { vpcId: vpc.id, tags: tags() }, child);

    const publicRoutes = new ec2.RouteTable(
      `${name}-public`,
      {
        vpcId: vpc.id,
        routes: [{ cidrBlock: '0.0.0.0/0', gatewayId: igw.id }],
        tags: tags({ Name: `archibald-${cfg.stack}-public` }),
      },
      child,
    );

    const az = (i: number): pulumi.Output<string> =>
      azs.names.apply((names) => {
        const n = names[i];
        if (n === undefined)
          throw new Error(
            `region ${cfg.region} has ${names.length} AZs; tier ${tier.name} needs ${tier.network.azCount}`,
          );
        return n;
      });

    const publicSubnets = plan.public.map((cidr, i) => {
      const subnet = new ec2.Subnet(
        `${name}-public-${i}`,
        {
          vpcId: vpc.id,
          cidrBlock: cidr,
          availabilityZone: az(i),
          mapPublicIpOnLaunch: false,
          tags: tags({
            Name: `archibald-${cfg.stack}-public-${i}`,
            'kubernetes.io/role/elb': '1',
            [clusterTag]: 'shared',
          }),
        },
        child,
      );
      new ec2.RouteTableAssociation(
        `${name}-public-${i}`,
        { subnetId: subnet.id, routeTableId: publicRoutes.id },
        child,
      );
      return subnet;
    });

    const nats = [...Array(natGatewayCount(tier)).keys()].map((i) => {
      const eip = new ec2.Eip(`${name}-nat-${i}`, { domain: 'vpc', tags: tags() }, child);
      return new ec2.NatGateway(
        `${name}-nat-${i}`,
        {
          allocationId: eip.id,
          subnetId: (publicSubnets[i] as ec2.Subnet).id,
          tags: tags({ Name: `archibald-${cfg.stack}-nat-${i}` }),
        },
        { parent: this, dependsOn: [igw] },
      );
    });

    const privateSubnets = plan.private.map((cidr, i) => {
      const subnet = new ec2.Subnet(
        `${name}-private-${i}`,
        {
          vpcId: vpc.id,
          cidrBlock: cidr,
          availabilityZone: az(i),
          tags: tags({
            Name: `archibald-${cfg.stack}-private-${i}`,
            'kubernetes.io/role/internal-elb': '1',
            [clusterTag]: 'shared',
            ...discovery,
          }),
        },
        child,
      );
      // Each private subnet leaves through the NAT in its own AZ when there is one per AZ.
      const nat = nats[i % nats.length] as ec2.NatGateway;
      const routes = new ec2.RouteTable(
        `${name}-private-${i}`,
        {
          vpcId: vpc.id,
          routes: [{ cidrBlock: '0.0.0.0/0', natGatewayId: nat.id }],
          tags: tags({ Name: `archibald-${cfg.stack}-private-${i}` }),
        },
        child,
      );
      new ec2.RouteTableAssociation(
        `${name}-private-${i}`,
        { subnetId: subnet.id, routeTableId: routes.id },
        child,
      );
      return subnet;
    });

    const nodes = new ec2.SecurityGroup(
      `${name}-nodes`,
      {
        vpcId: vpc.id,
        description: 'Archibald cluster nodes: the only source admitted to the data stores',
        egress: [
          {
            protocol: '-1',
            fromPort: 0,
            toPort: 0,
            cidrBlocks: ['0.0.0.0/0'],
            description: 'nodes reach AWS APIs, providers and the data stores',
          },
        ],
        // Karpenter's nodes carry this group too, so the data stores admit them like the others.
        tags: tags({ Name: `archibald-${cfg.stack}-nodes`, ...discovery }),
      },
      child,
    );
    const dataStore = (store: string, port: number): ec2.SecurityGroup =>
      new ec2.SecurityGroup(
        `${name}-${store}`,
        {
          vpcId: vpc.id,
          description: `Archibald ${store}: reachable from the cluster nodes only`,
          ingress: [
            {
              protocol: 'tcp',
              fromPort: port,
              toPort: port,
              securityGroups: [nodes.id],
              description: `${store} from cluster nodes`,
            },
          ],
          egress: [],
          tags: tags({ Name: `archibald-${cfg.stack}-${store}` }),
        },
        child,
      );
    const redis = dataStore('redis', 6379);
    const postgres = dataStore('postgres', 5432);

    this.vpcId = vpc.id;
    this.vpcCidr = tier.network.vpcCidr;
    this.publicSubnetIds = publicSubnets.map((s) => s.id);
    this.privateSubnetIds = privateSubnets.map((s) => s.id);
    this.publicSubnetCidrs = plan.public;
    this.nodeSecurityGroupId = nodes.id;
    this.redisSecurityGroupId = redis.id;
    this.postgresSecurityGroupId = postgres.id;
    this.registerOutputs({
      vpcId: this.vpcId,
      publicSubnetIds: this.publicSubnetIds,
      privateSubnetIds: this.privateSubnetIds,
      nodeSecurityGroupId: this.nodeSecurityGroupId,
    });
  }
}
