/**
 * What the API server's admission does to the pod templates the stacks render, as pure functions
 * over plain objects, so the same checks run on every stack's templates and on hand-made bad pods.
 *
 * - The Vault Agent injector (hashicorp/vault-k8s, agent-inject/agent): the checks its webhook
 *   applies to the annotations we set (agent.go New/Validate, annotations.go runAsSameID,
 *   setShareProcessNamespace, the boolean parsers, serviceaccount()) and the containers and
 *   volumes it adds (container_sidecar.go securityContext, container_volume.go).
 * - The restricted Pod Security Standard (kubernetes.io/docs/concepts/security/pod-security-standards,
 *   version "latest"), baseline rules included, on the pod as it is after the injector's mutation.
 */
import { at } from './harness.js';
import type { Evaluation } from './harness.js';

type Obj = Record<string, unknown>;

export interface PodTemplate {
  /** "<Kind>/<name>" of the workload that owns the template. */
  readonly owner: string;
  readonly namespace: string;
  readonly annotations: Record<string, string>;
  readonly spec: Obj;
}

const POD_TEMPLATE_PATHS: Record<string, string> = {
  'kubernetes:apps/v1:Deployment': 'spec.template',
  'kubernetes:apps/v1:StatefulSet': 'spec.template',
  'kubernetes:apps/v1:DaemonSet': 'spec.template',
  'kubernetes:apps/v1:ReplicaSet': 'spec.template',
  'kubernetes:batch/v1:Job': 'spec.template',
  'kubernetes:batch/v1:CronJob': 'spec.jobTemplate.spec.template',
  'kubernetes:core/v1:Pod': '',
};

/** Every pod template of every workload an evaluation registers. */
export function podTemplates(e: Evaluation): PodTemplate[] {
  const templates: PodTemplate[] = [];
  for (const r of e.resources) {
    const path = POD_TEMPLATE_PATHS[r.type];
    if (path === undefined) continue;
    const template = (path ? at(r.inputs, path) : r.inputs) as Obj | undefined;
    if (!template) throw new Error(`${r.type} ${r.name} has no pod template at ${path}`);
    templates.push({
      owner: `${r.type.split(':').pop()}/${String(at(r.inputs, 'metadata.name'))}`,
      namespace: String(at(r.inputs, 'metadata.namespace') ?? 'default'),
      annotations: (at(template, 'metadata.annotations') ?? {}) as Record<string, string>,
      spec: (template.spec ?? {}) as Obj,
    });
  }
  return templates;
}

/** Labels of the namespaces an evaluation creates, by namespace name. */
export function namespaceLabels(e: Evaluation): Record<string, Record<string, string>> {
  return Object.fromEntries(
    e.resources
      .filter((r) => r.type === 'kubernetes:core/v1:Namespace')
      .map((r) => [
        String(at(r.inputs, 'metadata.name')),
        (at(r.inputs, 'metadata.labels') ?? {}) as Record<string, string>,
      ]),
  );
}

// ---- Vault Agent injector ----

const V = 'vault.hashicorp.com/';
/** vault-k8s' injector defaults (agent.go DefaultAgentRunAsUser/Group; the chart sets neither). */
export const INJECTOR_DEFAULT_UID = 100;
export const INJECTOR_DEFAULT_GID = 1000;
/** Where the injector mounts the tls-secret in its containers (container_volume.go tlsSecretVolumePath). */
export const INJECTOR_TLS_PATH = '/vault/tls';

const BOOLEAN_ANNOTATIONS = [
  'agent-inject',
  'agent-pre-populate',
  'agent-pre-populate-only',
  'agent-run-as-same-user',
  'agent-set-security-context',
  'agent-share-process-namespace',
  'agent-init-first',
  'agent-revoke-on-shutdown',
  'agent-cache-enable',
  'agent-inject-token',
  'tls-skip-verify',
].map((a) => V + a);

/** Go's strconv.ParseBool, which parseutil.ParseBool uses for these annotations. */
function parseGoBool(raw: string): boolean | undefined {
  if (['1', 't', 'T', 'TRUE', 'true', 'True'].includes(raw)) return true;
  if (['0', 'f', 'F', 'FALSE', 'false', 'False'].includes(raw)) return false;
  return undefined;
}

function bool(annotations: Record<string, string>, name: string, fallback: boolean): boolean {
  const raw = annotations[V + name];
  return raw === undefined ? fallback : (parseGoBool(raw) ?? fallback);
}

function containersOf(spec: Obj, key = 'containers'): Obj[] {
  return (spec[key] ?? []) as Obj[];
}

/** A Kubernetes resource quantity (what resource.ParseQuantity accepts, decimal and binary suffixes). */
const QUANTITY = /^[+-]?(\d+(\.\d*)?|\.\d+)(([KMGTPE]i)|[numkMGTPE]|[eE][+-]?\d+)?$/;

/**
 * The reasons the injector would refuse a pod carrying agent-inject (the webhook then fails the
 * pod's creation), or would render an agent that cannot work. [] when it injects.
 */
export function vaultInjectorViolations(t: PodTemplate): string[] {
  const a = t.annotations;
  if (!bool(a, 'agent-inject', false)) return [];
  const where = `${t.owner}`;
  const out: string[] = [];
  for (const name of BOOLEAN_ANNOTATIONS) {
    const raw = a[name];
    if (raw !== undefined && parseGoBool(raw) === undefined)
      out.push(`${where}: ${name}="${raw}" is not a boolean`);
  }
  for (const name of ['agent-run-as-user', 'agent-run-as-group']) {
    const raw = a[V + name];
    if (raw !== undefined && !/^\d+$/.test(raw)) out.push(`${where}: ${V}${name}="${raw}" is not an integer`);
  }
  for (const name of [
    'agent-limits-cpu',
    'agent-requests-cpu',
    'agent-limits-mem',
    'agent-requests-mem',
    'agent-limits-ephemeral',
    'agent-requests-ephemeral',
  ]) {
    const raw = a[V + name];
    if (raw !== undefined && raw !== '' && !QUANTITY.test(raw))
      out.push(`${where}: ${V}${name}="${raw}" is not a resource quantity`);
  }

  const containers = containersOf(t.spec);
  if (bool(a, 'agent-run-as-same-user', false)) {
    // annotations.go runAsSameID: container 0's own securityContext, never the pod's.
    const c0 = containers[0];
    const runAsUser = c0 ? at(c0, 'securityContext.runAsUser') : undefined;
    if (!c0)
      out.push(`${where}: agent-run-as-same-user needs a container ("No containers found in Pod Spec")`);
    else if (c0.securityContext === undefined)
      out.push(`${where}: agent-run-as-same-user: "No SecurityContext found for Container 0"`);
    else if (runAsUser === undefined || runAsUser === null)
      out.push(`${where}: agent-run-as-same-user: "RunAsUser is nil for Container 0's SecurityContext"`);
    else if (runAsUser === 0)
      out.push(`${where}: agent-run-as-same-user: "container not allowed to run as root"`);
  }
  if (bool(a, 'agent-share-process-namespace', false) && t.spec.shareProcessNamespace === false)
    out.push(`${where}: shareProcessNamespace explicitly disabled on the pod, refusing to enable it`);

  // agent.go serviceaccount(): the ServiceAccount admission plugin mounts the token before the
  // webhook runs, unless the pod opts out; without a mount the injector has nothing to log in with.
  const tokenVolume = a[V + 'agent-service-account-token-volume-name'];
  if (tokenVolume === undefined && t.spec.automountServiceAccountToken === false)
    out.push(`${where}: no service account token volume (automountServiceAccountToken is false)`);

  // Validate(): kubernetes auth needs a role.
  const authType = a[V + 'auth-type'] ?? 'kubernetes';
  if (authType === 'kubernetes' && !a[V + 'role'] && !a[V + 'auth-config-role'])
    out.push(`${where}: no Vault role found`);

  // TLS: the CA the agent trusts must be a file of the secret the injector mounts at /vault/tls.
  const address = a[V + 'service'];
  const caCert = a[V + 'ca-cert'];
  const tlsSecret = a[V + 'tls-secret'];
  if (address?.startsWith('https://') && !bool(a, 'tls-skip-verify', false)) {
    if (!caCert) out.push(`${where}: Vault is served over https but no ${V}ca-cert names the CA`);
    else if (caCert.startsWith(`${INJECTOR_TLS_PATH}/`) && !tlsSecret)
      out.push(
        `${where}: ${V}ca-cert ${caCert} is under ${INJECTOR_TLS_PATH} but no ${V}tls-secret is mounted`,
      );
  }
  if (tlsSecret && caCert && !caCert.startsWith(`${INJECTOR_TLS_PATH}/`))
    out.push(`${where}: ${V}ca-cert ${caCert} is not in the mounted tls-secret (${INJECTOR_TLS_PATH})`);

  // A template without its secret annotation renders nothing useful: every file names its path.
  for (const name of Object.keys(a)) {
    const file = name.startsWith(`${V}agent-inject-template-`)
      ? name.slice(`${V}agent-inject-template-`.length)
      : undefined;
    if (file !== undefined && !a[`${V}agent-inject-secret-${file}`])
      out.push(`${where}: template ${file} has no ${V}agent-inject-secret-${file}`);
  }
  return out;
}

/**
 * The pod spec after the injector's mutation: its init container and sidecar with the
 * securityContext vault-k8s gives them (container_sidecar.go securityContext()) and the volumes
 * it adds (container_volume.go). The input is returned unchanged when nothing is injected.
 */
export function injectedPodSpec(t: PodTemplate): Obj {
  const a = t.annotations;
  if (!bool(a, 'agent-inject', false)) return t.spec;
  const containers = containersOf(t.spec);
  let uid = Number(a[V + 'agent-run-as-user'] ?? INJECTOR_DEFAULT_UID);
  const gid = Number(a[V + 'agent-run-as-group'] ?? INJECTOR_DEFAULT_GID);
  if (bool(a, 'agent-run-as-same-user', false)) uid = Number(at(containers[0], 'securityContext.runAsUser'));
  const securityContext = bool(a, 'agent-set-security-context', true)
    ? {
        runAsUser: uid,
        runAsGroup: gid,
        runAsNonRoot: !(uid === 0 || gid === 0),
        readOnlyRootFilesystem: true,
        capabilities: { drop: ['ALL'] },
        allowPrivilegeEscalation: false,
      }
    : undefined;
  const agent = (name: string): Obj => ({
    name,
    image: a[V + 'agent-image'] ?? 'hashicorp/vault',
    ...(securityContext ? { securityContext } : {}),
  });
  const prePopulate = bool(a, 'agent-pre-populate', true);
  const prePopulateOnly = bool(a, 'agent-pre-populate-only', false);
  const volumes: Obj[] = [
    { name: 'vault-secrets', emptyDir: { medium: 'Memory' } },
    ...(prePopulate ? [{ name: 'home-init', emptyDir: { medium: 'Memory' } }] : []),
    ...(!prePopulateOnly ? [{ name: 'home-sidecar', emptyDir: { medium: 'Memory' } }] : []),
    ...(a[V + 'tls-secret']
      ? [{ name: 'vault-tls-secrets', secret: { secretName: a[V + 'tls-secret'] } }]
      : []),
  ];
  return {
    ...t.spec,
    initContainers: [
      ...(prePopulate ? [agent('vault-agent-init')] : []),
      ...containersOf(t.spec, 'initContainers'),
    ],
    containers: [...containers, ...(!prePopulateOnly ? [agent('vault-agent')] : [])],
    volumes: [...((t.spec.volumes ?? []) as Obj[]), ...volumes],
  };
}

// ---- restricted Pod Security Standard ----

const RESTRICTED_VOLUME_TYPES = new Set([
  'configMap',
  'csi',
  'downwardAPI',
  'emptyDir',
  'ephemeral',
  'persistentVolumeClaim',
  'projected',
  'secret',
]);
const SAFE_SYSCTLS = new Set([
  'kernel.shm_rmid_forced',
  'net.ipv4.ip_local_port_range',
  'net.ipv4.ip_unprivileged_port_start',
  'net.ipv4.tcp_syncookies',
  'net.ipv4.ping_group_range',
  'net.ipv4.ip_local_reserved_ports',
  'net.ipv4.tcp_keepalive_time',
  'net.ipv4.tcp_fin_timeout',
  'net.ipv4.tcp_keepalive_intvl',
  'net.ipv4.tcp_keepalive_probes',
]);
const SELINUX_TYPES = new Set([
  '',
  'container_t',
  'container_init_t',
  'container_kvm_t',
  'container_engine_t',
]);

/** Violations of the restricted Pod Security Standard ("latest") by one pod spec. [] when admitted. */
export function restrictedViolations(spec: Obj, where = 'pod'): string[] {
  const out: string[] = [];
  const pod = (spec.securityContext ?? {}) as Obj;
  const all = [
    ...containersOf(spec, 'initContainers'),
    ...containersOf(spec),
    ...containersOf(spec, 'ephemeralContainers'),
  ];

  for (const host of ['hostNetwork', 'hostPID', 'hostIPC'])
    if (spec[host] === true) out.push(`${where}: ${host} is true`);
  if (at(pod, 'windowsOptions.hostProcess') === true) out.push(`${where}: windowsOptions.hostProcess`);
  for (const v of (spec.volumes ?? []) as Obj[]) {
    const types = Object.keys(v).filter((k) => k !== 'name');
    for (const type of types)
      if (!RESTRICTED_VOLUME_TYPES.has(type))
        out.push(`${where}: volume ${String(v.name)} is of type ${type}`);
  }
  for (const s of (pod.sysctls ?? []) as Obj[])
    if (!SAFE_SYSCTLS.has(String(s.name))) out.push(`${where}: sysctl ${String(s.name)} is not safe`);

  const podNonRoot = pod.runAsNonRoot === true;
  if (pod.runAsUser === 0) out.push(`${where}: runAsUser 0 on the pod`);
  const podSeccomp = at(pod, 'seccompProfile.type') as string | undefined;
  if (podSeccomp !== undefined && !['RuntimeDefault', 'Localhost'].includes(podSeccomp))
    out.push(`${where}: pod seccompProfile ${podSeccomp}`);
  const checkSeLinux = (ctx: Obj, name: string): void => {
    const se = (ctx.seLinuxOptions ?? {}) as Obj;
    if (se.type !== undefined && !SELINUX_TYPES.has(String(se.type)))
      out.push(`${name}: seLinuxOptions.type ${String(se.type)}`);
    if (se.user !== undefined || se.role !== undefined) out.push(`${name}: seLinuxOptions user/role set`);
  };
  const checkAppArmor = (ctx: Obj, name: string): void => {
    const type = at(ctx, 'appArmorProfile.type');
    if (type !== undefined && !['RuntimeDefault', 'Localhost'].includes(String(type)))
      out.push(`${name}: appArmorProfile ${String(type)}`);
  };
  checkSeLinux(pod, where);
  checkAppArmor(pod, where);

  for (const c of all) {
    const name = `${where} container ${String(c.name)}`;
    const ctx = (c.securityContext ?? {}) as Obj;
    if (ctx.privileged === true) out.push(`${name}: privileged`);
    if (at(ctx, 'windowsOptions.hostProcess') === true) out.push(`${name}: windowsOptions.hostProcess`);
    if (ctx.procMount !== undefined && ctx.procMount !== 'Default')
      out.push(`${name}: procMount ${String(ctx.procMount)}`);
    for (const p of (c.ports ?? []) as Obj[])
      if (p.hostPort !== undefined && p.hostPort !== 0) out.push(`${name}: hostPort ${String(p.hostPort)}`);
    if (ctx.allowPrivilegeEscalation !== false) out.push(`${name}: allowPrivilegeEscalation is not false`);
    if (ctx.runAsNonRoot === false || (ctx.runAsNonRoot !== true && !podNonRoot))
      out.push(`${name}: runAsNonRoot is not true (container or pod)`);
    if (ctx.runAsUser === 0) out.push(`${name}: runAsUser 0`);
    const seccomp = at(ctx, 'seccompProfile.type') as string | undefined;
    if (seccomp !== undefined ? !['RuntimeDefault', 'Localhost'].includes(seccomp) : podSeccomp === undefined)
      out.push(`${name}: seccompProfile is not RuntimeDefault or Localhost (container or pod)`);
    const drop = (at(ctx, 'capabilities.drop') ?? []) as string[];
    if (!drop.includes('ALL')) out.push(`${name}: capabilities do not drop ALL`);
    for (const cap of (at(ctx, 'capabilities.add') ?? []) as string[])
      if (cap !== 'NET_BIND_SERVICE') out.push(`${name}: adds capability ${cap}`);
    checkSeLinux(ctx, name);
    checkAppArmor(ctx, name);
  }
  return out;
}

/** The Pod Security level a namespace enforces ("privileged" when unlabelled). */
export function enforcedLevel(labels: Record<string, string> | undefined): string {
  return labels?.['pod-security.kubernetes.io/enforce'] ?? 'privileged';
}

/**
 * Everything admission would refuse for one evaluation: the injector's refusals on each template,
 * and, in namespaces that enforce restricted, the standard on the template as the injector leaves it.
 */
export function admissionViolations(e: Evaluation): string[] {
  const labels = namespaceLabels(e);
  return podTemplates(e).flatMap((t) => [
    ...vaultInjectorViolations(t),
    ...(enforcedLevel(labels[t.namespace]) === 'restricted'
      ? restrictedViolations(injectedPodSpec(t), `${t.owner} (${t.namespace})`)
      : []),
  ]);
}

/**
 * The pods the Vault chart renders from its values, as far as Pod Security looks at them
 * (hashicorp/vault-helm templates: server-statefulset.yaml and injector-deployment.yaml take the
 * pod and container securityContext values verbatim, hostNetwork from server/injector.hostNetwork,
 * volumes: the config ConfigMap, a "home" emptyDir, server.volumes; the data and audit volumes
 * are PersistentVolumeClaim templates).
 */
export function vaultChartPodSpecs(values: Obj): { owner: string; spec: Obj }[] {
  const server = (values.server ?? {}) as Obj;
  const injector = (values.injector ?? {}) as Obj;
  const serverContext = (at(server, 'statefulSet.securityContext') ?? {}) as Obj;
  const injectorContext = (injector.securityContext ?? {}) as Obj;
  // The chart's _helpers.tpl defaults when a value is empty (global.openshift false).
  const defaultPod = { runAsNonRoot: true, runAsGroup: 1000, runAsUser: 100, fsGroup: 1000 };
  const orDefault = (value: unknown, fallback: Obj): unknown =>
    value && Object.keys(value as Obj).length > 0 ? value : fallback;
  return [
    {
      owner: 'StatefulSet/vault (chart)',
      spec: {
        hostNetwork: server.hostNetwork ?? false,
        securityContext: orDefault(serverContext.pod, defaultPod),
        containers: [
          {
            name: 'vault',
            securityContext: orDefault(serverContext.container, { allowPrivilegeEscalation: false }),
          },
        ],
        volumes: [
          { name: 'config', configMap: { name: 'vault-config' } },
          { name: 'home', emptyDir: {} },
          ...((server.volumes ?? []) as Obj[]),
        ],
      },
    },
    {
      owner: 'Deployment/vault-agent-injector (chart)',
      spec: {
        hostNetwork: injector.hostNetwork ?? false,
        securityContext: orDefault(injectorContext.pod, defaultPod),
        containers: [
          {
            name: 'sidecar-injector',
            securityContext: orDefault(injectorContext.container, {
              allowPrivilegeEscalation: false,
              capabilities: { drop: ['ALL'] },
            }),
          },
        ],
      },
    },
  ];
}
