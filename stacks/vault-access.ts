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

/** The in-cluster address of the active Vault server (the chart's "<release>-active" service). */
export function vaultAddress(ha: boolean): string {
  return ha ? `http://vault-active.${VAULT_NAMESPACE}.svc:8200` : `http://vault.${VAULT_NAMESPACE}.svc:8200`;
}

/**
 * Vault Agent injector annotations that render the runtime's secrets as files. The agent keeps
 * running beside the container and re-renders on change (the runtime re-reads the files);
 * a Job sets prePopulateOnly so the sidecar does not keep it from completing.
 */
export function vaultAgentAnnotations(
  files: readonly (keyof typeof RUNTIME_SECRETS)[],
  opts: { prePopulateOnly?: boolean; extraTemplates?: Record<string, string> } = {},
): Record<string, string> {
  const annotations: Record<string, string> = {
    'vault.hashicorp.com/agent-inject': 'true',
    'vault.hashicorp.com/role': VAULT_ROLES.runtime.name,
    // The agent writes the files as the app's own user, so they are readable without group tricks.
    'vault.hashicorp.com/agent-run-as-same-user': 'true',
    'vault.hashicorp.com/agent-limits-cpu': '100m',
    'vault.hashicorp.com/agent-requests-cpu': '10m',
    'vault.hashicorp.com/agent-limits-mem': '64Mi',
    'vault.hashicorp.com/agent-requests-mem': '32Mi',
  };
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
