/**
 * The pod contract: what a stack renders for the runtime's pods (the migration Job, the API and the
 * worker) is run for real. Each container gets exactly its rendered environment (the image's ENV,
 * then envFrom/env), command arguments, user, read-only root, volume mounts, Vault Agent files and
 * probes, against production-shaped stand-ins (test/contract/stand-ins.ts) reached at the very
 * hostnames and ports the stack renders. The probes must pass and a video submitted through the API
 * must complete.
 *
 * A pod's filesystem is an overlay of this machine's root made read-only, with the pod's mounts
 * bound in at their rendered paths, an /etc/hosts that resolves the stack's hostnames to the
 * stand-ins, entered with chroot as the rendered user: inside a private mount namespace, so the
 * host is never touched and everything goes away with the process. The container's command is the
 * image's ENTRYPOINT (node --enable-source-maps on the compiled dist/bin/archibald.js) with the
 * rendered args, in an /app assembled from the Dockerfile's COPYs (ImageTree): the compiled output
 * and the production packages only. Before it starts, the pod's user checks what it can write
 * (podChecks): not /app, not HOME, not the root, and the temporary directory only when a volume is
 * mounted there; so anything the runtime writes has to go to a volume the stack mounts.
 *
 * What the test adds to a pod beyond what the stack renders, and what provides it in a cluster:
 * - PATH: the base image's ENV (node:*-bookworm-slim), which runtime/Dockerfile inherits;
 * - HOSTNAME (the kubelet) and HOME=/nonexistent (the image user's passwd entry);
 * - the Vault Agent files, written where the injector's annotations say, with the KV values;
 * - the files the image ADDs (the RDS CA bundle): the stand-in RDS CA at the same path;
 * - NODE_EXTRA_CA_CERTS, a CA standing in for the public roots Node already trusts (Amazon's
 *   CAs sign ElastiCache's and S3's certificates); never the Postgres CAs, which Node does not trust;
 * - AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY when the service account carries an IRSA role: the
 *   pod identity webhook's AWS_ROLE_ARN + AWS_WEB_IDENTITY_TOKEN_FILE, traded with STS by the SDK.
 * - tini is left out of the ENTRYPOINT when this machine has none (entrypointHere).
 * The image's /app is this checkout's dist/ and production node_modules (npm run build must have
 * run), node is this machine's, and so are ffmpeg and its fonts.
 */
import { existsSync, readFileSync, readdirSync, realpathSync, statSync, writeFileSync } from 'node:fs';
import { chmodSync, chownSync, mkdirSync } from 'node:fs';
import { request } from 'node:http';
import { dirname, join } from 'node:path';
import { at, evaluateStack, kubernetesObject, ofType, REPO_ROOT } from '../stacks/harness.js';
import type { Evaluation, RegisteredResource } from '../stacks/harness.js';
import { createSandbox, issue, makeCa, startPostgres, startRedis, startS3 } from './stand-ins.js';
import type { KeyPair, Sandbox, Tracked } from './stand-ins.js';

// ---- what the stack renders ----

interface Probe {
  httpGet: { path: string; port: number | string; scheme?: string };
  periodSeconds?: number;
  timeoutSeconds?: number;
  failureThreshold?: number;
}

interface Container {
  name: string;
  args?: string[];
  command?: string[];
  ports?: { name?: string; containerPort: number }[];
  envFrom?: { configMapRef?: { name: string }; secretRef?: unknown }[];
  env?: { name: string; value?: string; valueFrom?: unknown }[];
  volumeMounts?: { name: string; mountPath: string; readOnly?: boolean; subPath?: string }[];
  startupProbe?: Probe;
  readinessProbe?: Probe;
  livenessProbe?: Probe;
  securityContext?: { runAsUser?: number; runAsGroup?: number; readOnlyRootFilesystem?: boolean };
}

interface Volume {
  name: string;
  emptyDir?: unknown;
  persistentVolumeClaim?: { claimName: string };
  secret?: { secretName: string; items?: { key: string; path: string }[] };
}

interface PodSpec {
  serviceAccountName?: string;
  containers: Container[];
  volumes?: Volume[];
  securityContext?: { runAsUser?: number; runAsGroup?: number; fsGroup?: number };
}

export interface RenderedPod {
  readonly name: string;
  readonly annotations: Record<string, string>;
  readonly spec: PodSpec;
  readonly container: Container;
}

function podOf(r: RegisteredResource, name: string): RenderedPod {
  const template = at(r.inputs, 'spec.template') as {
    metadata?: { annotations?: Record<string, string> };
    spec: PodSpec;
  };
  const container = template.spec.containers[0];
  if (!container || template.spec.containers.length !== 1) throw new Error(`${name}: expected one container`);
  return { name, annotations: template.metadata?.annotations ?? {}, spec: template.spec, container };
}

/** The runtime's workloads as runtime.ts renders them. */
export function runtimePods(e: Evaluation): { migrate: RenderedPod; api: RenderedPod; worker: RenderedPod } {
  const jobs = ofType(e, 'kubernetes:batch/v1:Job').filter((j) =>
    String(at(j.inputs, 'metadata.name')).startsWith('archibald-migrate'),
  );
  if (jobs.length !== 1) throw new Error(`expected one migration Job, found ${jobs.length}`);
  return {
    migrate: podOf(jobs[0] as RegisteredResource, 'migrate'),
    api: podOf(kubernetesObject(e, 'Deployment', 'archibald-api'), 'api'),
    worker: podOf(kubernetesObject(e, 'Deployment', 'archibald-worker'), 'worker'),
  };
}

/** What the runtime stage of runtime/Dockerfile puts in the image and how it starts the container. */
export interface ImageDefinition {
  readonly env: Record<string, string>;
  /** Remote files it ADDs. */
  readonly added: { url: string; dest: string }[];
  /** COPY instructions: `from` is the build stage (undefined: the build context), paths as written. */
  readonly copied: { from?: string; src: string; dest: string }[];
  readonly workdir: string;
  readonly entrypoint: string[];
  readonly cmd: string[];
}

/** The runtime stage of runtime/Dockerfile: its ENV, ADDs, COPYs, WORKDIR, ENTRYPOINT and CMD. */
export function imageDefinition(): ImageDefinition {
  const text = readFileSync(join(REPO_ROOT, 'runtime/Dockerfile'), 'utf8').replace(/\\\n/g, ' ');
  const stage = text.slice(text.search(/^FROM .* AS runtime$/m));
  // The base image (node:*-bookworm-slim) sets Debian's PATH; the runtime stage inherits it.
  const env: Record<string, string> = {
    PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
  };
  const added: { url: string; dest: string }[] = [];
  const copied: { from?: string; src: string; dest: string }[] = [];
  let workdir = '/';
  let entrypoint: string[] = [];
  let cmd: string[] = [];
  const exec = (form: string): string[] => {
    const parsed = JSON.parse(form) as unknown;
    if (!Array.isArray(parsed) || !parsed.every((a) => typeof a === 'string'))
      throw new Error(`only the exec form of ENTRYPOINT/CMD is modelled: ${form}`);
    return parsed;
  };
  for (const line of stage.split('\n')) {
    const [instruction, ...rest] = line.trim().split(/\s+/);
    if (instruction === 'ENV') {
      for (const pair of rest) {
        const at = pair.indexOf('=');
        env[pair.slice(0, at)] = pair.slice(at + 1);
      }
    }
    if (instruction === 'ADD') {
      const operands = rest.filter((r) => !r.startsWith('--'));
      const [url, dest] = operands;
      if (url && dest && /^https:\/\//.test(url)) added.push({ url, dest });
    }
    if (instruction === 'COPY') {
      const from = rest.find((r) => r.startsWith('--from='))?.slice('--from='.length);
      const operands = rest.filter((r) => !r.startsWith('--'));
      if (operands.length !== 2) throw new Error(`COPY with other than one source is not modelled: ${line}`);
      copied.push({ ...(from ? { from } : {}), src: operands[0] as string, dest: operands[1] as string });
    }
    if (instruction === 'WORKDIR') workdir = rest.join(' ');
    if (instruction === 'ENTRYPOINT') entrypoint = exec(rest.join(' '));
    if (instruction === 'CMD') cmd = exec(rest.join(' '));
  }
  return { env, added, copied, workdir, entrypoint, cmd };
}

function configMapData(e: Evaluation, name: string): Record<string, string> {
  return at(kubernetesObject(e, 'ConfigMap', name).inputs, 'data') as Record<string, string>;
}

/** The container's environment as the kubelet builds it: image ENV, then envFrom, then env. */
function containerEnv(e: Evaluation, c: Container, imageEnv: Record<string, string>): Record<string, string> {
  const env: Record<string, string> = { ...imageEnv };
  for (const source of c.envFrom ?? []) {
    if (!source.configMapRef) throw new Error(`${c.name}: only configMapRef envFrom is modelled`);
    Object.assign(env, configMapData(e, source.configMapRef.name));
  }
  for (const v of c.env ?? []) {
    if (v.value === undefined)
      throw new Error(`${c.name}: env ${v.name} without a literal value is not modelled`);
    env[v.name] = v.value;
  }
  return env;
}

/** Files Vault Agent renders into the pod: path → the KV key its template reads. */
export function vaultFiles(annotations: Record<string, string>): Map<string, string> {
  const files = new Map<string, string>();
  if (annotations['vault.hashicorp.com/agent-inject'] !== 'true') return files;
  // The injector's default mount for rendered secrets, unless the pod names another.
  const dir = annotations['vault.hashicorp.com/secret-volume-path'] ?? '/vault/secrets';
  for (const [name, value] of Object.entries(annotations)) {
    const m = /^vault\.hashicorp\.com\/agent-inject-secret-(.+)$/.exec(name);
    if (!m) continue;
    const file = m[1] as string;
    const template = annotations[`vault.hashicorp.com/agent-inject-template-${file}`] ?? '';
    const key = /^\{\{-? with secret "([^"]+)" -?\}\}\{\{ \.Data\.data\.(\w+) \}\}\{\{-? end -?\}\}$/.exec(
      template,
    );
    if (!key || key[1] !== value)
      throw new Error(`vault template for ${file} is not one this test renders: ${template}`);
    files.set(join(dir, file), key[2] as string);
  }
  return files;
}

function probePort(c: Container, port: number | string): number {
  if (typeof port === 'number') return port;
  const found = c.ports?.find((p) => p.name === port);
  if (!found) throw new Error(`${c.name}: probe port ${port} is not a named container port`);
  return found.containerPort;
}

// ---- talking to a pod: HTTP over a Unix socket (a file: it crosses into the namespace) ----

interface Reply {
  status: number;
  body: string;
}

function http(
  socket: string,
  method: string,
  path: string,
  opts: { body?: unknown; headers?: Record<string, string>; timeoutMs?: number } = {},
): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const payload = opts.body === undefined ? undefined : JSON.stringify(opts.body);
    const req = request(
      {
        socketPath: socket,
        method,
        path,
        headers: {
          host: 'pod',
          ...(payload ? { 'content-type': 'application/json' } : {}),
          ...opts.headers,
        },
        timeout: opts.timeoutMs ?? 5000,
      },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (body += chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error(`${method} ${path}: timed out`)));
    req.on('error', reject);
    req.end(payload);
  });
}

// ---- running a pod ----

interface PodMount {
  readonly target: string;
  readonly source: string;
  readonly readOnly: boolean;
}

const quote = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;

/**
 * Directories a chrooted process needs from this machine beyond the root filesystem's own content:
 * the kernel's filesystems. The image's own files are bound in at /app (ImageTree).
 */
const HOST_BINDS = ['/proc', '/dev', '/sys'];

/**
 * The image's WORKDIR as a pod sees it, assembled from the runtime stage's COPY instructions:
 * - the build stage's output (`COPY --from=build /app/dist ./dist`) is this checkout's dist/, which
 *   `npm run build` wrote (npm test builds before the tests): the pods run the compiled JavaScript;
 * - the deps stage's node_modules (`npm ci --omit=dev`) is this checkout's node_modules narrowed to
 *   the lockfile's production packages, each bound in on its own, so a dev dependency (tsx,
 *   typescript) is missing exactly as it is in the image;
 * - a COPY from the build context is that path of the checkout.
 * The tree is root's, as COPY leaves it, and bound read-only: nothing under /app is the pod's to write.
 */
interface ImageTree {
  /** The root-owned directory bound at WORKDIR, holding the mount points. */
  readonly dir: string;
  readonly workdir: string;
  /** Path under WORKDIR → the checkout's directory bound there. */
  readonly binds: { rel: string; source: string }[];
  /** What each COPY became, for the pod checks: paths inside the pod. */
  readonly copied: string[];
}

function productionPackages(): string[] {
  const lock = JSON.parse(readFileSync(join(REPO_ROOT, 'package-lock.json'), 'utf8')) as {
    packages: Record<string, { dev?: boolean; link?: boolean }>;
  };
  return Object.entries(lock.packages)
    .filter(([path, p]) => /^node_modules\/(@[^/]+\/)?[^/@][^/]*$/.test(path) && !p.dev && !p.link)
    .map(([path]) => path.slice('node_modules/'.length));
}

/** What scripts/build.sh puts in dist/: the TypeScript, and runtime/'s other files but the Dockerfile. */
const builtFrom = (path: string): boolean =>
  path.endsWith('.ts') || (path.startsWith('runtime/') && path !== 'runtime/Dockerfile');

/** The first source file under `dirs` changed after `since` (ms), if any: dist/ would be stale. */
function newerThan(dirs: string[], since: number): string | undefined {
  for (const dir of dirs)
    for (const file of listFiles(join(REPO_ROOT, dir)))
      if (builtFrom(join(dir, file)) && statSync(join(REPO_ROOT, dir, file)).mtimeMs > since)
        return join(dir, file);
  return undefined;
}

function imageTree(sandbox: Sandbox, image: ImageDefinition): ImageTree {
  const dir = sandbox.mkdir('image/app');
  const binds: { rel: string; source: string }[] = [];
  const copied: string[] = [];
  const inApp = (dest: string): string => {
    const path = dest.startsWith('/') ? dest : join(image.workdir, dest);
    if (!path.startsWith(`${image.workdir}/`))
      throw new Error(`COPY to ${dest}, outside WORKDIR, is not modelled`);
    return path.slice(image.workdir.length + 1);
  };
  for (const c of image.copied) {
    const rel = inApp(c.dest);
    copied.push(join(image.workdir, rel));
    if (c.from === 'deps' && c.src === '/app/node_modules') {
      const modules = realpathSync(join(REPO_ROOT, 'node_modules'));
      for (const name of productionPackages()) {
        const source = join(modules, name);
        if (!existsSync(source)) continue; // an optional package for another platform
        mkdirSync(join(dir, rel, name), { recursive: true, mode: 0o755 });
        binds.push({ rel: join(rel, name), source });
      }
      mkdirSync(join(dir, rel), { recursive: true, mode: 0o755 });
    } else if (c.from === 'build' && c.src.startsWith('/app/')) {
      const source = join(REPO_ROOT, c.src.slice('/app/'.length));
      if (!existsSync(source)) throw new Error(`${source} is missing: run npm run build first`);
      const stale = newerThan(['runtime', 'bin'], statSync(join(REPO_ROOT, 'dist/package.json')).mtimeMs);
      if (stale) throw new Error(`${stale} is newer than dist/: run npm run build first`);
      mkdirSync(join(dir, rel), { recursive: true, mode: 0o755 });
      binds.push({ rel, source });
    } else if (c.from === undefined) {
      const source = join(REPO_ROOT, c.src);
      if (statSync(source).isDirectory()) mkdirSync(join(dir, rel), { recursive: true, mode: 0o755 });
      else writeFileSync(join(dir, rel), '', { mode: 0o644 });
      binds.push({ rel, source });
    } else {
      throw new Error(`COPY --from=${c.from} ${c.src} is not modelled`);
    }
  }
  return { dir, workdir: image.workdir, binds, copied };
}

/**
 * What the pod's user may and may not write, checked as that user inside the pod before its
 * command starts: the image tree is root's and not writable; HOME (/nonexistent) does not exist and
 * cannot be made; with a read-only root, the temporary directory ($TMPDIR, else /tmp) is writable
 * only when the pod mounts a volume there; every emptyDir and claim mounted is writable.
 */
function podChecks(tree: ImageTree, home: string, writableVolumes: string[], readOnlyRoot: boolean): string {
  // Messages are double-quoted so $found and $tmp expand; the paths in them hold no quotes.
  const fail = (what: string): string => `{ echo "pod check failed: ${what}" >&2; exit 97; }`;
  const lines = [
    ...[tree.workdir, ...tree.copied].flatMap((p) => [
      `[ "$(stat -c %u ${quote(p)})" = 0 ] || ${fail(`${p} is not owned by root`)}`,
    ]),
    `found=$(find ${quote(tree.workdir)} -writable -print -quit)`,
    `[ -z "$found" ] || ${fail('the image tree is writable: $found')}`,
    `[ ! -e "$HOME" ] || ${fail(`HOME (${home}) exists`)}`,
    `! mkdir "$HOME" 2>/dev/null || ${fail(`HOME (${home}) could be created`)}`,
    ...writableVolumes.map((v) => `[ -w ${quote(v)} ] || ${fail(`the volume at ${v} is not writable`)}`),
  ];
  if (readOnlyRoot) {
    const tmpMounted = writableVolumes.map(quote).join(' ');
    lines.push(
      `[ ! -w / ] || ${fail('the root filesystem is writable')}`,
      `tmp="\${TMPDIR:-/tmp}"; mounted=no`,
      `for v in ${tmpMounted}; do [ "$v" = "$tmp" ] && mounted=yes; done`,
      `if [ -w "$tmp" ]; then [ $mounted = yes ] || ${fail('the temporary directory $tmp is writable without a volume')}; ` +
        `else [ $mounted = no ] || ${fail('the temporary directory $tmp is a volume but not writable')}; fi`,
    );
  }
  return lines.join('\n');
}

interface Contract {
  readonly e: Evaluation;
  readonly sandbox: Sandbox;
  readonly hostsFile: string;
  readonly imageFiles: PodMount[];
  readonly vault: Map<string, string>;
  readonly secretVolumes: Map<string, Map<string, string>>;
  readonly additions: Record<string, string>;
  readonly image: ImageDefinition;
  readonly tree: ImageTree;
  /** The image's ENTRYPOINT as run here (entrypointHere). */
  readonly entrypoint: string[];
  /** Every pod's writable volumes, to see afterwards what the runtime wrote where. */
  readonly written: { pod: string; mountPath: string; source: string }[];
  /** PVCs are shared storage: one directory per claim for every pod that mounts it. */
  readonly claims: Map<string, string>;
}

let podCount = 0;

function startPod(ctx: Contract, pod: RenderedPod, args?: string[]): Tracked {
  const id = `${pod.name}-${++podCount}`;
  const c = pod.container;
  const sc = pod.spec.securityContext ?? {};
  const uid = c.securityContext?.runAsUser ?? sc.runAsUser;
  const gid = c.securityContext?.runAsGroup ?? sc.runAsGroup ?? uid;
  if (uid === undefined || gid === undefined) throw new Error(`${pod.name}: no runAsUser rendered`);
  if (c.command)
    throw new Error(`${pod.name}: a command override is not modelled (the image's entrypoint runs)`);
  const fsGroup = sc.fsGroup;
  const owner = fsGroup ?? gid;

  const mounts: PodMount[] = [...ctx.imageFiles];
  const writableVolumes: string[] = [];
  for (const m of c.volumeMounts ?? []) {
    if (m.subPath) throw new Error(`${pod.name}: subPath mounts are not modelled`);
    const volume = pod.spec.volumes?.find((v) => v.name === m.name);
    if (!volume) throw new Error(`${pod.name}: volumeMount ${m.name} has no volume`);
    let source: string;
    if (volume.emptyDir !== undefined) {
      source = ctx.sandbox.mkdir(`pods/${id}/volumes/${m.name}`);
      chownSync(source, uid, owner);
      chmodSync(source, 0o2775);
    } else if (volume.persistentVolumeClaim) {
      const claim = volume.persistentVolumeClaim.claimName;
      source = ctx.claims.get(claim) ?? ctx.sandbox.mkdir(`claims/${claim}`);
      chownSync(source, uid, owner);
      chmodSync(source, 0o2775);
      ctx.claims.set(claim, source);
    } else if (volume.secret) {
      const data = ctx.secretVolumes.get(volume.secret.secretName);
      if (!data) throw new Error(`${pod.name}: no stand-in provides Secret ${volume.secret.secretName}`);
      source = ctx.sandbox.mkdir(`pods/${id}/volumes/${m.name}`);
      const items = volume.secret.items ?? [...data.keys()].map((key) => ({ key, path: key }));
      for (const item of items) {
        const value = data.get(item.key);
        if (value === undefined) throw new Error(`Secret ${volume.secret.secretName} has no key ${item.key}`);
        writeFileSync(join(source, item.path), value, { mode: 0o644 });
      }
    } else {
      throw new Error(`${pod.name}: volume ${volume.name} is of a kind this test does not model`);
    }
    mounts.push({ target: m.mountPath, source, readOnly: m.readOnly === true });
    if (!volume.secret && m.readOnly !== true) {
      writableVolumes.push(m.mountPath);
      ctx.written.push({ pod: id, mountPath: m.mountPath, source });
    }
  }
  const files = vaultFiles(pod.annotations);
  if (files.size > 0) {
    const dirs = new Set([...files.keys()].map((f) => dirname(f)));
    for (const dir of dirs) {
      const source = ctx.sandbox.mkdir(`pods/${id}/vault${dir}`);
      chownSync(source, uid, owner);
      for (const [file, key] of files) {
        if (dirname(file) !== dir) continue;
        const value = ctx.vault.get(key);
        if (value === undefined) throw new Error(`Vault holds no ${key} in this test`);
        const path = join(source, file.slice(dir.length + 1));
        // agent-run-as-same-user: the agent writes the files as the app's user.
        writeFileSync(path, value, { mode: 0o644 });
        chownSync(path, uid, owner);
      }
      mounts.push({ target: dir, source, readOnly: false });
    }
  }

  const root = ctx.sandbox.mkdir(`pods/${id}/root`);
  const upper = ctx.sandbox.mkdir(`pods/${id}/upper`);
  const work = ctx.sandbox.mkdir(`pods/${id}/overlay-work`);
  const app = ctx.tree.workdir;
  const lines = [
    'set -e',
    'mount --make-rprivate /',
    `mount -t overlay overlay -o lowerdir=/,upperdir=${quote(upper)},workdir=${quote(work)} ${quote(root)}`,
    ...HOST_BINDS.map((d) => `mount --rbind ${quote(d)} ${quote(root + d)}`),
    `mkdir -p ${quote(root + app)}`,
    `mount --bind ${quote(ctx.tree.dir)} ${quote(root + app)}`,
    ...ctx.tree.binds.flatMap((b) => {
      const target = quote(join(root + app, b.rel));
      return [`mount --bind ${quote(b.source)} ${target}`, `mount -o remount,bind,ro ${target}`];
    }),
    `mount -o remount,bind,ro ${quote(root + app)}`,
    `mount --bind ${quote(ctx.hostsFile)} ${quote(`${root}/etc/hosts`)}`,
  ];
  for (const m of mounts) {
    const target = root + m.target;
    lines.push(
      statSync(m.source).isDirectory()
        ? `mkdir -p ${quote(target)}`
        : `mkdir -p ${quote(dirname(target))} && touch ${quote(target)}`,
      `mount --bind ${quote(m.source)} ${quote(target)}`,
    );
    if (m.readOnly) lines.push(`mount -o remount,bind,ro ${quote(target)}`);
  }
  const readOnlyRoot = c.securityContext?.readOnlyRootFilesystem === true;
  if (readOnlyRoot) lines.push(`mount -o remount,ro ${quote(root)}`);
  const groups = fsGroup !== undefined ? [`--groups=${fsGroup}`] : ['--clear-groups'];
  const asUser = `chroot ${quote(root)} /usr/bin/env -C ${app} setpriv --reuid=${uid} --regid=${gid} ${groups.join(' ')} --`;
  const home = '/nonexistent';
  lines.push(
    `${asUser} /bin/sh -ec ${quote(podChecks(ctx.tree, home, writableVolumes, readOnlyRoot))}`,
    `exec ${asUser} ${[...ctx.entrypoint, ...(args ?? c.args ?? ctx.image.cmd)].map(quote).join(' ')}`,
  );
  const env = {
    ...containerEnv(ctx.e, c, ctx.image.env),
    // The kubelet sets the pod's hostname; HOME is the image user's passwd entry.
    HOSTNAME: id,
    HOME: home,
    ...ctx.additions,
  };
  return ctx.sandbox.start(id, ctx.sandbox.inNet(['unshare', '--mount', 'sh', '-c', lines.join('\n')]), env);
}

/**
 * The image's ENTRYPOINT, without tini when this machine has none: tini only forwards signals to
 * node, and here every step of a pod's command execs the next, so the test's SIGTERM reaches node.
 */
function entrypointHere(entrypoint: string[]): string[] {
  const [first, ...rest] = entrypoint;
  if (first && /\/tini$/.test(first) && !existsSync(first)) return rest[0] === '--' ? rest.slice(1) : rest;
  return entrypoint;
}

async function waitForExit(p: Tracked, timeoutMs: number, what: string): Promise<void> {
  const timer = new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), timeoutMs).unref());
  const result = await Promise.race([p.exited, timer]);
  if (result !== 0)
    throw new Error(`${what}: ${result === 'timeout' ? 'still running' : `exit ${result}`}\n${p.output()}`);
}

/** Listens on a Unix socket (argv[1]) and pipes each connection to 127.0.0.1:argv[2], as a Service would. */
const FORWARDER = `
  const net = require('node:net');
  const [socket, port] = process.argv.slice(1);
  net.createServer((client) => {
    const upstream = net.connect(Number(port), '127.0.0.1');
    client.pipe(upstream).pipe(client);
    upstream.on('error', () => client.destroy());
    client.on('error', () => upstream.destroy());
  }).listen(socket);
`;

async function forward(ctx: Contract, port: number): Promise<string> {
  const socket = join(ctx.sandbox.dir, `port-${port}.sock`);
  if (existsSync(socket)) return socket;
  ctx.sandbox.start(
    `forward-${port}`,
    ctx.sandbox.inNet([process.execPath, '-e', FORWARDER, socket, String(port)]),
  );
  for (let i = 0; !existsSync(socket); i++) {
    if (i > 100) throw new Error(`the forwarder for ${port} did not start`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return socket;
}

/** Kubelet semantics: an HTTP probe passes on a status from 200 to 399 within its timeout. */
async function probeOnce(ctx: Contract, c: Container, probe: Probe): Promise<string | undefined> {
  if ((probe.httpGet.scheme ?? 'HTTP') !== 'HTTP') throw new Error('only HTTP probes are modelled');
  const socket = await forward(ctx, probePort(c, probe.httpGet.port));
  try {
    const reply = await http(socket, 'GET', probe.httpGet.path, {
      timeoutMs: (probe.timeoutSeconds ?? 1) * 1000,
    });
    return reply.status >= 200 && reply.status < 400 ? undefined : `${reply.status} ${reply.body}`;
  } catch (error) {
    return (error as Error).message;
  }
}

async function probeUntil(
  ctx: Contract,
  p: Tracked,
  c: Container,
  probe: Probe,
  kind: string,
  windowMs: number,
): Promise<void> {
  const deadline = Date.now() + windowMs;
  for (;;) {
    const failure = await probeOnce(ctx, c, probe);
    if (failure === undefined) return;
    if (p.child.exitCode !== null || Date.now() > deadline)
      throw new Error(
        `${c.name} ${kind} probe ${probe.httpGet.path} never passed: ${failure}\n${p.output().slice(-6000)}`,
      );
    await new Promise((r) => setTimeout(r, 500));
  }
}

/** Startup first (within its own failureThreshold × periodSeconds), then readiness and liveness. */
async function probesPass(ctx: Contract, p: Tracked, c: Container): Promise<void> {
  const window = (probe?: Probe): number =>
    probe ? (probe.failureThreshold ?? 3) * (probe.periodSeconds ?? 10) * 1000 : 0;
  if (c.startupProbe) await probeUntil(ctx, p, c, c.startupProbe, 'startup', window(c.startupProbe));
  // Not ready yet only keeps traffic away; the test allows a minute for the data stores to answer.
  if (c.readinessProbe) await probeUntil(ctx, p, c, c.readinessProbe, 'readiness', 60_000);
  if (c.livenessProbe) await probeUntil(ctx, p, c, c.livenessProbe, 'liveness', window(c.livenessProbe));
}

// ---- the stand-ins a stack's rendered objects call for ----

const ADDRESSES = {
  postgres: '127.0.0.10',
  redis: ['127.0.0.21', '127.0.0.22', '127.0.0.23'],
  s3: '127.0.0.30',
};

/**
 * The node hostnames ElastiCache (cluster mode) gives a replication group's primaries: its
 * configuration endpoint "clustercfg.<group>.<id>.<region>.cache.amazonaws.com" becomes
 * "<group>-<shard 4 digits>-001.<group>.<id>.<region>.cache.amazonaws.com".
 */
function elastiCacheNodeHost(configEndpoint: string, shard: number): string {
  const m = /^clustercfg\.([^.]+)\.(.+)$/.exec(configEndpoint);
  if (!m) throw new Error(`${configEndpoint} is not an ElastiCache configuration endpoint`);
  return `${m[1]}-${String(shard).padStart(4, '0')}-001.${m[1]}.${m[2]}`;
}

function hostOf(url: string): { host: string; port: number } {
  const u = new URL(url);
  return { host: u.hostname, port: Number(u.port || 5432) };
}

export interface ContractResult {
  readonly video: { status: string; outputUrl?: string; error?: unknown };
  /** S3 mode: the bucket, the CDN base URL and the keys the bucket holds afterwards. */
  readonly s3?: { bucket: string; cdnBaseUrl: string; keys: string[] };
  /** Local storage: the video file fetched through the API. */
  readonly localFile?: { status: number; bytes: number };
  /** Environment the test adds to every pod, with what provides it in a real cluster. */
  readonly additions: Record<string, string>;
  /** The command the pods ran (the image's ENTRYPOINT as run here). */
  readonly entrypoint: string[];
  /** Pod → the files it left in the volume at its temporary directory (/tmp), after the video. */
  readonly tmpFiles: Record<string, string[]>;
}

/**
 * Evaluates `stack`, builds the stand-ins its objects call for, runs the migration Job, then the
 * API and worker until their probes pass, and renders one 15 s video through the API.
 */
export async function runPodContract(stack: string): Promise<ContractResult> {
  const t0 = Date.now();
  const trace = (step: string): void => {
    if (process.env.CONTRACT_TRACE) process.stderr.write(`[${stack} +${Date.now() - t0} ms] ${step}\n`);
  };
  const e = await evaluateStack(stack);
  trace('stack evaluated');
  const pods = runtimePods(e);
  const image = imageDefinition();
  const apiEnv = containerEnv(e, pods.api.container, image.env);
  const sandbox = await createSandbox(`archibald-pod-contract-${stack}-`);
  const started: Tracked[] = [];
  try {
    const pki = sandbox.mkdir('pki');
    const hosts = new Map<string, string>();
    const vault = new Map<string, string>([
      ['database_password', `pg-${stack}-contract-password`],
      ['redis_password', `redis-${stack}-contract-auth-token-0123456789`],
      ['anthropic_api_key', 'sk-ant-contract-unused'],
    ]);
    const secretVolumes = new Map<string, Map<string, string>>();
    const imageFiles: PodMount[] = [];
    const additions: Record<string, string> = {};
    // Stands in for the public roots Node already trusts (Amazon's CAs sign ElastiCache and S3).
    let publicCa: KeyPair | undefined;
    const publicRoots = async (): Promise<KeyPair> => (publicCa ??= await makeCa(pki, 'public-root'));

    // Postgres: RDS instances, or a CloudNativePG Cluster.
    const rdsInstances = ofType(e, 'aws:rds/instance:Instance');
    const cnpg = ofType(e, 'kubernetes:postgresql.cnpg.io/v1:Cluster');
    const rdsCa = await makeCa(pki, 'rds-root');
    let pgNames: string[];
    let pgCa: KeyPair;
    if (cnpg.length === 1) {
      const name = String(at(cnpg[0]?.inputs, 'metadata.name'));
      const ns = String(at(cnpg[0]?.inputs, 'metadata.namespace'));
      // The operator's server certificate: each service, bare, with its namespace, and .svc.
      pgNames = [`${name}-rw`, `${name}-r`, `${name}-ro`].flatMap((s) => [s, `${s}.${ns}`, `${s}.${ns}.svc`]);
      pgCa = await makeCa(pki, 'cnpg-ca');
      secretVolumes.set(`${name}-ca`, new Map([['ca.crt', readFileSync(pgCa.cert, 'utf8')]]));
    } else if (rdsInstances.length > 0) {
      // Each RDS instance's certificate names its own endpoint.
      pgNames = rdsInstances.map((r) => String(r.outputs.address));
      pgCa = rdsCa;
    } else {
      throw new Error('no Postgres this test knows how to stand in for');
    }
    for (const { url, dest } of image.added) {
      if (!url.startsWith('https://truststore.pki.rds.amazonaws.com/'))
        throw new Error(`the image ADDs ${url}; this test has no stand-in for it`);
      imageFiles.push({ target: dest, source: rdsCa.cert, readOnly: true });
    }
    const primary = hostOf(apiEnv.DATABASE_URL ?? '');
    const readers = (apiEnv.DATABASE_READ_URL ?? '').split(',').filter(Boolean).map(hostOf);
    for (const h of [primary, ...readers]) hosts.set(h.host, ADDRESSES.postgres);
    const dbUrl = new URL(apiEnv.DATABASE_URL ?? '');
    await startPostgres(sandbox, {
      address: ADDRESSES.postgres,
      port: primary.port,
      server: await issue(pgCa, pki, 'postgres', pgNames),
      user: decodeURIComponent(dbUrl.username),
      password: vault.get('database_password') as string,
      database: dbUrl.pathname.slice(1),
    });

    trace('postgres up');
    // Redis: ElastiCache cluster mode, or the in-cluster single node.
    const password = vault.get('redis_password') as string;
    if (apiEnv.REDIS_CLUSTER_NODES) {
      const group = ofType(e, 'aws:elasticache/replicationGroup:ReplicationGroup');
      if (group.length !== 1) throw new Error('cluster mode Redis without an ElastiCache replication group');
      const endpoint = String(group[0]?.outputs.configurationEndpointAddress);
      const port = Number(group[0]?.inputs.port ?? 6379);
      const tls = group[0]?.inputs.transitEncryptionEnabled === true;
      const nodeHosts = ADDRESSES.redis.map((_, i) => elastiCacheNodeHost(endpoint, i + 1));
      // The configuration endpoint resolves to the nodes' addresses.
      hosts.set(endpoint, ADDRESSES.redis[0] as string);
      nodeHosts.forEach((h, i) => hosts.set(h, ADDRESSES.redis[i] as string));
      const ca = await publicRoots();
      const server = tls ? await issue(ca, pki, 'elasticache', [endpoint, ...nodeHosts]) : undefined;
      await startRedis(
        sandbox,
        ADDRESSES.redis.map((address, i) => ({
          address,
          port,
          password,
          announceHostname: nodeHosts[i] as string,
          ...(server ? { tls: { server, ca: ca.cert } } : {}),
        })),
      );
    } else {
      const u = new URL(apiEnv.REDIS_URL ?? '');
      if (u.protocol !== 'redis:') throw new Error('in-cluster Redis over TLS is not modelled');
      hosts.set(u.hostname, ADDRESSES.redis[0] as string);
      await startRedis(sandbox, [
        { address: ADDRESSES.redis[0] as string, port: Number(u.port || 6379), password },
      ]);
    }

    trace('redis up');
    // S3: the bucket at its virtual-hosted name (what the SDK calls without an endpoint override).
    let s3Dir: string | undefined;
    if (apiEnv.S3_BUCKET) {
      const bucket = apiEnv.S3_BUCKET;
      const host = `${bucket}.s3.${apiEnv.S3_REGION ?? 'us-east-1'}.amazonaws.com`;
      hosts.set(host, ADDRESSES.s3);
      s3Dir = await startS3(sandbox, {
        address: ADDRESSES.s3,
        server: await issue(await publicRoots(), pki, 's3', [host]),
        bucket,
        repoRoot: REPO_ROOT,
      });
      // IRSA: the EKS pod identity webhook injects AWS_ROLE_ARN and AWS_WEB_IDENTITY_TOKEN_FILE for a
      // service account annotated with a role, and the SDK trades the token with STS for these.
      const account = kubernetesObject(e, 'ServiceAccount', pods.api.spec.serviceAccountName ?? 'default');
      const annotations = (at(account.inputs, 'metadata.annotations') ?? {}) as Record<string, string>;
      if (annotations['eks.amazonaws.com/role-arn']) {
        additions.AWS_ACCESS_KEY_ID = 'S3RVER';
        additions.AWS_SECRET_ACCESS_KEY = 'S3RVER';
      }
    }
    if (publicCa) {
      // Mounted into every pod, since /tmp there is the pod's own emptyDir.
      const inPod = '/usr/local/share/archibald-contract/public-roots.pem';
      imageFiles.push({ target: inPod, source: publicCa.cert, readOnly: true });
      additions.NODE_EXTRA_CA_CERTS = inPod;
    }
    for (const f of readdirSync(pki)) chmodSync(join(pki, f), 0o644);

    const hostsFile = join(sandbox.dir, 'hosts');
    writeFileSync(
      hostsFile,
      ['127.0.0.1 localhost', ...[...hosts].map(([name, address]) => `${address} ${name}`)].join('\n') + '\n',
    );
    chmodSync(hostsFile, 0o644);
    mkdirSync(join(sandbox.dir, 'pods'), { recursive: true });
    const ctx: Contract = {
      e,
      sandbox,
      hostsFile,
      imageFiles,
      vault,
      secretVolumes,
      additions,
      image,
      tree: imageTree(sandbox, image),
      entrypoint: entrypointHere(image.entrypoint),
      written: [],
      claims: new Map(),
    };

    trace('stand-ins up');
    // The migration Job runs to completion before the Deployments roll.
    const migrate = startPod(ctx, pods.migrate);
    await waitForExit(migrate, 120_000, 'migration Job');

    trace('migrated');
    const api = startPod(ctx, pods.api);
    const worker = startPod(ctx, pods.worker);
    started.push(api, worker);
    await Promise.all([
      probesPass(ctx, api, pods.api.container),
      probesPass(ctx, worker, pods.worker.container),
    ]);

    trace('probes pass');
    // An API key, created by the CLI in the API's container the way an operator would (kubectl exec).
    const keys = startPod(ctx, pods.api, ['keys', 'create', '--name', `contract-${stack}`, '--json']);
    await waitForExit(keys, 60_000, 'keys create');
    const key = (JSON.parse(keys.output().trim().split('\n').pop() as string) as { key: string }).key;

    trace('key created');
    const apiPort = pods.api.container.ports?.[0]?.containerPort as number;
    const socket = await forward(ctx, apiPort);
    const auth = { authorization: `Bearer ${key}` };
    const created = await http(socket, 'POST', '/v1/videos', {
      headers: auth,
      body: { topic: 'contract check', durationSeconds: 15, aspect: '16:9', resolution: '720p' },
    });
    if (created.status !== 202) throw new Error(`POST /v1/videos: ${created.status} ${created.body}`);
    const { id } = JSON.parse(created.body) as { id: string };
    let video: ContractResult['video'] = { status: 'queued' };
    const deadline = Date.now() + 150_000;
    while (!['completed', 'failed', 'cancelled'].includes(video.status)) {
      if (Date.now() > deadline)
        throw new Error(`video still ${video.status}\nworker:\n${worker.output().slice(-6000)}`);
      await new Promise((r) => setTimeout(r, 1000));
      const reply = await http(socket, 'GET', `/v1/videos/${id}`, { headers: auth });
      if (reply.status === 200) video = JSON.parse(reply.body) as ContractResult['video'];
    }
    if (video.status !== 'completed')
      throw new Error(
        `video ${video.status}: ${JSON.stringify(video.error)}\nworker:\n${worker.output().slice(-6000)}`,
      );
    trace(`video ${video.status} at ${video.outputUrl ?? '?'}`);
    const tmpFiles: Record<string, string[]> = {};
    for (const w of ctx.written)
      if (w.mountPath === (apiEnv.TMPDIR ?? '/tmp')) tmpFiles[w.pod] = listFiles(w.source);
    trace(`left in /tmp: ${JSON.stringify(tmpFiles)}`);
    const ran = { additions, entrypoint: ctx.entrypoint, tmpFiles };
    if (s3Dir) {
      // s3rver keeps an object as "<bucket>/<key>._S3rver_object".
      const keys = listFiles(s3Dir)
        .filter((f) => f.endsWith('._S3rver_object'))
        .map((f) => f.slice(0, -'._S3rver_object'.length));
      return {
        video,
        s3: { bucket: apiEnv.S3_BUCKET as string, cdnBaseUrl: apiEnv.CDN_BASE_URL ?? '', keys },
        ...ran,
      };
    }
    const file = await http(socket, 'GET', new URL(video.outputUrl ?? '/missing', 'http://pod').pathname, {
      headers: auth,
    });
    return {
      video,
      localFile: { status: file.status, bytes: Buffer.byteLength(file.body, 'latin1') },
      ...ran,
    };
  } finally {
    await Promise.all(started.map((p) => p.stop()));
    await sandbox.close();
  }
}

function listFiles(dir: string, prefix = ''): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((d) =>
    d.isDirectory() ? listFiles(join(dir, d.name), `${prefix}${d.name}/`) : [`${prefix}${d.name}`],
  );
}
