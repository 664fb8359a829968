import * as pulumi from '@pulumi/pulumi';
import * as cloudwatch from '@pulumi/aws/cloudwatch/index.js';
import * as ec2 from '@pulumi/aws/ec2/index.js';
import * as eks from '@pulumi/aws/eks/index.js';
import * as iam from '@pulumi/aws/iam/index.js';
import * as sqs from '@pulumi/aws/sqs/index.js';
import { CustomResource } from '@pulumi/kubernetes/apiextensions/customResource.js';
import type { StackConfig } from '../config.js';
import { eksNodeRole } from '../eks-node-role.js';
import { assumeRoleForServiceAccount, policyDocument } from '../iam.js';
import type { Statement } from '../iam.js';
import { pinnedChartRelease } from '../kube.js';
import { awsTags, clusterName } from '../naming.js';
import { nodePoolDisruption, nodePoolLimits, nodePoolRequirements } from '../planning/nodes.js';
import { PINNED } from '../tiers.js';
import type { Tier } from '../tiers.js';
import type { Cluster } from './cluster.js';
import { KARPENTER_DISCOVERY_TAG } from './network.js';
import { runtimeBaselineNodes } from '../planning/capacity.js';

/** Annotations on the NodePool read by the plan's cost estimate (stacks/plan/cost.ts). */
export const EXPECTED_NODES_ANNOTATION = 'archibald.io/expected-nodes';
export const EXPECTED_INSTANCE_TYPE_ANNOTATION = 'archibald.io/expected-instance-type';

export interface NodeAutoscalerArgs {
  readonly cfg: StackConfig;
  readonly tier: Tier;
  /** An eks-mode cluster: its name, OIDC provider (IRSA), security group and Kubernetes provider. */
  readonly cluster: Cluster;
  /** Namespace of the controller. Default `kube-system`, as Karpenter's getting-started guide installs it. */
  readonly namespace?: string;
}

/** The chart's service account name (`serviceAccount.name`), which the controller role trusts. */
export const KARPENTER_SERVICE_ACCOUNT = 'karpenter';
/** The only NodePool and EC2NodeClass this stack runs. */
export const NODE_POOL = 'runtime';

/**
 * The EC2 events Karpenter handles ahead of time (cordon, drain, replace) when they reach its
 * interruption queue: the rules of Karpenter's getting-started CloudFormation.
 */
export const INTERRUPTION_EVENTS = [
  { name: 'health', source: 'aws.health', detailType: 'AWS Health Event' },
  { name: 'spot-interruption', source: 'aws.ec2', detailType: 'EC2 Spot Instance Interruption Warning' },
  { name: 'rebalance', source: 'aws.ec2', detailType: 'EC2 Instance Rebalance Recommendation' },
  { name: 'state-change', source: 'aws.ec2', detailType: 'EC2 Instance State-change Notification' },
  {
    name: 'capacity-reservation',
    source: 'aws.ec2',
    detailType: 'EC2 Capacity Reservation Instance Interruption Warning',
  },
] as const;

/**
 * What the controller may do, written for this stack from Karpenter's getting-started
 * CloudFormation (v1.14): launch and tag instances only with this cluster's ownership tags,
 * terminate only instances it launched, read the interruption queue, pass the node role. The
 * instance profile is made here, so the controller gets no IAM write access at all (the upstream
 * policy's instance-profile create/tag/delete statements are only for EC2NodeClass `spec.role`).
 */
export function controllerPolicies(args: {
  region: string;
  clusterName: string;
  /** The cluster's ARN (the account may be a wildcard: the name and region pin the cluster). */
  clusterArn: string;
  nodeRoleArn: pulumi.Input<string>;
  instanceProfileArn: pulumi.Input<string>;
  queueArn: pulumi.Input<string>;
}): Record<string, Statement[]> {
  const { region, clusterName: name } = args;
  const ec2Arn = (resource: string, account = '*'): string => `arn:aws:ec2:${region}:${account}:${resource}`;
  const owned = { [`aws:ResourceTag/kubernetes.io/cluster/${name}`]: 'owned' };
  const requestOwned = {
    [`aws:RequestTag/kubernetes.io/cluster/${name}`]: 'owned',
    'aws:RequestTag/eks:eks-cluster-name': name,
  };
  const taggedResources = [
    'fleet/*',
    'instance/*',
    'volume/*',
    'network-interface/*',
    'launch-template/*',
    'spot-instances-request/*',
  ].map((r) => ec2Arn(r));
  return {
    'node-lifecycle': [
      {
        Sid: 'LaunchFromImagesSubnetsAndGroups',
        Effect: 'Allow',
        Action: ['ec2:RunInstances', 'ec2:CreateFleet'],
        Resource: [
          ec2Arn('image/*', ''),
          ec2Arn('snapshot/*', ''),
          ec2Arn('security-group/*'),
          ec2Arn('subnet/*'),
          ec2Arn('capacity-reservation/*'),
          ec2Arn('placement-group/*'),
        ],
      },
      {
        Sid: 'LaunchFromOwnLaunchTemplates',
        Effect: 'Allow',
        Action: ['ec2:RunInstances', 'ec2:CreateFleet'],
        Resource: ec2Arn('launch-template/*'),
        Condition: { StringEquals: owned, StringLike: { 'aws:ResourceTag/karpenter.sh/nodepool': '*' } },
      },
      {
        Sid: 'CreateOnlyOwnedResources',
        Effect: 'Allow',
        Action: ['ec2:RunInstances', 'ec2:CreateFleet', 'ec2:CreateLaunchTemplate'],
        Resource: taggedResources,
        Condition: {
          StringEquals: requestOwned,
          StringLike: { 'aws:RequestTag/karpenter.sh/nodepool': '*' },
        },
      },
      {
        Sid: 'TagOnCreate',
        Effect: 'Allow',
        Action: 'ec2:CreateTags',
        Resource: taggedResources,
        Condition: {
          StringEquals: {
            ...requestOwned,
            'ec2:CreateAction': ['RunInstances', 'CreateFleet', 'CreateLaunchTemplate'],
          },
          StringLike: { 'aws:RequestTag/karpenter.sh/nodepool': '*' },
        },
      },
      {
        Sid: 'TagOwnedInstancesWithTheirNodeClaim',
        Effect: 'Allow',
        Action: 'ec2:CreateTags',
        Resource: ec2Arn('instance/*'),
        Condition: {
          StringEquals: owned,
          StringLike: { 'aws:ResourceTag/karpenter.sh/nodepool': '*' },
          StringEqualsIfExists: { 'aws:RequestTag/eks:eks-cluster-name': name },
          'ForAllValues:StringEquals': {
            'aws:TagKeys': ['eks:eks-cluster-name', 'karpenter.sh/nodeclaim', 'Name'],
          },
        },
      },
      {
        Sid: 'DeleteOnlyOwnedResources',
        Effect: 'Allow',
        Action: ['ec2:TerminateInstances', 'ec2:DeleteLaunchTemplate'],
        Resource: [ec2Arn('instance/*'), ec2Arn('launch-template/*')],
        Condition: { StringEquals: owned, StringLike: { 'aws:ResourceTag/karpenter.sh/nodepool': '*' } },
      },
    ],
    'node-identity': [
      {
        Sid: 'PassTheNodeRoleToEc2',
        Effect: 'Allow',
        Action: 'iam:PassRole',
        Resource: args.nodeRoleArn,
        Condition: { StringEquals: { 'iam:PassedToService': 'ec2.amazonaws.com' } },
      },
      {
        Sid: 'ReadTheNodeInstanceProfile',
        Effect: 'Allow',
        Action: 'iam:GetInstanceProfile',
        Resource: args.instanceProfileArn,
      },
      {
        // Karpenter's instance-profile garbage collector lists profiles; it deletes none it did not make.
        Sid: 'ListInstanceProfiles',
        Effect: 'Allow',
        Action: 'iam:ListInstanceProfiles',
        Resource: '*',
      },
      {
        Sid: 'DiscoverTheClusterEndpoint',
        Effect: 'Allow',
        Action: 'eks:DescribeCluster',
        Resource: args.clusterArn,
      },
    ],
    interruption: [
      {
        Sid: 'ReadTheInterruptionQueue',
        Effect: 'Allow',
        Action: ['sqs:DeleteMessage', 'sqs:GetQueueUrl', 'sqs:ReceiveMessage'],
        Resource: args.queueArn,
      },
    ],
    discovery: [
      {
        Sid: 'DescribeInTheStackRegion',
        Effect: 'Allow',
        Action: [
          'ec2:DescribeCapacityReservations',
          'ec2:DescribeImages',
          'ec2:DescribeInstances',
          'ec2:DescribeInstanceStatus',
          'ec2:DescribeInstanceTypeOfferings',
          'ec2:DescribeInstanceTypes',
          'ec2:DescribeLaunchTemplates',
          'ec2:DescribePlacementGroups',
          'ec2:DescribeSecurityGroups',
          'ec2:DescribeSpotPriceHistory',
          'ec2:DescribeSubnets',
        ],
        Resource: '*',
        Condition: { StringEquals: { 'aws:RequestedRegion': region } },
      },
      {
        Sid: 'ResolveAmiAliases',
        Effect: 'Allow',
        Action: 'ssm:GetParameter',
        Resource: `arn:aws:ssm:${region}::parameter/aws/service/*`,
      },
      { Sid: 'ReadPrices', Effect: 'Allow', Action: 'pricing:GetProducts', Resource: '*' },
    ],
  };
}

/**
 * Karpenter, the node autoscaler (eks mode only): it launches nodes for pods that do not fit and
 * removes nodes that are no longer needed. Made here: the controller's IRSA role and its scoped
 * policies, the node role with its instance profile and EKS access entry (EC2_LINUX), the
 * interruption queue fed by EventBridge, the discovery tag on the EKS cluster security group, the
 * pinned chart, and one EC2NodeClass and one NodePool sized from the tier (planning/nodes.ts).
 * The controller runs on the managed (system) node group, never on a node it launched.
 */
export class NodeAutoscaler extends pulumi.ComponentResource {
  readonly nodePoolName: string;
  readonly interruptionQueueName: pulumi.Output<string>;
  readonly controllerRoleArn: pulumi.Output<string>;
  readonly nodeRoleArn: pulumi.Output<string>;

  constructor(name: string, args: NodeAutoscalerArgs, opts?: pulumi.ComponentResourceOptions) {
    super('archibald:nodes:NodeAutoscaler', name, {}, opts);
    const { cfg, tier, cluster } = args;
    const namespace = args.namespace ?? 'kube-system';
    if (
      !cluster.clusterName ||
      !cluster.oidcProviderArn ||
      !cluster.oidcIssuerUrl ||
      !cluster.clusterSecurityGroupId
    )
      throw new Error('NodeAutoscaler: Karpenter needs an eks-mode cluster');
    const child = { parent: this };
    const tags = awsTags(cfg, 'nodes');
    const eksName = clusterName(cfg);

    // Nodes Karpenter launches: the same managed policies as the system node group's role.
    const { role: nodeRole, policies: nodePolicies } = eksNodeRole(`${name}-node`, tags, child);
    const instanceProfile = new iam.InstanceProfile(`${name}-node`, { role: nodeRole.name, tags }, child);
    // authenticationMode API: without an EC2_LINUX entry the kubelets of new nodes cannot join.
    const accessEntry = new eks.AccessEntry(
      `${name}-node`,
      { clusterName: cluster.clusterName, principalArn: nodeRole.arn, type: 'EC2_LINUX', tags },
      child,
    );

    // Interruption handling: EC2 and AWS Health events reach the controller through this queue,
    // so it drains a node before AWS stops it. Karpenter's own rules, retention and SSE.
    const queue = new sqs.Queue(
      `${name}-interruption`,
      { messageRetentionSeconds: 300, sqsManagedSseEnabled: true, tags },
      child,
    );
    const rules = INTERRUPTION_EVENTS.map((event) => {
      const rule = new cloudwatch.EventRule(
        `${name}-${event.name}`,
        {
          description: `Karpenter (${eksName}): ${event.detailType}`,
          eventPattern: JSON.stringify({ source: [event.source], 'detail-type': [event.detailType] }),
          tags,
        },
        child,
      );
      new cloudwatch.EventTarget(
        `${name}-${event.name}`,
        { rule: rule.name, arn: queue.arn, targetId: 'KarpenterInterruptionQueue' },
        child,
      );
      return rule;
    });
    new sqs.QueuePolicy(
      `${name}-interruption`,
      {
        queueUrl: queue.url,
        policy: policyDocument([
          {
            Sid: 'EventBridgeRulesOfThisStack',
            Effect: 'Allow',
            Principal: { Service: 'events.amazonaws.com' },
            Action: 'sqs:SendMessage',
            Resource: queue.arn,
            Condition: { ArnEquals: { 'aws:SourceArn': rules.map((r) => r.arn) } },
          },
          {
            Sid: 'DenyWithoutTls',
            Effect: 'Deny',
            Principal: { AWS: '*' },
            Action: 'sqs:*',
            Resource: queue.arn,
            Condition: { Bool: { 'aws:SecureTransport': 'false' } },
          },
        ]),
      },
      child,
    );

    // The controller: IRSA, trusted by exactly the chart's service account.
    const controllerRole = new iam.Role(
      `${name}-controller`,
      {
        assumeRolePolicy: assumeRoleForServiceAccount(
          cluster.oidcProviderArn,
          cluster.oidcIssuerUrl,
          namespace,
          KARPENTER_SERVICE_ACCOUNT,
        ),
        tags,
      },
      child,
    );
    const policies = controllerPolicies({
      region: cfg.region,
      clusterName: eksName,
      clusterArn: `arn:aws:eks:${cfg.region}:*:cluster/${eksName}`,
      nodeRoleArn: nodeRole.arn,
      instanceProfileArn: instanceProfile.arn,
      queueArn: queue.arn,
    });
    const controllerPermissions = Object.entries(policies).map(
      ([policyName, statements]) =>
        new iam.RolePolicy(
          `${name}-controller-${policyName}`,
          { role: controllerRole.id, name: policyName, policy: policyDocument(statements) },
          child,
        ),
    );

    // Karpenter's nodes join the cluster security group (control plane and node-to-node traffic);
    // the node group from network.ts, which the data stores admit, carries the tag already.
    const clusterSgTag = new ec2.Tag(
      `${name}-cluster-sg-discovery`,
      { resourceId: cluster.clusterSecurityGroupId, key: KARPENTER_DISCOVERY_TAG, value: eksName },
      child,
    );

    const k8s = { parent: this, provider: cluster.provider };
    const release = pinnedChartRelease(
      `${name}-karpenter`,
      'karpenter',
      {
        name: 'karpenter',
        namespace,
        values: {
          serviceAccount: {
            name: KARPENTER_SERVICE_ACCOUNT,
            annotations: { 'eks.amazonaws.com/role-arn': controllerRole.arn },
          },
          settings: { clusterName: eksName, interruptionQueue: queue.name },
          controller: {
            // The node group's IMDS hop limit of 1 keeps pods off the metadata service, where
            // Karpenter would otherwise look up its region at start.
            env: [{ name: 'AWS_REGION', value: cfg.region }],
            // Karpenter's guide: a guaranteed 1 CPU / 1Gi per replica.
            resources: {
              requests: { cpu: '1', memory: '1Gi' },
              limits: { cpu: '1', memory: '1Gi' },
            },
          },
          // Only on the managed node group: a controller on its own node could drain itself away.
          affinity: {
            nodeAffinity: {
              requiredDuringSchedulingIgnoredDuringExecution: {
                nodeSelectorTerms: [
                  {
                    matchExpressions: [
                      { key: 'karpenter.sh/nodepool', operator: 'DoesNotExist' },
                      { key: 'eks.amazonaws.com/nodegroup', operator: 'Exists' },
                    ],
                  },
                ],
              },
            },
            podAntiAffinity: {
              requiredDuringSchedulingIgnoredDuringExecution: [{ topologyKey: 'kubernetes.io/hostname' }],
            },
          },
        },
      },
      { ...k8s, dependsOn: [...controllerPermissions] },
    );

    const nodeClass = new CustomResource(
      `${name}-nodeclass`,
      {
        apiVersion: 'karpenter.k8s.aws/v1',
        kind: 'EC2NodeClass',
        metadata: { name: NODE_POOL },
        spec: {
          instanceProfile: instanceProfile.name,
          amiSelectorTerms: [{ alias: PINNED.karpenterAmiAlias }],
          subnetSelectorTerms: [{ tags: { [KARPENTER_DISCOVERY_TAG]: eksName } }],
          securityGroupSelectorTerms: [{ tags: { [KARPENTER_DISCOVERY_TAG]: eksName } }],
          // IMDSv2 only, one hop: pods cannot borrow the node's role (as on the system node group).
          metadataOptions: {
            httpEndpoint: 'enabled',
            httpProtocolIPv6: 'disabled',
            httpPutResponseHopLimit: 1,
            httpTokens: 'required',
          },
          blockDeviceMappings: [
            {
              deviceName: '/dev/xvda',
              rootVolume: true,
              ebs: {
                volumeSize: `${tier.nodes.diskGiB}Gi`,
                volumeType: 'gp3',
                encrypted: true,
                deleteOnTermination: true,
              },
            },
          ],
          tags,
        },
      },
      { ...k8s, dependsOn: [release, ...nodePolicies, accessEntry, clusterSgTag] },
    );

    const limits = nodePoolLimits(tier);
    const disruption = nodePoolDisruption(tier);
    new CustomResource(
      `${name}-nodepool`,
      {
        apiVersion: 'karpenter.sh/v1',
        kind: 'NodePool',
        metadata: {
          name: NODE_POOL,
          // What the pool runs at rest, for the plan's monthly cost (Karpenter ignores annotations).
          annotations: {
            [EXPECTED_NODES_ANNOTATION]: String(runtimeBaselineNodes(tier)),
            [EXPECTED_INSTANCE_TYPE_ANNOTATION]: tier.nodes.instanceType,
          },
        },
        spec: {
          template: {
            spec: {
              nodeClassRef: { group: 'karpenter.k8s.aws', kind: 'EC2NodeClass', name: NODE_POOL },
              requirements: nodePoolRequirements(tier),
              expireAfter: disruption.expireAfter,
              terminationGracePeriod: disruption.terminationGracePeriod,
            },
          },
          limits: { cpu: limits.cpu, memory: limits.memory },
          disruption: {
            consolidationPolicy: disruption.consolidationPolicy,
            consolidateAfter: disruption.consolidateAfter,
            budgets: disruption.budgets,
          },
        },
      },
      { ...k8s, dependsOn: [release, nodeClass] },
    );

    this.nodePoolName = NODE_POOL;
    this.interruptionQueueName = queue.name;
    this.controllerRoleArn = controllerRole.arn;
    this.nodeRoleArn = nodeRole.arn;
    this.registerOutputs({
      nodePoolName: this.nodePoolName,
      interruptionQueueName: this.interruptionQueueName,
      controllerRoleArn: this.controllerRoleArn,
      nodeRoleArn: this.nodeRoleArn,
    });
  }
}
