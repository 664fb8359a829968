import * as pulumi from '@pulumi/pulumi';
import * as ec2 from '@pulumi/aws/ec2/index.js';
import * as eks from '@pulumi/aws/eks/index.js';
import * as iam from '@pulumi/aws/iam/index.js';
import * as cloudwatch from '@pulumi/aws/cloudwatch/index.js';
import { Provider as KubernetesProvider } from '@pulumi/kubernetes/provider.js';
import * as storagev1 from '@pulumi/kubernetes/storage/v1/index.js';
import type { StackConfig } from '../config.js';
import { eksNodeRole } from '../eks-node-role.js';
import { assumeRoleForService, assumeRoleForServiceAccount, managedPolicy } from '../iam.js';
import { customerKey } from '../kms.js';
import { awsTags, clusterName } from '../naming.js';
import { nodeGroupSize } from '../planning/capacity.js';
import { PINNED } from '../tiers.js';
import type { Tier } from '../tiers.js';
import type { Network } from './network.js';

export interface ClusterArgs {
  readonly cfg: StackConfig;
  readonly tier: Tier;
  /** Required in eks mode. */
  readonly network?: Network;
}

/** EKS's built-in access policy for full cluster admin (what system:masters used to grant). */
export const CLUSTER_ADMIN_POLICY = 'arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy';

/** Every control-plane log type EKS offers: audit trails matter most when something went wrong. */
const CONTROL_PLANE_LOGS = ['api', 'audit', 'authenticator', 'controllerManager', 'scheduler'];

/**
 * The Kubernetes cluster and the provider every Kubernetes resource uses. eks mode creates EKS
 * (pinned version, managed node group sized from the tier, OIDC provider for IRSA, control-plane
 * logs); existing mode targets a kubeconfig context (kind, minikube, k3d).
 */
export class Cluster extends pulumi.ComponentResource {
  readonly provider: KubernetesProvider;
  readonly mode: StackConfig['clusterMode'];
  readonly kubeconfig: pulumi.Output<string> | undefined;
  readonly clusterName: pulumi.Output<string> | undefined;
  readonly oidcProviderArn: pulumi.Output<string> | undefined;
  readonly oidcIssuerUrl: pulumi.Output<string> | undefined;
  /** The security group EKS made for the control plane and nodes (node-to-node and control-plane traffic). */
  readonly clusterSecurityGroupId: pulumi.Output<string> | undefined;

  constructor(name: string, args: ClusterArgs, opts?: pulumi.ComponentResourceOptions) {
    super('archibald:cluster:Cluster', name, {}, opts);
    const { cfg, tier } = args;
    this.mode = cfg.clusterMode;

    if (cfg.clusterMode === 'existing') {
      this.provider = new KubernetesProvider(
        `${name}-k8s`,
        {
          ...(cfg.kubeContext ? { context: cfg.kubeContext } : {}),
          enableServerSideApply: true,
        },
        { parent: this },
      );
      this.kubeconfig = undefined;
      this.clusterName = undefined;
      this.oidcProviderArn = undefined;
      this.oidcIssuerUrl = undefined;
      this.clusterSecurityGroupId = undefined;
      this.registerOutputs({});
      return;
    }

    const network = args.network;
    if (!network) throw new Error('Cluster: eks mode needs the Network component');
    const child = { parent: this };
    const tags = awsTags(cfg, 'cluster');
    const eksName = clusterName(cfg);

    const secretsKey = customerKey(`${name}-secrets`, 'EKS secrets envelope encryption', cfg, tags, child);

    const clusterRole = new iam.Role(
      `${name}-control-plane`,
      { assumeRolePolicy: assumeRoleForService('eks.amazonaws.com'), tags },
      child,
    );
    const clusterPolicy = new iam.RolePolicyAttachment(
      `${name}-control-plane`,
      {
        role: clusterRole.name,
        policyArn: managedPolicy('AmazonEKSClusterPolicy'),
      },
      child,
    );

    // EKS would create this group itself without retention; owning it bounds the log bill.
    const logGroup = new cloudwatch.LogGroup(
      `${name}-control-plane-logs`,
      {
        name: `/aws/eks/${eksName}/cluster`,
        retentionInDays: tier.storage.accessLogRetentionDays,
        tags,
      },
      child,
    );

    const cluster = new eks.Cluster(
      `${name}-eks`,
      {
        name: eksName,
        version: PINNED.eksVersion,
        roleArn: clusterRole.arn,
        vpcConfig: {
          subnetIds: [...network.privateSubnetIds, ...network.publicSubnetIds],
          endpointPrivateAccess: true,
          // Validated in config: prod names its operators' and CI's ranges, never 0.0.0.0/0.
          endpointPublicAccess: cfg.eksPublicAccessCidrs.length > 0,
          ...(cfg.eksPublicAccessCidrs.length > 0
            ? { publicAccessCidrs: [...cfg.eksPublicAccessCidrs] }
            : {}),
        },
        accessConfig: { authenticationMode: 'API', bootstrapClusterCreatorAdminPermissions: true },
        enabledClusterLogTypes: CONTROL_PLANE_LOGS,
        encryptionConfig: { resources: ['secrets'], provider: { keyArn: secretsKey.arn } },
        tags,
      },
      { parent: this, dependsOn: [clusterPolicy, logGroup], protect: tier.protectResources },
    );

    // Access entries (authenticationMode API): the roles operators and CI assume get cluster
    // admin; nobody depends on the creator's bootstrap permission surviving a role change.
    const adminAccess = cfg.clusterAdminRoleArns.map((principalArn, i) => {
      const entry = new eks.AccessEntry(
        `${name}-admin-${i}`,
        { clusterName: cluster.name, principalArn, type: 'STANDARD', tags },
        child,
      );
      return new eks.AccessPolicyAssociation(
        `${name}-admin-${i}`,
        {
          clusterName: cluster.name,
          principalArn: entry.principalArn,
          policyArn: CLUSTER_ADMIN_POLICY,
          accessScope: { type: 'cluster' },
        },
        child,
      );
    });

    const issuer = cluster.identities.apply((ids) => {
      const url = ids[0]?.oidcs?.[0]?.issuer;
      if (!url) throw new Error(`EKS cluster ${eksName} reported no OIDC issuer`);
      return url;
    });
    const oidc = new iam.OpenIdConnectProvider(
      `${name}-oidc`,
      {
        url: issuer,
        clientIdLists: ['sts.amazonaws.com'],
        tags,
      },
      child,
    );

    const { role: nodeRole, policies: nodePolicies } = eksNodeRole(`${name}-nodes`, tags, child);

    // The launch template sets the node disk from the tier, enforces IMDSv2 with a hop limit of 1
    // (pods cannot borrow the node's role) and adds the security group the data stores admit.
    const launchTemplate = new ec2.LaunchTemplate(
      `${name}-nodes`,
      {
        blockDeviceMappings: [
          {
            deviceName: '/dev/xvda',
            ebs: {
              volumeSize: tier.nodes.diskGiB,
              volumeType: 'gp3',
              encrypted: 'true',
              deleteOnTermination: 'true',
            },
          },
        ],
        metadataOptions: { httpEndpoint: 'enabled', httpTokens: 'required', httpPutResponseHopLimit: 1 },
        vpcSecurityGroupIds: [cluster.vpcConfig.clusterSecurityGroupId, network.nodeSecurityGroupId],
        tagSpecifications: [{ resourceType: 'instance', tags }],
        tags,
      },
      child,
    );

    // EKS's default CNI accepts NetworkPolicies but enforces none; the managed add-on with its
    // policy agent on makes the runtime's policies real. Installed before nodes join, as AWS advises.
    const vpcCni = new eks.Addon(
      `${name}-vpc-cni`,
      {
        clusterName: cluster.name,
        addonName: 'vpc-cni',
        resolveConflictsOnCreate: 'OVERWRITE',
        configurationValues: JSON.stringify({ enableNetworkPolicy: 'true' }),
        tags,
      },
      child,
    );

    const size = nodeGroupSize(tier);
    const nodeGroup = new eks.NodeGroup(
      `${name}-nodes`,
      {
        clusterName: cluster.name,
        nodeRoleArn: nodeRole.arn,
        subnetIds: network.privateSubnetIds,
        instanceTypes: [tier.nodes.instanceType],
        capacityType: 'ON_DEMAND',
        scalingConfig: { minSize: size.min, desiredSize: size.desired, maxSize: size.max },
        updateConfig: { maxUnavailable: 1 },
        launchTemplate: { id: launchTemplate.id, version: launchTemplate.latestVersion.apply(String) },
        tags,
      },
      // A fixed-size system group (Karpenter adds the runtime's nodes): desiredSize is managed here too.
      { parent: this, dependsOn: [...nodePolicies, vpcCni] },
    );

    // EKS ships no volume driver and, since 1.30, no default StorageClass: without the EBS CSI
    // add-on every PersistentVolumeClaim (Prometheus, Alertmanager, Vault raft) stays Pending.
    const ebsCsiRole = new iam.Role(
      `${name}-ebs-csi`,
      {
        assumeRolePolicy: assumeRoleForServiceAccount(
          oidc.arn,
          issuer,
          'kube-system',
          'ebs-csi-controller-sa',
        ),
        tags,
      },
      child,
    );
    const ebsCsiPolicy = new iam.RolePolicyAttachment(
      `${name}-ebs-csi`,
      { role: ebsCsiRole.name, policyArn: managedPolicy('service-role/AmazonEBSCSIDriverPolicy') },
      child,
    );
    const ebsCsi = new eks.Addon(
      `${name}-ebs-csi`,
      {
        clusterName: cluster.name,
        addonName: 'aws-ebs-csi-driver',
        serviceAccountRoleArn: ebsCsiRole.arn,
        resolveConflictsOnCreate: 'OVERWRITE',
        tags,
      },
      // The add-on's controller only becomes ACTIVE once it has nodes to run on.
      { parent: this, dependsOn: [nodeGroup, ebsCsiPolicy] },
    );

    const kubeconfig = pulumi.secret(
      pulumi
        .all([cluster.name, cluster.endpoint, cluster.certificateAuthority])
        .apply(([clusterId, endpoint, ca]) =>
          JSON.stringify({
            apiVersion: 'v1',
            kind: 'Config',
            clusters: [
              { name: clusterId, cluster: { server: endpoint, 'certificate-authority-data': ca.data } },
            ],
            contexts: [{ name: clusterId, context: { cluster: clusterId, user: clusterId } }],
            'current-context': clusterId,
            users: [
              {
                name: clusterId,
                user: {
                  exec: {
                    apiVersion: 'client.authentication.k8s.io/v1beta1',
                    command: 'aws',
                    args: ['eks', 'get-token', '--cluster-name', clusterId, '--region', cfg.region],
                  },
                },
              },
            ],
          }),
        ),
    );

    // Kubernetes resources go through this provider, which waits for the node group and the volume
    // driver, so nothing is scheduled before there are nodes and volumes to run it.
    this.provider = new KubernetesProvider(
      `${name}-k8s`,
      { kubeconfig, enableServerSideApply: true },
      { parent: this, dependsOn: [nodeGroup, ebsCsi, ...adminAccess] },
    );
    new storagev1.StorageClass(
      `${name}-gp3`,
      {
        metadata: {
          name: 'gp3',
          annotations: { 'storageclass.kubernetes.io/is-default-class': 'true' },
        },
        provisioner: 'ebs.csi.aws.com',
        parameters: { type: 'gp3', encrypted: 'true' },
        volumeBindingMode: 'WaitForFirstConsumer',
        allowVolumeExpansion: true,
        reclaimPolicy: 'Delete',
      },
      { parent: this, provider: this.provider },
    );
    this.kubeconfig = kubeconfig;
    this.clusterName = cluster.name;
    this.oidcProviderArn = oidc.arn;
    this.oidcIssuerUrl = issuer;
    this.clusterSecurityGroupId = cluster.vpcConfig.clusterSecurityGroupId;
    this.registerOutputs({ clusterName: this.clusterName, oidcProviderArn: this.oidcProviderArn });
  }
}
