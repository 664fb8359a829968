import type * as pulumi from '@pulumi/pulumi';
import * as iam from '@pulumi/aws/iam/index.js';
import { assumeRoleForService, managedPolicy } from './iam.js';

/** What every EKS worker node needs: join the cluster, run the VPC CNI, pull from ECR. */
const NODE_POLICIES = [
  'AmazonEKSWorkerNodePolicy',
  'AmazonEKS_CNI_Policy',
  'AmazonEC2ContainerRegistryReadOnly',
];

/**
 * The IAM role of EKS worker nodes (EC2 assumes it) with the managed policies above; both the
 * system node group and the nodes Karpenter launches use one. `name` prefixes every resource.
 */
export function eksNodeRole(
  name: string,
  tags: Record<string, string>,
  opts: pulumi.CustomResourceOptions,
): { role: iam.Role; policies: iam.RolePolicyAttachment[] } {
  const role = new iam.Role(
    name,
    { assumeRolePolicy: assumeRoleForService('ec2.amazonaws.com'), tags },
    opts,
  );
  const policies = NODE_POLICIES.map(
    (policy) =>
      new iam.RolePolicyAttachment(
        `${name}-${policy}`,
        { role: role.name, policyArn: managedPolicy(policy) },
        opts,
      ),
  );
  return { role, policies };
}
