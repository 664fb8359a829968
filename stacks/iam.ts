import * as pulumi from '@pulumi/pulumi';

/** IAM policy documents built as JSON here (no getPolicyDocument invoke: nothing to call at plan time). */
export interface Statement {
  readonly Sid?: string;
  readonly Effect: 'Allow' | 'Deny';
  readonly Action: string | string[];
  readonly Resource?: pulumi.Input<string> | pulumi.Input<string>[];
  readonly Principal?: Record<string, pulumi.Input<string> | pulumi.Input<string>[]>;
  readonly Condition?: Record<string, Record<string, pulumi.Input<string> | pulumi.Input<string>[]>>;
}

export function policyDocument(statements: Statement[]): pulumi.Output<string> {
  return pulumi.jsonStringify({ Version: '2012-10-17', Statement: statements });
}

export function assumeRoleForService(service: string): pulumi.Output<string> {
  return policyDocument([{ Effect: 'Allow', Principal: { Service: service }, Action: 'sts:AssumeRole' }]);
}

/**
 * Trust policy for IRSA: only the named Kubernetes service account, through the cluster's OIDC
 * provider, may assume the role.
 */
export function assumeRoleForServiceAccount(
  oidcProviderArn: pulumi.Input<string>,
  oidcIssuerUrl: pulumi.Input<string>,
  namespace: string,
  serviceAccount: string,
): pulumi.Output<string> {
  const issuer = pulumi.output(oidcIssuerUrl).apply((u) => u.replace(/^https:\/\//, ''));
  return pulumi.all([oidcProviderArn, issuer]).apply(([arn, host]) =>
    JSON.stringify({
      Version: '2012-10-17',
      Statement: [
        {
          Effect: 'Allow',
          Principal: { Federated: arn },
          Action: 'sts:AssumeRoleWithWebIdentity',
          Condition: {
            StringEquals: {
              [`${host}:sub`]: `system:serviceaccount:${namespace}:${serviceAccount}`,
              [`${host}:aud`]: 'sts.amazonaws.com',
            },
          },
        },
      ],
    }),
  );
}

export const managedPolicy = (name: string): string => `arn:aws:iam::aws:policy/${name}`;
