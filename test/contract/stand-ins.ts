/**
 * Production-shaped stand-ins for the services a stack's pods talk to, run inside one network
 * namespace of their own so every rendered port (5432, 6379, 443, 8080, 9464) is used verbatim and
 * nothing collides with the machine's own services or another test:
 *
 * - Postgres with TLS only (hostssl + scram), its certificate naming exactly the hosts the real
 *   service's certificate names (RDS: each instance's endpoint; CloudNativePG: its services);
 * - Redis: ElastiCache cluster mode (TLS only, AUTH, nodes announcing their hostnames as
 *   ElastiCache's CLUSTER SLOTS does) or the in-cluster single node (plain, AUTH);
 * - S3 (s3rver over TLS at the bucket's virtual-hosted name).
 *
 * Every process started here is tracked and killed by `close()`, which also removes the directory.
 */
import { execFile, spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import {
  chmodSync,
  chownSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readlinkSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
/** The newest PostgreSQL server installed from Debian's packages (its binaries are not on PATH). */
export const PG_BIN = `/usr/lib/postgresql/${
  readdirSync('/usr/lib/postgresql')
    .filter((v) => /^\d+$/.test(v))
    .sort((a, b) => Number(a) - Number(b))
    .pop() ?? '15'
}/bin`;
const SIGNALS = ['SIGTERM', 'SIGINT', 'SIGHUP'] as const;

export interface KeyPair {
  readonly cert: string;
  readonly key: string;
}

export interface Sandbox {
  readonly dir: string;
  /** argv prefix that runs a command inside the sandbox's network namespace. */
  inNet(argv: readonly string[]): string[];
  /** Runs a command to completion inside the network namespace. */
  exec(argv: readonly string[]): Promise<{ stdout: string; stderr: string }>;
  /** A new directory under the sandbox (mode 0755 so the pod's user can traverse it). */
  mkdir(name: string, owner?: number): string;
  /** Starts a tracked long-running process; its output is kept for failure messages. */
  start(name: string, argv: readonly string[], env?: NodeJS.ProcessEnv): Tracked;
  close(): Promise<void>;
}

export interface Tracked {
  readonly child: ChildProcess;
  output(): string;
  waitFor(pattern: RegExp, timeoutMs: number): Promise<void>;
  readonly exited: Promise<number | null>;
  stop(): Promise<void>;
}

function track(name: string, child: ChildProcess): Tracked {
  let out = '';
  const onData = (chunk: Buffer): void => {
    out += chunk.toString();
    if (out.length > 200_000) out = out.slice(-100_000);
  };
  child.stdout?.on('data', onData);
  child.stderr?.on('data', onData);
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return {
    child,
    output: () => out,
    exited,
    async waitFor(pattern, timeoutMs) {
      const deadline = Date.now() + timeoutMs;
      while (!pattern.test(out)) {
        if (child.exitCode !== null || child.signalCode !== null)
          throw new Error(
            `${name} exited (${child.exitCode ?? child.signalCode}) before ${pattern}:\n${out}`,
          );
        if (Date.now() > deadline) throw new Error(`${name}: no ${pattern} within ${timeoutMs} ms:\n${out}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    },
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** A directory and a network namespace (held by a `sleep` we own) for one contract run. */
export async function createSandbox(prefix: string): Promise<Sandbox> {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  chmodSync(dir, 0o755);
  const holder = spawn('unshare', ['--net', 'sleep', '86400'], { stdio: 'ignore' });
  const tracked: Tracked[] = [track('netns holder', holder)];
  const net = `--net=/proc/${holder.pid}/ns/net`;
  const inNet = (argv: readonly string[]): string[] => ['nsenter', net, '--', ...argv];
  const sandbox: Sandbox = {
    dir,
    inNet,
    exec: (argv) => run('nsenter', [net, '--', ...argv], { timeout: 60_000 }),
    mkdir(name, owner) {
      const path = join(dir, name);
      mkdirSync(path, { recursive: true, mode: 0o755 });
      chmodSync(path, 0o755);
      if (owner !== undefined) chownSync(path, owner, owner);
      return path;
    },
    start(name, argv, env) {
      const [command, ...args] = argv;
      const child = spawn(command as string, args, {
        env: env ?? process.env,
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      const t = track(name, child);
      tracked.push(t);
      return t;
    },
    async close() {
      process.off('exit', onExit);
      for (const signal of SIGNALS) process.off(signal, onSignal);
      await Promise.all(tracked.reverse().map((t) => t.stop()));
      rmSync(dir, { recursive: true, force: true });
    },
  };
  // A test that times out never reaches its finally: the last chance to leave nothing behind.
  const onExit = (): void => {
    for (const t of tracked) if (t.child.exitCode === null) t.child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  };
  // Killed (CI's time limit, Ctrl-C), the same: 'exit' does not run on a signal.
  const onSignal = (signal: NodeJS.Signals): void => {
    onExit();
    process.kill(process.pid, signal);
  };
  process.on('exit', onExit);
  for (const signal of SIGNALS) process.once(signal, onSignal);
  try {
    // Until unshare has made the namespace, /proc/<pid>/ns/net is still this process's own.
    const own = readlinkSync('/proc/self/ns/net');
    for (let i = 0; readlinkSync(`/proc/${holder.pid}/ns/net`) === own; i++) {
      if (i > 100) throw new Error('unshare --net did not create a network namespace');
      await new Promise((r) => setTimeout(r, 20));
    }
    await run('nsenter', [net, '--', 'ip', 'link', 'set', 'lo', 'up']);
  } catch (error) {
    await sandbox.close();
    throw error;
  }
  return sandbox;
}

// ---- certificates ----

export async function makeCa(dir: string, name: string): Promise<KeyPair> {
  const pair = { cert: join(dir, `${name}.crt`), key: join(dir, `${name}.key`) };
  await run('openssl', [
    'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
    '-keyout', pair.key, '-out', pair.cert, '-days', '2', '-subj', `/CN=${name}`,
    '-addext', 'basicConstraints=critical,CA:TRUE',
    '-addext', 'keyUsage=critical,keyCertSign,cRLSign',
  ]); // prettier-ignore
  return pair;
}

/** A server certificate naming exactly `hosts` (DNS names only: no IP a client could match instead). */
export async function issue(
  ca: KeyPair,
  dir: string,
  name: string,
  hosts: readonly string[],
): Promise<KeyPair> {
  const pair = { cert: join(dir, `${name}.crt`), key: join(dir, `${name}.key`) };
  const csr = join(dir, `${name}.csr`);
  const ext = join(dir, `${name}.ext`);
  writeFileSync(
    ext,
    [
      'basicConstraints=CA:FALSE',
      'keyUsage=critical,digitalSignature,keyEncipherment',
      'extendedKeyUsage=serverAuth,clientAuth',
      `subjectAltName=${hosts.map((h) => `DNS:${h}`).join(',')}`,
    ].join('\n'),
  );
  await run('openssl', [
    'req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
    '-keyout', pair.key, '-out', csr, '-subj', `/CN=${name}`,
  ]); // prettier-ignore
  await run('openssl', [
    'x509', '-req', '-in', csr, '-CA', ca.cert, '-CAkey', ca.key, '-CAcreateserial',
    '-out', pair.cert, '-days', '2', '-extfile', ext,
  ]); // prettier-ignore
  return pair;
}

// ---- Postgres ----

export interface PostgresOptions {
  readonly address: string;
  readonly port: number;
  readonly server: KeyPair;
  readonly user: string;
  readonly password: string;
  readonly database: string;
}

/** A private Postgres 15 cluster that, like RDS with rds.force_ssl, accepts TLS connections only. */
export async function startPostgres(sandbox: Sandbox, o: PostgresOptions): Promise<void> {
  const { uid, gid } = await systemUser('postgres');
  const home = sandbox.mkdir('postgres', uid);
  const data = join(home, 'data');
  const asPostgres = ['setpriv', `--reuid=${uid}`, `--regid=${gid}`, '--clear-groups'];
  await run(asPostgres[0] as string, [
    ...asPostgres.slice(1),
    `${PG_BIN}/initdb`, '-D', data, '-U', 'postgres', '--auth-local=trust', '--auth-host=reject',
  ]); // prettier-ignore
  writeFileSync(
    join(data, 'pg_hba.conf'),
    `local all all trust\nhostssl all all 127.0.0.0/8 scram-sha-256\nhost all all 0.0.0.0/0 reject\n`,
  );
  for (const [from, to] of [
    [o.server.cert, 'server.crt'],
    [o.server.key, 'server.key'],
  ] as const) {
    writeFileSync(join(home, to), await readText(from), { mode: 0o600 });
    chownSync(join(home, to), uid, gid);
  }
  const server = sandbox.start(
    'postgres',
    sandbox.inNet([
      ...asPostgres,
      `${PG_BIN}/postgres`, '-D', data,
      '-c', `listen_addresses=${o.address}`, '-c', `port=${o.port}`,
      '-c', `unix_socket_directories=${home}`,
      '-c', 'ssl=on', '-c', `ssl_cert_file=${join(home, 'server.crt')}`,
      '-c', `ssl_key_file=${join(home, 'server.key')}`,
      '-c', 'fsync=off', '-c', 'password_encryption=scram-sha-256',
    ]),
  ); // prettier-ignore
  await server.waitFor(/ready to accept connections/, 30_000);
  // Over the Unix socket (a file: it crosses the network namespace), as the superuser.
  const sql = async (statement: string): Promise<void> => {
    await run('psql', [
      '-h',
      home,
      '-p',
      String(o.port),
      '-U',
      'postgres',
      '-v',
      'ON_ERROR_STOP=1',
      '-c',
      statement,
    ]);
  };
  const literal = (s: string): string => `'${s.replace(/'/g, "''")}'`;
  const ident = (s: string): string => `"${s.replace(/"/g, '""')}"`;
  await sql(`CREATE ROLE ${ident(o.user)} LOGIN PASSWORD ${literal(o.password)}`);
  await sql(`CREATE DATABASE ${ident(o.database)} OWNER ${ident(o.user)}`);
}

// ---- Redis ----

export interface RedisNodeOptions {
  readonly address: string;
  readonly port: number;
  readonly password: string;
  /** TLS only (ElastiCache in-transit encryption "required"). */
  readonly tls?: { server: KeyPair; ca: string };
  /** Cluster mode: the hostname this node announces in CLUSTER SLOTS/SHARDS and redirects. */
  readonly announceHostname?: string;
}

function redisArgs(dir: string, name: string, o: RedisNodeOptions): string[] {
  const args = [
    '--bind', o.address, '--dir', dir, '--save', '', '--appendonly', 'no',
    '--requirepass', o.password, '--masterauth', o.password,
  ]; // prettier-ignore
  if (o.tls) {
    args.push(
      '--port', '0', '--tls-port', String(o.port),
      '--tls-cert-file', o.tls.server.cert, '--tls-key-file', o.tls.server.key,
      '--tls-ca-cert-file', o.tls.ca, '--tls-auth-clients', 'no',
      '--tls-cluster', 'yes', '--tls-replication', 'yes',
    ); // prettier-ignore
  } else {
    args.push('--port', String(o.port));
  }
  if (o.announceHostname) {
    args.push(
      '--cluster-enabled', 'yes', '--cluster-config-file', join(dir, `${name}-nodes.conf`),
      // With only a TLS port, 7.0 would announce bus port 0 + 10000; and pin the gossiped address.
      '--cluster-port', String(o.port + 10000), '--cluster-announce-ip', o.address,
      '--cluster-announce-hostname', o.announceHostname,
      '--cluster-preferred-endpoint-type', 'hostname',
    ); // prettier-ignore
  }
  return args;
}

export async function startRedis(sandbox: Sandbox, nodes: readonly RedisNodeOptions[]): Promise<void> {
  const dir = sandbox.mkdir('redis');
  const servers = nodes.map((node, i) =>
    sandbox.start(`redis-${i}`, sandbox.inNet(['redis-server', ...redisArgs(dir, `node-${i}`, node)])),
  );
  await Promise.all(servers.map((s) => s.waitFor(/Ready to accept connections/, 15_000)));
  const first = nodes[0];
  if (!first?.announceHostname) return;
  const cli = [
    'redis-cli', ...(first.tls ? ['--tls', '--cacert', first.tls.ca] : []),
    '-a', first.password, '--no-auth-warning',
  ]; // prettier-ignore
  // The cluster is joined by address (the bus gossips IPs); clients only ever see the hostnames.
  await sandbox.exec([
    ...cli, '--insecure',
    '--cluster', 'create', ...nodes.map((n) => `${n.address}:${n.port}`), '--cluster-yes',
  ]); // prettier-ignore
  for (const node of nodes) {
    for (let i = 0; ; i++) {
      const { stdout } = await sandbox.exec([
        ...cli, '--insecure', '-h', node.address, '-p', String(node.port), 'cluster', 'info',
      ]); // prettier-ignore
      if (stdout.includes('cluster_state:ok')) break;
      if (i > 100) throw new Error(`redis cluster never became ok:\n${stdout}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

// ---- S3 ----

export interface S3Options {
  readonly address: string;
  readonly server: KeyPair;
  readonly bucket: string;
  readonly repoRoot: string;
}

/** s3rver over HTTPS on 443, serving the bucket at its virtual-hosted name. Returns its directory. */
export async function startS3(sandbox: Sandbox, o: S3Options): Promise<string> {
  const dir = sandbox.mkdir('s3');
  const script = `
    const fs = require('node:fs');
    const S3rver = require('s3rver');
    new S3rver({
      address: process.env.S3_ADDRESS, port: 443, silent: true, directory: process.env.S3_DIR,
      key: fs.readFileSync(process.env.S3_KEY), cert: fs.readFileSync(process.env.S3_CERT),
      configureBuckets: [{ name: process.env.S3_BUCKET_NAME, configs: [] }],
    }).run().then(() => console.log('s3 ready'), (e) => { console.error(e); process.exit(1); });
  `;
  const server = sandbox.start('s3rver', sandbox.inNet([process.execPath, '-e', script]), {
    ...process.env,
    NODE_PATH: join(o.repoRoot, 'node_modules'),
    S3_ADDRESS: o.address,
    S3_DIR: dir,
    S3_KEY: o.server.key,
    S3_CERT: o.server.cert,
    S3_BUCKET_NAME: o.bucket,
  });
  await server.waitFor(/s3 ready/, 15_000);
  return dir;
}

// ---- helpers ----

async function readText(path: string): Promise<string> {
  const { readFile } = await import('node:fs/promises');
  return readFile(path, 'utf8');
}

export async function systemUser(name: string): Promise<{ uid: number; gid: number }> {
  const { stdout } = await run('id', ['-u', name]);
  const { stdout: g } = await run('id', ['-g', name]);
  return { uid: Number(stdout.trim()), gid: Number(g.trim()) };
}
