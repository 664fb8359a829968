import * as crypto from 'node:crypto';
import * as pulumi from '@pulumi/pulumi';
import * as iam from '@pulumi/aws/iam/index.js';
import * as batchv1 from '@pulumi/kubernetes/batch/v1/index.js';
import * as corev1 from '@pulumi/kubernetes/core/v1/index.js';
import type { Release } from '@pulumi/kubernetes/helm/v3/release.js';
import { RandomPassword } from '@pulumi/random/randomPassword.js';
import type { StackConfig } from '../config.js';
import { assumeRoleForServiceAccount, policyDocument } from '../iam.js';
import { hardenedContainer, pinnedChartRelease, restrictedPod } from '../kube.js';
import { customerKey } from '../kms.js';
import { awsTags } from '../naming.js';
import { PINNED } from '../tiers.js';
import type { Tier } from '../tiers.js';
import { KV_MOUNT, RUNTIME_SECRETS, VAULT_NAMESPACE, VAULT_ROLES, vaultAddress } from '../vault-access.js';
import type { Cluster } from './cluster.js';

export interface SecretsArgs {
  readonly cfg: StackConfig;
  readonly tier: Tier;
  readonly cluster: Cluster;
  readonly databasePassword: pulumi.Output<string>;
  readonly redisPassword: pulumi.Output<string>;
  readonly anthropicApiKey: pulumi.Output<string> | undefined;
  /** Staging/prod: a token from `vault operator init`, set as a stack secret; dev uses its root token. */
  readonly vaultToken: pulumi.Output<string> | undefined;
}

const VAULT_SERVICE_ACCOUNT = 'vault';
const CONFIGURE_UID = 10001;

/** Raft storage with AWS KMS auto-unseal: pods restart unsealed, no human holds unseal keys. */
export function haRaftConfig(region: string, kmsKeyId: string, replicas: number): string {
  return [
    'ui = true',
    'listener "tcp" {',
    '  tls_disable = 1',
    '  address = "[::]:8200"',
    '  cluster_address = "[::]:8201"',
    '  telemetry {',
    '    unauthenticated_metrics_access = "true"',
    '  }',
    '}',
    'storage "raft" {',
    '  path = "/vault/data"',
    // Followers find the leader themselves; no manual `vault operator raft join`.
    ...[...Array(replicas).keys()].flatMap((i) => [
      '  retry_join {',
      `    leader_api_addr = "http://vault-${i}.vault-internal:8200"`,
      '  }',
    ]),
    '}',
    'seal "awskms" {',
    `  region = "${region}"`,
    `  kms_key_id = "${kmsKeyId}"`,
    '}',
    'telemetry {',
    '  prometheus_retention_time = "30s"',
    '  disable_hostname = true',
    '}',
    'service_registration "kubernetes" {}',
  ].join('\n');
}

/** Helm values of the Vault chart per tier (checked against the pinned chart by the tests). */
export function vaultValues(args: {
  tier: Tier;
  devRootToken?: pulumi.Input<string>;
  kmsKeyId?: pulumi.Input<string>;
  region: string;
  roleArn?: pulumi.Input<string>;
}): pulumi.Output<Record<string, unknown>> {
  const { tier } = args;
  return pulumi
    .all([args.devRootToken, args.kmsKeyId, args.roleArn])
    .apply(([devRootToken, kmsKeyId, roleArn]): Record<string, unknown> => {
      const injector = { enabled: true, replicas: tier.vault.ha ? 2 : 1, metrics: { enabled: true } };
      if (!tier.vault.ha) {
        return {
          injector,
          server: {
            dev: { enabled: true, devRootToken },
            dataStorage: { enabled: false },
            resources: { requests: { cpu: '50m', memory: '128Mi' }, limits: { memory: '256Mi' } },
          },
        };
      }
      if (!kmsKeyId || !roleArn) throw new Error('Vault HA needs the auto-unseal KMS key and its IRSA role');
      return {
        injector,
        server: {
          ha: {
            enabled: true,
            replicas: tier.vault.replicas,
            raft: {
              enabled: true,
              setNodeId: true,
              config: haRaftConfig(args.region, kmsKeyId, tier.vault.replicas),
            },
            disruptionBudget: { enabled: true },
          },
          dataStorage: { enabled: true, size: `${tier.vault.storageGiB}Gi` },
          auditStorage: { enabled: true },
          serviceAccount: {
            create: true,
            name: VAULT_SERVICE_ACCOUNT,
            annotations: { 'eks.amazonaws.com/role-arn': roleArn },
          },
          resources: { requests: { cpu: '250m', memory: '256Mi' }, limits: { memory: '1Gi' } },
        },
      };
    });
}

/** The script the configure Job runs: KV engine, the runtime's secret, policies, Kubernetes auth roles. */
export function configureScript(): string {
  const lines = [
    'set -eu',
    `vault secrets list -format=json | grep -q '"${KV_MOUNT}/"' || vault secrets enable -path=${KV_MOUNT} kv-v2`,
    `vault kv put ${KV_MOUNT}/runtime @/bootstrap/runtime.json`,
    'vault auth list -format=json | grep -q \'"kubernetes/"\' || vault auth enable kubernetes',
    'vault write auth/kubernetes/config kubernetes_host=https://kubernetes.default.svc',
  ];
  for (const role of Object.values(VAULT_ROLES)) {
    lines.push(`vault policy write ${role.policy} /policies/${role.policy}.hcl`);
    lines.push(
      `vault write auth/kubernetes/role/${role.name} bound_service_account_names=${role.serviceAccounts.join(',')} ` +
        `bound_service_account_namespaces=${role.namespaces.join(',')} policies=${role.policy} ttl=1h`,
    );
  }
  return lines.join('\n');
}

/**
 * Vault: dev mode in dev, HA raft (replicas from the tier) with KMS auto-unseal elsewhere, the
 * injector on. A configure Job writes the runtime's secrets (DB password, Redis token, provider
 * keys) to KV and creates the Kubernetes auth roles and policies the pods log in with.
 */
export class Secrets extends pulumi.ComponentResource {
  readonly release: Release;
  readonly address: string;
  readonly configured: boolean;
  readonly devRootToken: pulumi.Output<string> | undefined;
  /** What pods that log in to Vault wait for: the configure Job when there is one. */
  readonly ready: pulumi.Resource[];

  constructor(name: string, args: SecretsArgs, opts?: pulumi.ComponentResourceOptions) {
    super('archibald:secrets:Secrets', name, {}, opts);
    const { cfg, tier, cluster } = args;
    const child = { parent: this };
    const namespace = new corev1.Namespace(`${name}-ns`, { metadata: { name: VAULT_NAMESPACE } }, child);

    let values: pulumi.Output<Record<string, unknown>>;
    let token: pulumi.Output<string> | undefined;
    if (!tier.vault.ha) {
      const root = new RandomPassword(`${name}-dev-root-token`, { length: 32, special: false }, child);
      this.devRootToken = pulumi.secret(root.result);
      values = vaultValues({ tier, devRootToken: this.devRootToken, region: cfg.region });
      token = this.devRootToken;
    } else {
      if (!cluster.oidcProviderArn || !cluster.oidcIssuerUrl)
        throw new Error('Secrets: Vault HA auto-unseal needs an EKS cluster (IRSA)');
      const tags = awsTags(cfg, 'secrets');
      const unsealKey = customerKey(`${name}-unseal`, 'Vault auto-unseal', cfg, tags, child);
      const role = new iam.Role(
        `${name}-unseal`,
        {
          assumeRolePolicy: assumeRoleForServiceAccount(
            cluster.oidcProviderArn,
            cluster.oidcIssuerUrl,
            VAULT_NAMESPACE,
            VAULT_SERVICE_ACCOUNT,
          ),
          tags,
        },
        child,
      );
      new iam.RolePolicy(
        `${name}-unseal`,
        {
          role: role.id,
          policy: policyDocument([
            {
              Effect: 'Allow',
              Action: ['kms:Encrypt', 'kms:Decrypt', 'kms:DescribeKey'],
              Resource: unsealKey.arn,
            },
          ]),
        },
        child,
      );
      this.devRootToken = undefined;
      values = vaultValues({ tier, kmsKeyId: unsealKey.keyId, roleArn: role.arn, region: cfg.region });
      token = args.vaultToken;
    }

    this.release = pinnedChartRelease(
      `${name}-vault`,
      'vault',
      {
        name: 'vault',
        namespace: namespace.metadata.name,
        values,
        // HA pods stay unready until `vault operator init`: waiting for them would fail the first up.
        skipAwait: tier.vault.ha,
      },
      child,
    );
    this.address = vaultAddress(tier.vault.ha);

    // Without a token (HA before `vault operator init`) there is nothing to configure yet; the
    // README's first-run steps set one and the next `pulumi up` runs the Job.
    this.configured = token !== undefined;
    this.ready = [this.release];
    if (token !== undefined) {
      const runtimeSecret = pulumi.secret(
        pulumi
          .all([args.databasePassword, args.redisPassword, args.anthropicApiKey ?? ''])
          .apply(([db, redis, anthropic]) =>
            JSON.stringify({
              [RUNTIME_SECRETS.databasePassword.key]: db,
              [RUNTIME_SECRETS.redisPassword.key]: redis,
              [RUNTIME_SECRETS.anthropicApiKey.key]: anthropic,
            }),
          ),
      );
      const bootstrap = new corev1.Secret(
        `${name}-bootstrap`,
        {
          metadata: { name: 'vault-bootstrap', namespace: namespace.metadata.name },
          stringData: { token, 'runtime.json': runtimeSecret },
        },
        child,
      );
      const policies = new corev1.ConfigMap(
        `${name}-policies`,
        {
          metadata: { name: 'vault-policies', namespace: namespace.metadata.name },
          data: Object.fromEntries(Object.values(VAULT_ROLES).map((r) => [`${r.policy}.hcl`, r.policyHcl])),
        },
        child,
      );
      // A new Job (new name) whenever what it writes changes. The name carries only a truncated
      // digest of the material, which reveals nothing of it.
      const revision = pulumi
        .all([runtimeSecret, token])
        .apply(([secret, t]) =>
          crypto
            .createHash('sha256')
            .update(configureScript())
            .update(secret)
            .update(t)
            .digest('hex')
            .slice(0, 10),
        );
      const configure = new batchv1.Job(
        `${name}-configure`,
        {
          metadata: {
            name: pulumi.interpolate`vault-configure-${revision}`,
            namespace: namespace.metadata.name,
          },
          spec: {
            backoffLimit: 6,
            activeDeadlineSeconds: 600,
            template: {
              spec: restrictedPod(CONFIGURE_UID, {
                restartPolicy: 'OnFailure',
                containers: [
                  hardenedContainer({
                    name: 'configure',
                    image: PINNED.vaultImage,
                    command: ['sh', '-c', configureScript()],
                    env: [
                      { name: 'VAULT_ADDR', value: this.address },
                      {
                        name: 'VAULT_TOKEN',
                        valueFrom: { secretKeyRef: { name: bootstrap.metadata.name, key: 'token' } },
                      },
                      { name: 'HOME', value: '/tmp' },
                    ],
                    resources: {
                      requests: { cpu: '50m', memory: '64Mi' },
                      limits: { cpu: '500m', memory: '256Mi' },
                    },
                    volumeMounts: [
                      { name: 'bootstrap', mountPath: '/bootstrap', readOnly: true },
                      { name: 'policies', mountPath: '/policies', readOnly: true },
                      { name: 'tmp', mountPath: '/tmp' },
                    ],
                  }),
                ],
                volumes: [
                  {
                    name: 'bootstrap',
                    secret: {
                      secretName: bootstrap.metadata.name,
                      items: [{ key: 'runtime.json', path: 'runtime.json' }],
                    },
                  },
                  { name: 'policies', configMap: { name: policies.metadata.name } },
                  { name: 'tmp', emptyDir: {} },
                ],
              }),
            },
          },
        },
        { parent: this, dependsOn: [this.release] },
      );
      this.ready = [configure];
    }
    this.registerOutputs({ address: this.address });
  }
}
