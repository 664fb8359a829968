import * as pulumi from '@pulumi/pulumi';
import * as iam from '@pulumi/aws/iam/index.js';
import type { Release } from '@pulumi/kubernetes/helm/v3/release.js';
import type { StackConfig } from '../config.js';
import { assumeRoleForServiceAccount, policyDocument } from '../iam.js';
import type { Statement } from '../iam.js';
import { pinnedChartRelease } from '../kube.js';
import { awsTags, physicalName } from '../naming.js';
import type { Tier } from '../tiers.js';
import type { Cluster } from './cluster.js';
import type { Network } from './network.js';

export const LBC_NAMESPACE = 'kube-system';
export const LBC_SERVICE_ACCOUNT = 'aws-load-balancer-controller';
/** The IngressClass the chart creates (controller ingress.k8s.aws/alb); every EKS Ingress names it. */
export const ALB_INGRESS_CLASS = 'alb';
/** TLS 1.3 and 1.2 only, the policy AWS recommends for new HTTPS listeners. */
export const ALB_SSL_POLICY = 'ELBSecurityPolicy-TLS13-1-2-2021-06';
/** The namespace label that makes the controller's webhook add target-health readiness gates. */
export const READINESS_GATE_LABEL = { 'elbv2.k8s.aws/pod-readiness-gate-inject': 'enabled' };

/** One internet-facing ALB per stack serves the API and Grafana (an IngressGroup). */
export function albGroupName(cfg: StackConfig): string {
  return physicalName(cfg, 'public');
}

/**
 * Annotations of an Ingress served by the stack's shared ALB. The group-wide ("exclusive")
 * settings come from here for every member, so the group never carries two values for one of
 * them (the controller would refuse the whole group). Per Ingress: its certificate (merged onto
 * the HTTPS listener, chosen by SNI) and its target group's health check.
 */
export function albIngressAnnotations(
  cfg: StackConfig,
  own: { certificateArn: pulumi.Input<string>; healthCheckPath: string },
): Record<string, pulumi.Input<string>> {
  return {
    'alb.ingress.kubernetes.io/group.name': albGroupName(cfg),
    'alb.ingress.kubernetes.io/scheme': 'internet-facing',
    'alb.ingress.kubernetes.io/listen-ports': JSON.stringify([{ HTTP: 80 }, { HTTPS: 443 }]),
    // Port 80 only answers with a redirect to 443.
    'alb.ingress.kubernetes.io/ssl-redirect': '443',
    'alb.ingress.kubernetes.io/ssl-policy': ALB_SSL_POLICY,
    'alb.ingress.kubernetes.io/load-balancer-attributes':
      'routing.http.drop_invalid_header_fields.enabled=true',
    // Pod IPs are VPC addresses (VPC CNI): the ALB sends to pods directly, not through NodePorts.
    'alb.ingress.kubernetes.io/target-type': 'ip',
    'alb.ingress.kubernetes.io/certificate-arn': own.certificateArn,
    'alb.ingress.kubernetes.io/healthcheck-path': own.healthCheckPath,
    'alb.ingress.kubernetes.io/success-codes': '200',
  };
}

/**
 * The controller's IAM policy, written from its published reference policy
 * (kubernetes-sigs/aws-load-balancer-controller v3.5.0, docs/install/iam_policy.json) and scoped
 * tighter:
 * - no WAF Classic, WAFv2, Shield, Cognito or IAM server-certificate permissions: those add-ons
 *   are switched off in the chart values and the Ingresses name their ACM certificates;
 * - what the controller creates, changes or deletes must carry its tag with this cluster's name
 *   (the reference only asks for the tag key), so staging's controller cannot touch prod's load
 *   balancers in a shared account;
 * - the one open security-group rule statement of the reference is limited to this VPC, as the
 *   controller's installation guide recommends;
 * - load balancer, target group, listener and security-group ARNs are limited to the region.
 */
export function loadBalancerControllerPolicy(a: {
  region: string;
  clusterName: pulumi.Input<string>;
  vpcArn: pulumi.Input<string>;
}): pulumi.Output<string> {
  const { region } = a;
  const elb = (resource: string): string => `arn:aws:elasticloadbalancing:${region}:*:${resource}`;
  const securityGroups = `arn:aws:ec2:${region}:*:security-group/*`;
  const ownedBy = (key: 'aws:ResourceTag' | 'aws:RequestTag') => ({
    StringEquals: { [`${key}/elbv2.k8s.aws/cluster`]: a.clusterName },
  });
  const loadBalancers = [elb('targetgroup/*/*'), elb('loadbalancer/net/*/*'), elb('loadbalancer/app/*/*')];
  const statements: Statement[] = [
    {
      Sid: 'ElbServiceLinkedRole',
      Effect: 'Allow',
      Action: ['iam:CreateServiceLinkedRole'],
      Resource: '*',
      Condition: { StringEquals: { 'iam:AWSServiceName': 'elasticloadbalancing.amazonaws.com' } },
    },
    {
      Sid: 'Discover',
      Effect: 'Allow',
      Action: [
        'ec2:DescribeAccountAttributes',
        'ec2:DescribeAddresses',
        'ec2:DescribeAvailabilityZones',
        'ec2:DescribeInternetGateways',
        'ec2:DescribeVpcs',
        'ec2:DescribeVpcPeeringConnections',
        'ec2:DescribeSubnets',
        'ec2:DescribeSecurityGroups',
        'ec2:DescribeInstances',
        'ec2:DescribeNetworkInterfaces',
        'ec2:DescribeTags',
        'ec2:GetCoipPoolUsage',
        'ec2:DescribeCoipPools',
        'ec2:GetSecurityGroupsForVpc',
        'ec2:DescribeIpamPools',
        'ec2:DescribeRouteTables',
        'elasticloadbalancing:DescribeLoadBalancers',
        'elasticloadbalancing:DescribeLoadBalancerAttributes',
        'elasticloadbalancing:DescribeListeners',
        'elasticloadbalancing:DescribeListenerCertificates',
        'elasticloadbalancing:DescribeSSLPolicies',
        'elasticloadbalancing:DescribeRules',
        'elasticloadbalancing:DescribeTargetGroups',
        'elasticloadbalancing:DescribeTargetGroupAttributes',
        'elasticloadbalancing:DescribeTargetHealth',
        'elasticloadbalancing:DescribeTags',
        'elasticloadbalancing:DescribeTrustStores',
        'elasticloadbalancing:DescribeListenerAttributes',
        'elasticloadbalancing:DescribeCapacityReservation',
        'acm:ListCertificates',
        'acm:DescribeCertificate',
      ],
      Resource: '*',
    },
    {
      // Opens the target pods' (node) security group to the ALB's backend group.
      Sid: 'AdmitLoadBalancersInThisVpc',
      Effect: 'Allow',
      Action: ['ec2:AuthorizeSecurityGroupIngress', 'ec2:RevokeSecurityGroupIngress'],
      Resource: securityGroups,
      Condition: { ArnEquals: { 'ec2:Vpc': a.vpcArn } },
    },
    {
      Sid: 'CreateSecurityGroups',
      Effect: 'Allow',
      Action: ['ec2:CreateSecurityGroup'],
      Resource: '*',
    },
    {
      Sid: 'TagSecurityGroupsOnCreate',
      Effect: 'Allow',
      Action: ['ec2:CreateTags'],
      Resource: securityGroups,
      Condition: {
        StringEquals: {
          'ec2:CreateAction': 'CreateSecurityGroup',
          'aws:RequestTag/elbv2.k8s.aws/cluster': a.clusterName,
        },
      },
    },
    {
      Sid: 'TagOwnSecurityGroups',
      Effect: 'Allow',
      Action: ['ec2:CreateTags', 'ec2:DeleteTags'],
      Resource: securityGroups,
      Condition: {
        Null: { 'aws:RequestTag/elbv2.k8s.aws/cluster': 'true' },
        ...ownedBy('aws:ResourceTag'),
      },
    },
    {
      Sid: 'ManageOwnSecurityGroups',
      Effect: 'Allow',
      Action: [
        'ec2:AuthorizeSecurityGroupIngress',
        'ec2:RevokeSecurityGroupIngress',
        'ec2:DeleteSecurityGroup',
      ],
      Resource: securityGroups,
      Condition: ownedBy('aws:ResourceTag'),
    },
    {
      Sid: 'CreateLoadBalancers',
      Effect: 'Allow',
      Action: ['elasticloadbalancing:CreateLoadBalancer', 'elasticloadbalancing:CreateTargetGroup'],
      Resource: loadBalancers,
      Condition: ownedBy('aws:RequestTag'),
    },
    {
      Sid: 'ManageListenersAndRules',
      Effect: 'Allow',
      Action: [
        'elasticloadbalancing:CreateListener',
        'elasticloadbalancing:DeleteListener',
        'elasticloadbalancing:CreateRule',
        'elasticloadbalancing:DeleteRule',
      ],
      Resource: [
        elb('loadbalancer/app/*/*'),
        elb('loadbalancer/net/*/*'),
        elb('listener/app/*/*/*'),
        elb('listener/net/*/*/*'),
        elb('listener-rule/app/*/*/*'),
        elb('listener-rule/net/*/*/*'),
      ],
    },
    {
      Sid: 'RetagOwnLoadBalancers',
      Effect: 'Allow',
      Action: ['elasticloadbalancing:AddTags', 'elasticloadbalancing:RemoveTags'],
      Resource: loadBalancers,
      Condition: {
        Null: { 'aws:RequestTag/elbv2.k8s.aws/cluster': 'true' },
        ...ownedBy('aws:ResourceTag'),
      },
    },
    {
      Sid: 'TagListenersAndRules',
      Effect: 'Allow',
      Action: ['elasticloadbalancing:AddTags', 'elasticloadbalancing:RemoveTags'],
      Resource: [
        elb('listener/net/*/*/*'),
        elb('listener/app/*/*/*'),
        elb('listener-rule/net/*/*/*'),
        elb('listener-rule/app/*/*/*'),
      ],
    },
    {
      Sid: 'ChangeOwnLoadBalancers',
      Effect: 'Allow',
      Action: [
        'elasticloadbalancing:ModifyLoadBalancerAttributes',
        'elasticloadbalancing:SetIpAddressType',
        'elasticloadbalancing:SetSecurityGroups',
        'elasticloadbalancing:SetSubnets',
        'elasticloadbalancing:DeleteLoadBalancer',
        'elasticloadbalancing:ModifyTargetGroup',
        'elasticloadbalancing:ModifyTargetGroupAttributes',
        'elasticloadbalancing:DeleteTargetGroup',
        'elasticloadbalancing:ModifyListenerAttributes',
        'elasticloadbalancing:ModifyCapacityReservation',
        'elasticloadbalancing:ModifyIpPools',
      ],
      Resource: loadBalancers,
      Condition: ownedBy('aws:ResourceTag'),
    },
    {
      Sid: 'TagLoadBalancersOnCreate',
      Effect: 'Allow',
      Action: ['elasticloadbalancing:AddTags'],
      Resource: loadBalancers,
      Condition: {
        StringEquals: {
          'elasticloadbalancing:CreateAction': ['CreateTargetGroup', 'CreateLoadBalancer'],
          'aws:RequestTag/elbv2.k8s.aws/cluster': a.clusterName,
        },
      },
    },
    {
      Sid: 'RegisterPods',
      Effect: 'Allow',
      Action: ['elasticloadbalancing:RegisterTargets', 'elasticloadbalancing:DeregisterTargets'],
      Resource: elb('targetgroup/*/*'),
    },
    {
      Sid: 'ChangeListenersAndRules',
      Effect: 'Allow',
      Action: [
        'elasticloadbalancing:ModifyListener',
        'elasticloadbalancing:AddListenerCertificates',
        'elasticloadbalancing:RemoveListenerCertificates',
        'elasticloadbalancing:ModifyRule',
        'elasticloadbalancing:SetRulePriorities',
      ],
      Resource: [
        elb('listener/app/*/*/*'),
        elb('listener/net/*/*/*'),
        elb('listener-rule/app/*/*/*'),
        elb('listener-rule/net/*/*/*'),
      ],
    },
  ];
  return policyDocument(statements);
}

/** Helm values of the pinned aws-load-balancer-controller chart (checked against its values.yaml). */
export function loadBalancerControllerValues(a: {
  cfg: StackConfig;
  tier: Tier;
  clusterName: pulumi.Input<string>;
  vpcId: pulumi.Input<string>;
  roleArn: pulumi.Input<string>;
}): Record<string, unknown> {
  const replicas = a.tier.ingress.controllerReplicas;
  return {
    // Nodes allow IMDSv2 with a hop limit of 1, so the pods cannot look up region and VPC there.
    clusterName: a.clusterName,
    region: a.cfg.region,
    vpcId: a.vpcId,
    replicaCount: replicas,
    ...(replicas > 1 ? { podDisruptionBudget: { maxUnavailable: 1 } } : {}),
    serviceAccount: {
      create: true,
      name: LBC_SERVICE_ACCOUNT,
      annotations: { 'eks.amazonaws.com/role-arn': a.roleArn },
    },
    resources: { requests: { cpu: '50m', memory: '128Mi' }, limits: { memory: '256Mi' } },
    ingressClass: ALB_INGRESS_CLASS,
    createIngressClassResource: true,
    defaultTargetType: 'ip',
    // Its webhook (failurePolicy Fail) sees every Service created in the cluster, and while the
    // controller is not yet ready it refuses them all: the other releases of the first `up` would
    // fail (kubernetes-sigs/aws-load-balancer-controller#4140). The stacks make no Service of
    // type LoadBalancer; the public entries are Ingresses.
    enableServiceMutatorWebhook: false,
    // Not used, and their permissions are left out of the policy above.
    enableShield: false,
    enableWaf: false,
    enableWafv2: false,
    defaultTags: awsTags(a.cfg, 'ingress'),
  };
}

export interface LoadBalancerControllerArgs {
  readonly cfg: StackConfig;
  readonly tier: Tier;
  readonly cluster: Cluster;
  readonly network: Network;
}

/**
 * The AWS Load Balancer Controller (EKS): the controller of the "alb" IngressClass that turns the
 * stack's Ingresses into one internet-facing ALB, with its own IRSA role that only its service
 * account may assume.
 */
export class LoadBalancerController extends pulumi.ComponentResource {
  readonly ingressClassName = ALB_INGRESS_CLASS;
  /** Ingresses wait for it: its validating webhook (failurePolicy Fail) must answer first. */
  readonly release: Release;
  readonly roleArn: pulumi.Output<string>;

  constructor(name: string, args: LoadBalancerControllerArgs, opts?: pulumi.ComponentResourceOptions) {
    super('archibald:ingress:LoadBalancerController', name, {}, opts);
    const { cfg, tier, cluster, network } = args;
    if (!cluster.oidcProviderArn || !cluster.oidcIssuerUrl || !cluster.clusterName)
      throw new Error('LoadBalancerController: needs the EKS cluster and its OIDC provider');
    const child = { parent: this };
    const tags = awsTags(cfg, 'ingress');

    const role = new iam.Role(
      `${name}-lbc`,
      {
        name: physicalName(cfg, 'load-balancer-controller'),
        assumeRolePolicy: assumeRoleForServiceAccount(
          cluster.oidcProviderArn,
          cluster.oidcIssuerUrl,
          LBC_NAMESPACE,
          LBC_SERVICE_ACCOUNT,
        ),
        tags,
      },
      child,
    );
    // The account is the OIDC provider's (arn:aws:iam::<account>:oidc-provider/...).
    const vpcArn = pulumi
      .all([cluster.oidcProviderArn, network.vpcId])
      .apply(([oidc, vpcId]) => `arn:aws:ec2:${cfg.region}:${oidc.split(':')[4]}:vpc/${vpcId}`);
    const policy = new iam.RolePolicy(
      `${name}-lbc`,
      {
        role: role.id,
        policy: loadBalancerControllerPolicy({
          region: cfg.region,
          clusterName: cluster.clusterName,
          vpcArn,
        }),
      },
      child,
    );

    this.release = pinnedChartRelease(
      `${name}-lbc`,
      'awsLoadBalancerController',
      {
        name: 'aws-load-balancer-controller',
        namespace: LBC_NAMESPACE,
        values: loadBalancerControllerValues({
          cfg,
          tier,
          clusterName: cluster.clusterName,
          vpcId: network.vpcId,
          roleArn: role.arn,
        }),
        atomic: true,
      },
      // The pods assume the role at start: its permissions exist before they do.
      { parent: this, dependsOn: [policy] },
    );
    this.roleArn = role.arn;
    this.registerOutputs({ ingressClassName: this.ingressClassName, roleArn: this.roleArn });
  }
}
