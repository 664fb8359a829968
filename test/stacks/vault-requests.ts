/**
 * What a shell script's `vault` CLI calls ask of Vault's HTTP API, and which ACL capabilities
 * that takes, compared with a policy: so a token's policy and the script it runs cannot drift.
 *
 * CLI to API, per the vault CLI's own commands (command/*.go in hashicorp/vault and its api client):
 *   secrets list            GET  sys/mounts
 *   secrets enable [-path]  POST sys/mounts/<path, default the type>
 *   kv put <mount>/<key>    PUT  <mount>/data/<key> on KV v2 (its preflight GET
 *                                sys/internal/ui/mounts/<mount>/<key> is allowed to any token with
 *                                a capability under the mount: vault/logical_system.go hasMountAccess)
 *   auth list               GET  sys/auth
 *   auth enable [-path]     POST sys/auth/<path, default the type>
 *   write <path> k=v        PUT  <path>
 *   read <path>             GET  <path>
 *   policy write <name> f   PUT  sys/policies/acl/<name>
 * Capabilities: GET read, LIST list, DELETE delete, POST/PUT create (new path) or update
 * (existing); both for a script that runs again. sudo where the system backend marks the path
 * root-protected (vault/logical_system.go PathsSpecial.Root).
 */
export interface ApiRequest {
  readonly method: 'GET' | 'LIST' | 'PUT' | 'POST' | 'DELETE';
  readonly path: string;
}

/** Root-protected paths of the system backend, relative to sys/ (vault/logical_system.go). */
const SYS_ROOT_PATHS = [
  'auth/*',
  'remount',
  'audit',
  'audit/*',
  'raw',
  'raw/*',
  'rotate',
  'config/cors',
  'config/auditing/*',
  'config/ui/headers/*',
  'plugins/catalog/*',
  'revoke-prefix/*',
  'revoke-force/*',
  'leases/revoke-prefix/*',
  'leases/revoke-force/*',
  'leases/lookup/*',
  'storage/raft/snapshot-auto/config/*',
  'leases',
  'internal/inspect/*',
];

function rootProtected(path: string): boolean {
  if (!path.startsWith('sys/')) return false;
  const rel = path.slice('sys/'.length);
  return SYS_ROOT_PATHS.some((p) => (p.endsWith('*') ? rel.startsWith(p.slice(0, -1)) : rel === p));
}

/** The `vault ...` invocations of a shell script, as argument lists (the script quotes none). */
export function vaultInvocations(script: string): string[][] {
  return script
    .split('\n')
    .flatMap((line) => line.split(/\|\||&&|\||;/))
    .map((segment) => segment.trim())
    .filter((segment) => /^vault\s/.test(segment))
    .map((segment) => segment.split(/\s+/).slice(1));
}

function positional(args: string[]): string[] {
  return args.filter((a) => !a.startsWith('-'));
}

function flag(args: string[], name: string): string | undefined {
  const found = args.find((a) => a.startsWith(`-${name}=`));
  return found?.slice(name.length + 2);
}

/** The API requests one invocation makes. Throws for a command this table does not know. */
export function apiRequests(args: string[], kvV2Mounts: ReadonlySet<string>): ApiRequest[] {
  const [group, verb, ...rest] = args;
  const words = positional(rest);
  const known = `vault ${args.join(' ')}`;
  switch (`${group} ${verb}`) {
    case 'secrets list':
      return [{ method: 'GET', path: 'sys/mounts' }];
    case 'secrets enable':
      return [{ method: 'POST', path: `sys/mounts/${flag(rest, 'path') ?? words[0]}` }];
    case 'auth list':
      return [{ method: 'GET', path: 'sys/auth' }];
    case 'auth enable':
      return [{ method: 'POST', path: `sys/auth/${flag(rest, 'path') ?? words[0]}` }];
    case 'policy write':
      return [{ method: 'PUT', path: `sys/policies/acl/${words[0]}` }];
    case 'kv put': {
      const target = words[0] ?? '';
      const mount = target.split('/')[0] ?? '';
      if (!kvV2Mounts.has(mount))
        throw new Error(`${known}: ${mount} is not a KV v2 mount the script enables`);
      return [{ method: 'PUT', path: `${mount}/data/${target.slice(mount.length + 1)}` }];
    }
  }
  if (group === 'write' && verb) return [{ method: 'PUT', path: verb }];
  if (group === 'read' && verb) return [{ method: 'GET', path: verb }];
  throw new Error(`${known}: no API mapping for this vault command (add it to vault-requests.ts)`);
}

export function capabilitiesFor(request: ApiRequest): string[] {
  const base: Record<ApiRequest['method'], string[]> = {
    GET: ['read'],
    LIST: ['list'],
    DELETE: ['delete'],
    PUT: ['create', 'update'],
    POST: ['create', 'update'],
  };
  return [...base[request.method], ...(rootProtected(request.path) ? ['sudo'] : [])];
}

/** Path to capabilities a script needs. */
export function neededGrants(script: string): Map<string, Set<string>> {
  const invocations = vaultInvocations(script);
  const kvV2 = new Set(
    invocations
      .filter(([g, v, ...rest]) => g === 'secrets' && v === 'enable' && positional(rest)[0] === 'kv-v2')
      .map(([, , ...rest]) => flag(rest, 'path') ?? 'kv-v2'),
  );
  const grants = new Map<string, Set<string>>();
  for (const args of invocations) {
    for (const request of apiRequests(args, kvV2)) {
      const set = grants.get(request.path) ?? new Set<string>();
      for (const c of capabilitiesFor(request)) set.add(c);
      grants.set(request.path, set);
    }
  }
  return grants;
}

/** The path rules of an ACL policy in HCL (the `path "x" { capabilities = [...] }` form). */
export function parsePolicy(hcl: string): Map<string, Set<string>> {
  const rules = new Map<string, Set<string>>();
  const rule = /path\s+"([^"]+)"\s*\{\s*capabilities\s*=\s*\[([^\]]*)\]\s*\}/g;
  let consumed = hcl;
  for (const m of hcl.matchAll(rule)) {
    const caps = [...(m[2] ?? '').matchAll(/"([^"]+)"/g)].map((c) => c[1] as string);
    rules.set(m[1] as string, new Set(caps));
    consumed = consumed.replace(m[0], '');
  }
  if (consumed.trim() !== '')
    throw new Error(`policy text the parser does not understand: ${consumed.trim()}`);
  return rules;
}

/**
 * How a policy differs from what a script needs: requests it would deny (missing), and grants the
 * script never uses or that are wider than exact paths (broader).
 */
export function policyDrift(script: string, hcl: string): { missing: string[]; broader: string[] } {
  const needed = neededGrants(script);
  const granted = parsePolicy(hcl);
  const missing: string[] = [];
  const broader: string[] = [];
  for (const [path, caps] of needed) {
    const have = granted.get(path) ?? new Set<string>();
    for (const c of caps) if (!have.has(c)) missing.push(`${path}: ${c}`);
  }
  for (const [path, caps] of granted) {
    if (/[*+]/.test(path)) broader.push(`${path}: a glob`);
    const need = needed.get(path) ?? new Set<string>();
    for (const c of caps) if (!need.has(c)) broader.push(`${path}: ${c}`);
  }
  return { missing, broader };
}
