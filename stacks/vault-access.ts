/**
 * What Vault holds for Archibald and who may read it: the KV path, the policies and the
 * Kubernetes auth roles. The secrets component writes them into Vault; the runtime's pods and the
 * snapshot CronJob log in with the roles named here.
 */
export const KV_MOUNT = 'archibald';
export const RUNTIME_SECRET_PATH = `${KV_MOUNT}/runtime`;

/** Keys of the runtime's KV secret, and the file each is rendered to under /vault/secrets/. */
export const RUNTIME_SECRETS = {
  databasePassword: { key: 'database_password', file: 'database-password' },
  redisPassword: { key: 'redis_password', file: 'redis-password' },
  anthropicApiKey: { key: 'anthropic_api_key', file: 'anthropic-api-key' },
} as const;

export const VAULT_SECRETS_DIR = '/vault/secrets';

export interface VaultRole {
  readonly name: string;
  readonly policy: string;
  readonly policyHcl: string;
  readonly serviceAccounts: readonly string[];
  readonly namespaces: readonly string[];
}

export const RUNTIME_NAMESPACE = 'archibald';
export const RUNTIME_SERVICE_ACCOUNT = 'archibald';
export const EXPORTER_SERVICE_ACCOUNT = 'archibald-exporter';
export const VAULT_NAMESPACE = 'vault';
export const SNAPSHOT_SERVICE_ACCOUNT = 'vault-snapshot';

export const VAULT_ROLES = {
  runtime: {
    name: 'archibald-runtime',
    policy: 'archibald-runtime',
    policyHcl: `path "${KV_MOUNT}/data/runtime" {\n  capabilities = ["read"]\n}\n`,
    serviceAccounts: [RUNTIME_SERVICE_ACCOUNT, EXPORTER_SERVICE_ACCOUNT],
    namespaces: [RUNTIME_NAMESPACE],
  },
  raftSnapshot: {
    name: 'raft-snapshot',
    policy: 'raft-snapshot',
    policyHcl: 'path "sys/storage/raft/snapshot" {\n  capabilities = ["read"]\n}\n',
    serviceAccounts: [SNAPSHOT_SERVICE_ACCOUNT],
    namespaces: [VAULT_NAMESPACE],
  },
} as const satisfies Record<string, VaultRole>;

export interface VaultGrant {
  readonly path: string;
  readonly capabilities: readonly string[];
}

/** A Vault ACL policy in HCL, one exact-path rule per grant. */
export function policyHcl(grants: readonly VaultGrant[]): string {
  return grants
    .map(
      (g) => `path "${g.path}" {\n  capabilities = [${g.capabilities.map((c) => `"${c}"`).join(', ')}]\n}\n`,
    )
    .join('\n');
}

export const BOOTSTRAP_POLICY = 'archibald-bootstrap';

/**
 * What the configure Job's token may do in staging and prod: exactly the requests the configure
 * script (secrets.ts configureScript) makes, each on its exact path, and nothing else: no globs,
 * no policy of its own (it could otherwise grant itself anything), no token creation.
 * POST/PUT need create (first run) and update (every later run); enabling an auth method is
 * root-protected in Vault's system backend ("auth/*"), hence sudo on that one path.
 * The test vault-bootstrap-policy-grants-what-the-configure-script-does keeps the two in step.
 */
export const BOOTSTRAP_GRANTS: readonly VaultGrant[] = [
  { path: 'sys/mounts', capabilities: ['read'] },
  { path: `sys/mounts/${KV_MOUNT}`, capabilities: ['create', 'update'] },
  { path: `${KV_MOUNT}/data/runtime`, capabilities: ['create', 'update'] },
  { path: 'sys/auth', capabilities: ['read'] },
  { path: 'sys/auth/kubernetes', capabilities: ['create', 'update', 'sudo'] },
  { path: 'auth/kubernetes/config', capabilities: ['create', 'update'] },
  ...Object.values(VAULT_ROLES).flatMap((role) => [
    { path: `sys/policies/acl/${role.policy}`, capabilities: ['create', 'update'] },
    { path: `auth/kubernetes/role/${role.name}`, capabilities: ['create', 'update'] },
  ]),
];

export const BOOTSTRAP_POLICY_HCL = policyHcl(BOOTSTRAP_GRANTS);

/** The Helm release name, which the chart's service names derive from. */
export const VAULT_RELEASE = 'vault';
/** vault namespace: the server's key and certificate (kubernetes.io/tls, with ca.crt). */
export const VAULT_TLS_SECRET = 'vault-tls';
/** The private CA's certificate alone, in every namespace whose pods talk to Vault. */
export const VAULT_CA_SECRET = 'vault-ca';
export const VAULT_CA_KEY = 'ca.crt';
/** Where the chart's server pods mount VAULT_TLS_SECRET. */
export const VAULT_SERVER_TLS_DIR = '/vault/userconfig/vault-tls';
/** Where our own Jobs mount VAULT_CA_SECRET. */
export const VAULT_CA_DIR = '/vault/ca';
/** Where the injector mounts the `tls-secret` in its init and sidecar containers (vault-k8s). */
const INJECTOR_TLS_DIR = '/vault/tls';

/**
 * How pods reach Vault: HA (staging, prod) serves TLS with a certificate from the stack's private
 * CA; dev mode serves plain HTTP inside the kind cluster (see Secrets).
 */
export interface VaultEndpoint {
  readonly address: string;
  readonly tls: boolean;
}

/** The in-cluster address of the active Vault server (the chart's "<release>-active" service). */
export function vaultAddress(ha: boolean): string {
  return ha
    ? `https://${VAULT_RELEASE}-active.${VAULT_NAMESPACE}.svc:8200`
    : `http://${VAULT_RELEASE}.${VAULT_NAMESPACE}.svc:8200`;
}

export function vaultEndpoint(ha: boolean): VaultEndpoint {
  return { address: vaultAddress(ha), tls: ha };
}

/** The raft peer a follower retry-joins (the chart's headless "<release>-internal" service). */
export function vaultPeerHost(index: number): string {
  return `${VAULT_RELEASE}-${index}.${VAULT_RELEASE}-internal`;
}

/**
 * Every name the server certificate must carry: the chart's services (all, active, standby, the
 * headless one) and each pod behind the headless service, in the short, namespaced, .svc and
 * cluster-domain forms clients may use; 127.0.0.1 for the CLI inside a server pod (the chart sets
 * VAULT_ADDR=https://127.0.0.1:8200 there) and for `kubectl port-forward`.
 */
export function vaultServerNames(replicas: number): { dnsNames: string[]; ipAddresses: string[] } {
  const forms = (host: string): string[] => [
    host,
    `${host}.${VAULT_NAMESPACE}`,
    `${host}.${VAULT_NAMESPACE}.svc`,
    `${host}.${VAULT_NAMESPACE}.svc.cluster.local`,
  ];
  const services = ['', '-active', '-standby', '-internal'].map((s) => `${VAULT_RELEASE}${s}`);
  const pods = [...Array(replicas).keys()].map(vaultPeerHost);
  return { dnsNames: [...services, ...pods].flatMap(forms), ipAddresses: ['127.0.0.1'] };
}

/** VAULT_ADDR and, with TLS, VAULT_CACERT for a container that runs the vault CLI. */
export function vaultClientEnv(endpoint: VaultEndpoint): { name: string; value: string }[] {
  return [
    { name: 'VAULT_ADDR', value: endpoint.address },
    ...(endpoint.tls ? [{ name: 'VAULT_CACERT', value: `${VAULT_CA_DIR}/${VAULT_CA_KEY}` }] : []),
  ];
}

/** The CA volume and its mount for such a container ([] without TLS). */
export function vaultCaVolume(endpoint: VaultEndpoint): {
  volumes: { name: string; secret: { secretName: string; items: { key: string; path: string }[] } }[];
  volumeMounts: { name: string; mountPath: string; readOnly: boolean }[];
} {
  if (!endpoint.tls) return { volumes: [], volumeMounts: [] };
  return {
    volumes: [
      {
        name: 'vault-ca',
        secret: { secretName: VAULT_CA_SECRET, items: [{ key: VAULT_CA_KEY, path: VAULT_CA_KEY }] },
      },
    ],
    volumeMounts: [{ name: 'vault-ca', mountPath: VAULT_CA_DIR, readOnly: true }],
  };
}

/**
 * Vault Agent injector annotations that render the runtime's secrets as files. The agent keeps
 * running beside the container and re-renders on change (the runtime re-reads the files);
 * a Job sets prePopulateOnly so the sidecar does not keep it from completing.
 */
export function vaultAgentAnnotations(
  files: readonly (keyof typeof RUNTIME_SECRETS)[],
  vault: VaultEndpoint,
  opts: { prePopulateOnly?: boolean; extraTemplates?: Record<string, string> } = {},
): Record<string, string> {
  const annotations: Record<string, string> = {
    'vault.hashicorp.com/agent-inject': 'true',
    'vault.hashicorp.com/role': VAULT_ROLES.runtime.name,
    'vault.hashicorp.com/service': vault.address,
    // The agent writes the files as the app's own user, so they are readable without group tricks.
    // vault-k8s takes that user from container 0's own securityContext.runAsUser (restrictedPod
    // sets it) and refuses the pod without it.
    'vault.hashicorp.com/agent-run-as-same-user': 'true',
    // Explicit, so the injected containers carry the non-root, no-capability securityContext the
    // restricted Pod Security level needs whatever the injector's own default is.
    'vault.hashicorp.com/agent-set-security-context': 'true',
    'vault.hashicorp.com/agent-limits-cpu': '100m',
    'vault.hashicorp.com/agent-requests-cpu': '10m',
    'vault.hashicorp.com/agent-limits-mem': '64Mi',
    'vault.hashicorp.com/agent-requests-mem': '32Mi',
  };
  if (vault.tls) {
    // The injector mounts the tls-secret at /vault/tls in its containers; the CA is a file there.
    annotations['vault.hashicorp.com/tls-secret'] = VAULT_CA_SECRET;
    annotations['vault.hashicorp.com/ca-cert'] = `${INJECTOR_TLS_DIR}/${VAULT_CA_KEY}`;
  }
  if (opts.prePopulateOnly) annotations['vault.hashicorp.com/agent-pre-populate-only'] = 'true';
  for (const name of files) {
    const { key, file } = RUNTIME_SECRETS[name];
    annotations[`vault.hashicorp.com/agent-inject-secret-${file}`] = `${KV_MOUNT}/data/runtime`;
    annotations[`vault.hashicorp.com/agent-inject-template-${file}`] =
      `{{- with secret "${KV_MOUNT}/data/runtime" -}}{{ .Data.data.${key} }}{{- end -}}`;
  }
  for (const [file, template] of Object.entries(opts.extraTemplates ?? {})) {
    annotations[`vault.hashicorp.com/agent-inject-secret-${file}`] = `${KV_MOUNT}/data/runtime`;
    annotations[`vault.hashicorp.com/agent-inject-template-${file}`] = template;
  }
  return annotations;
}

export function vaultSecretFile(name: keyof typeof RUNTIME_SECRETS): string {
  return `${VAULT_SECRETS_DIR}/${RUNTIME_SECRETS[name].file}`;
}
