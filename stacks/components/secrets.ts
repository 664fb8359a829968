import * as crypto from 'node:crypto';
import * as pulumi from '@pulumi/pulumi';
import * as iam from '@pulumi/aws/iam/index.js';
import * as batchv1 from '@pulumi/kubernetes/batch/v1/index.js';
import * as corev1 from '@pulumi/kubernetes/core/v1/index.js';
import type { Release } from '@pulumi/kubernetes/helm/v3/release.js';
import { RandomPassword } from '@pulumi/random/randomPassword.js';
import { CertRequest } from '@pulumi/tls/certRequest.js';
import { LocallySignedCert } from '@pulumi/tls/locallySignedCert.js';
import { PrivateKey } from '@pulumi/tls/privateKey.js';
import { SelfSignedCert } from '@pulumi/tls/selfSignedCert.js';
import type { StackConfig } from '../config.js';
import { assumeRoleForServiceAccount, policyDocument } from '../iam.js';
import { hardenedContainer, pinnedChartRelease, restrictedPod } from '../kube.js';
import { customerKey } from '../kms.js';
import { awsTags } from '../naming.js';
import { PINNED } from '../tiers.js';
import type { Tier } from '../tiers.js';
import {
  BOOTSTRAP_POLICY_HCL,
  KV_MOUNT,
  RUNTIME_SECRETS,
  VAULT_CA_KEY,
  VAULT_CA_SECRET,
  VAULT_NAMESPACE,
  VAULT_ROLES,
  VAULT_SERVER_TLS_DIR,
  VAULT_TLS_SECRET,
  vaultCaVolume,
  vaultClientEnv,
  vaultEndpoint,
  vaultPeerHost,
  vaultServerNames,
} from '../vault-access.js';
import type { VaultEndpoint } from '../vault-access.js';
import type { Cluster } from './cluster.js';

export interface SecretsArgs {
  readonly cfg: StackConfig;
  readonly tier: Tier;
  readonly cluster: Cluster;
  readonly databasePassword: pulumi.Output<string>;
  readonly redisPassword: pulumi.Output<string>;
  readonly anthropicApiKey: pulumi.Output<string> | undefined;
  /**
   * Staging/prod: the bootstrap token (policy BOOTSTRAP_POLICY_HCL, never the root token), set as
   * a stack secret after `vault operator init`; dev uses its dev-mode root token.
   */
  readonly vaultToken: pulumi.Output<string> | undefined;
  /** The namespace of the runtime's pods and exporters, which log in to Vault: it gets the CA. */
  readonly runtimeNamespace: pulumi.Input<string>;
}

const VAULT_SERVICE_ACCOUNT = 'vault';
const CONFIGURE_UID = 10001;
/** The chart's server and injector user and group (values.yaml: server.uid/gid, injector.uid/gid). */
const VAULT_UID = 100;
const VAULT_GID = 1000;
const SERVER_CA_FILE = `${VAULT_SERVER_TLS_DIR}/${VAULT_CA_KEY}`;

/** Pod Security labels of a namespace whose pods all meet the restricted standard. */
export const RESTRICTED_NAMESPACE_LABELS = {
  'pod-security.kubernetes.io/enforce': 'restricted',
  'pod-security.kubernetes.io/enforce-version': 'latest',
} as const;

/**
 * Raft storage with AWS KMS auto-unseal: pods restart unsealed, no human holds unseal keys.
 * The listener serves TLS with the stack's certificate; followers retry-join the leader over
 * https, trusting the stack's CA and checking the peer's own name.
 */
export function haRaftConfig(region: string, kmsKeyId: string, replicas: number): string {
  return [
    'ui = true',
    'listener "tcp" {',
    '  address = "[::]:8200"',
    '  cluster_address = "[::]:8201"',
    `  tls_cert_file = "${VAULT_SERVER_TLS_DIR}/tls.crt"`,
    `  tls_key_file = "${VAULT_SERVER_TLS_DIR}/tls.key"`,
    '  tls_min_version = "tls12"',
    '  telemetry {',
    '    unauthenticated_metrics_access = "true"',
    '  }',
    '}',
    'storage "raft" {',
    '  path = "/vault/data"',
    // Followers find the leader themselves; no manual `vault operator raft join`.
    ...[...Array(replicas).keys()].flatMap((i) => [
      '  retry_join {',
      `    leader_api_addr = "https://${vaultPeerHost(i)}:8200"`,
      `    leader_ca_cert_file = "${SERVER_CA_FILE}"`,
      `    leader_tls_servername = "${vaultPeerHost(i)}"`,
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

/**
 * The chart's pods under the restricted Pod Security level: its own defaults (values.yaml
 * server/injector securityContext) plus the RuntimeDefault seccomp profile and no capabilities.
 * The chart appends `disable_mlock = true` to the server config and sets SKIP_SETCAP, so Vault
 * needs no IPC_LOCK.
 */
export function vaultChartSecurityContext(): {
  pod: Record<string, unknown>;
  container: Record<string, unknown>;
} {
  return {
    pod: {
      runAsNonRoot: true,
      runAsUser: VAULT_UID,
      runAsGroup: VAULT_GID,
      fsGroup: VAULT_GID,
      seccompProfile: { type: 'RuntimeDefault' },
    },
    container: { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } },
  };
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
  const securityContext = vaultChartSecurityContext();
  return pulumi
    .all([args.devRootToken, args.kmsKeyId, args.roleArn])
    .apply(([devRootToken, kmsKeyId, roleArn]): Record<string, unknown> => {
      const injector = {
        enabled: true,
        replicas: tier.vault.ha ? 2 : 1,
        metrics: { enabled: true },
        securityContext,
      };
      if (!tier.vault.ha) {
        return {
          injector,
          server: {
            dev: { enabled: true, devRootToken },
            dataStorage: { enabled: false },
            statefulSet: { securityContext },
            resources: { requests: { cpu: '50m', memory: '128Mi' }, limits: { memory: '256Mi' } },
          },
        };
      }
      if (!kmsKeyId || !roleArn) throw new Error('Vault HA needs the auto-unseal KMS key and its IRSA role');
      return {
        // https everywhere the chart builds an address: probes, the in-pod VAULT_ADDR, the
        // injector's default Vault address, the services' port names.
        global: { tlsDisable: false },
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
          volumes: [{ name: 'vault-tls', secret: { secretName: VAULT_TLS_SECRET, defaultMode: 0o440 } }],
          volumeMounts: [{ name: 'vault-tls', mountPath: VAULT_SERVER_TLS_DIR, readOnly: true }],
          // The CLI inside a server pod (`vault operator init`) trusts the stack's CA.
          extraEnvironmentVars: { VAULT_CACERT: SERVER_CA_FILE },
          statefulSet: { securityContext },
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

/**
 * The stack's private CA and the Vault server's certificate (ECDSA P-256). Both keys live only in
 * the Pulumi state (encrypted as secrets) and in the vault-tls Secret. A `pulumi up` within the
 * early-renewal window replaces a certificate; Vault re-reads its certificate on SIGHUP.
 */
function vaultServerCertificate(
  name: string,
  replicas: number,
  opts: pulumi.CustomResourceOptions,
): { caCertPem: pulumi.Output<string>; certPem: pulumi.Output<string>; keyPem: pulumi.Output<string> } {
  const caKey = new PrivateKey(`${name}-ca`, { algorithm: 'ECDSA', ecdsaCurve: 'P256' }, opts);
  const ca = new SelfSignedCert(
    `${name}-ca`,
    {
      privateKeyPem: caKey.privateKeyPem,
      subject: { commonName: 'Archibald Vault CA', organization: 'Archibald' },
      isCaCertificate: true,
      validityPeriodHours: 10 * 8760,
      earlyRenewalHours: 8760,
      allowedUses: ['cert_signing', 'crl_signing', 'digital_signature'],
    },
    opts,
  );
  const serverKey = new PrivateKey(`${name}-server`, { algorithm: 'ECDSA', ecdsaCurve: 'P256' }, opts);
  const names = vaultServerNames(replicas);
  const request = new CertRequest(
    `${name}-server`,
    {
      privateKeyPem: serverKey.privateKeyPem,
      subject: { commonName: `vault-active.${VAULT_NAMESPACE}.svc`, organization: 'Archibald' },
      dnsNames: names.dnsNames,
      ipAddresses: names.ipAddresses,
    },
    opts,
  );
  const cert = new LocallySignedCert(
    `${name}-server`,
    {
      certRequestPem: request.certRequestPem,
      caPrivateKeyPem: caKey.privateKeyPem,
      caCertPem: ca.certPem,
      validityPeriodHours: 8760,
      earlyRenewalHours: 720,
      allowedUses: ['digital_signature', 'key_encipherment', 'server_auth'],
    },
    opts,
  );
  return { caCertPem: ca.certPem, certPem: cert.certPem, keyPem: pulumi.secret(serverKey.privateKeyPem) };
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
 * Vault: dev mode in dev, HA raft (replicas from the tier) with KMS auto-unseal and a TLS listener
 * (certificate from the stack's private CA) elsewhere, the injector on. A configure Job writes the
 * runtime's secrets (DB password, Redis token, provider keys) to KV and creates the Kubernetes auth
 * roles and policies the pods log in with.
 *
 * Dev mode stays plain HTTP: `vault server -dev` takes no listener config from the chart, and its
 * own -dev-tls makes a new CA inside the pod at every start, which no client could be given ahead
 * of time; dev traffic never leaves the developer's kind cluster.
 */
export class Secrets extends pulumi.ComponentResource {
  readonly release: Release;
  readonly address: string;
  readonly endpoint: VaultEndpoint;
  readonly configured: boolean;
  readonly devRootToken: pulumi.Output<string> | undefined;
  /** PEM of the private CA Vault's certificate chains to (HA); clients trust it. */
  readonly caCertPem: pulumi.Output<string> | undefined;
  /** The policy of the bootstrap token the operator creates (HA); `vault policy write` input. */
  readonly bootstrapPolicy: string | undefined;
  /** What pods that log in to Vault wait for: the configure Job when there is one, the CA secrets. */
  readonly ready: pulumi.Resource[];

  constructor(name: string, args: SecretsArgs, opts?: pulumi.ComponentResourceOptions) {
    super('archibald:secrets:Secrets', name, {}, opts);
    const { cfg, tier, cluster } = args;
    const child = { parent: this };
    const namespace = new corev1.Namespace(
      `${name}-ns`,
      { metadata: { name: VAULT_NAMESPACE, labels: RESTRICTED_NAMESPACE_LABELS } },
      child,
    );
    this.endpoint = vaultEndpoint(tier.vault.ha);
    this.address = this.endpoint.address;
    const caSecrets: corev1.Secret[] = [];
    const releaseDependsOn: pulumi.Resource[] = [];

    let values: pulumi.Output<Record<string, unknown>>;
    let token: pulumi.Output<string> | undefined;
    if (!tier.vault.ha) {
      const root = new RandomPassword(`${name}-dev-root-token`, { length: 32, special: false }, child);
      this.devRootToken = pulumi.secret(root.result);
      this.caCertPem = undefined;
      this.bootstrapPolicy = undefined;
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

      const tls = vaultServerCertificate(`${name}-tls`, tier.vault.replicas, child);
      releaseDependsOn.push(
        new corev1.Secret(
          `${name}-tls`,
          {
            metadata: { name: VAULT_TLS_SECRET, namespace: namespace.metadata.name },
            type: 'kubernetes.io/tls',
            stringData: { 'tls.crt': tls.certPem, 'tls.key': tls.keyPem, [VAULT_CA_KEY]: tls.caCertPem },
          },
          child,
        ),
      );
      // The CA alone (no key) wherever a client runs: the configure Job and snapshot CronJob here,
      // the runtime's pods and exporters (the injector mounts it for Vault Agent).
      for (const [id, ns] of [
        ['vault', namespace.metadata.name],
        ['runtime', args.runtimeNamespace],
      ] as const) {
        caSecrets.push(
          new corev1.Secret(
            `${name}-ca-${id}`,
            {
              metadata: { name: VAULT_CA_SECRET, namespace: ns },
              stringData: { [VAULT_CA_KEY]: tls.caCertPem },
            },
            child,
          ),
        );
      }
      this.caCertPem = tls.caCertPem;
      this.bootstrapPolicy = BOOTSTRAP_POLICY_HCL;
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
      { parent: this, dependsOn: releaseDependsOn },
    );

    // Without a token (HA before `vault operator init`) there is nothing to configure yet; the
    // README's first-run steps set one and the next `pulumi up` runs the Job.
    this.configured = token !== undefined;
    this.ready = [this.release, ...caSecrets];
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
                      ...vaultClientEnv(this.endpoint),
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
                      ...vaultCaVolume(this.endpoint).volumeMounts,
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
                  ...vaultCaVolume(this.endpoint).volumes,
                ],
              }),
            },
          },
        },
        { parent: this, dependsOn: [this.release, ...caSecrets] },
      );
      this.ready = [configure, ...caSecrets];
    }
    this.registerOutputs({ address: this.address });
  }
}
