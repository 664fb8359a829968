/**
 * HA Vault serves TLS with a certificate from the stack's private CA, and every client reaches it
 * over https by a name the certificate carries, trusting that CA: raft peers, the injector's
 * agents, the configure Job, the snapshot CronJob, Prometheus.
 */
import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { TIERS } from '../../stacks/tiers.js';
import { podTemplates } from './admission.js';
import { at, evaluateStack, kubernetesObject, ofType, one } from './harness.js';
import type { Evaluation, RegisteredResource } from './harness.js';

type Obj = Record<string, unknown>;
let e: Evaluation;
before(async () => {
  e = await evaluateStack('prod');
});

const host = (url: string): string => new URL(url).hostname;

function certificateNames(): Set<string> {
  const request = one(e, 'tls:index/certRequest:CertRequest');
  return new Set([...(request.inputs.dnsNames as string[]), ...(request.inputs.ipAddresses as string[])]);
}

function raftConfig(): string {
  const vault = ofType(e, 'kubernetes:helm.sh/v3:Release').find((r) => r.inputs.chart === 'vault');
  return String(at(vault?.inputs, 'values.server.ha.raft.config'));
}

/** Containers of Jobs and CronJobs that run the vault CLI (they set VAULT_ADDR). */
function cliContainers(): { owner: string; container: Obj; spec: Obj }[] {
  return podTemplates(e).flatMap((t) =>
    [...((t.spec.initContainers ?? []) as Obj[]), ...(t.spec.containers as Obj[])]
      .filter((c) => ((c.env ?? []) as Obj[]).some((v) => v.name === 'VAULT_ADDR'))
      .map((container) => ({ owner: t.owner, container, spec: t.spec })),
  );
}

function caSecret(namespace: string): RegisteredResource {
  const found = ofType(e, 'kubernetes:core/v1:Secret').filter(
    (s) => at(s.inputs, 'metadata.name') === 'vault-ca' && at(s.inputs, 'metadata.namespace') === namespace,
  );
  assert.equal(found.length, 1, `one vault-ca Secret in ${namespace}`);
  return found[0] as RegisteredResource;
}

test('the listener serves TLS from the vault-tls Secret the release waits for', () => {
  const config = raftConfig();
  assert.doesNotMatch(config, /tls_disable/);
  assert.match(config, /tls_cert_file = "\/vault\/userconfig\/vault-tls\/tls.crt"/);
  assert.match(config, /tls_key_file = "\/vault\/userconfig\/vault-tls\/tls.key"/);
  const vault = ofType(e, 'kubernetes:helm.sh/v3:Release').find((r) => r.inputs.chart === 'vault');
  assert.ok(vault);
  assert.deepEqual(at(vault.inputs, 'values.server.volumeMounts'), [
    { name: 'vault-tls', mountPath: '/vault/userconfig/vault-tls', readOnly: true },
  ]);
  assert.equal(at(vault.inputs, 'values.server.volumes.0.secret.secretName'), 'vault-tls');
  const tlsSecret = kubernetesObject(e, 'Secret', 'vault-tls');
  assert.equal(tlsSecret.inputs.type, 'kubernetes.io/tls');
  assert.ok(
    tlsSecret.secretPaths.some((p) => p.startsWith('stringData')),
    'the private key stays secret',
  );
  assert.ok(vault.dependencies.includes(tlsSecret.urn), 'the release waits for its certificate');
  assert.equal(
    at(vault.inputs, 'values.server.extraEnvironmentVars.VAULT_CACERT'),
    '/vault/userconfig/vault-tls/ca.crt',
  );
});

test('the certificate is signed by the stack CA for server use', () => {
  const ca = one(e, 'tls:index/selfSignedCert:SelfSignedCert');
  assert.equal(ca.inputs.isCaCertificate, true);
  const cert = one(e, 'tls:index/locallySignedCert:LocallySignedCert');
  assert.ok(cert.dependencies.includes(ca.urn), 'signed by the CA');
  assert.ok((cert.inputs.allowedUses as string[]).includes('server_auth'));
  assert.ok(Number(cert.inputs.earlyRenewalHours) > 0, 'renewed by a pulumi up before it expires');
});

test('every address a client uses is https and named in the certificate', () => {
  const names = certificateNames();
  const used: [string, string][] = [];
  for (const m of raftConfig().matchAll(/leader_api_addr = "([^"]+)"/g))
    used.push(['retry_join', m[1] as string]);
  for (const m of raftConfig().matchAll(/leader_tls_servername = "([^"]+)"/g))
    used.push(['retry_join servername', `https://${m[1] as string}`]);
  assert.equal(
    used.length,
    2 * TIERS.prod.vault.replicas,
    'a retry_join with address and server name per replica',
  );
  for (const t of podTemplates(e)) {
    const service = t.annotations['vault.hashicorp.com/service'];
    if (service) used.push([`${t.owner} agent`, service]);
  }
  for (const { owner, container } of cliContainers()) {
    const addr = ((container.env as Obj[]).find((v) => v.name === 'VAULT_ADDR') as Obj).value as string;
    used.push([`${owner} ${String(container.name)}`, addr]);
  }
  // The chart points the injector's default address at the main service.
  used.push(['injector default', 'https://vault.vault.svc:8200']);
  const monitor = kubernetesObject(e, 'ServiceMonitor', 'vault');
  used.push([
    'ServiceMonitor',
    `https://${String(at(monitor.inputs, 'spec.endpoints.0.tlsConfig.serverName'))}`,
  ]);
  used.push(['CLI in a server pod', 'https://127.0.0.1:8200']);
  assert.ok(used.length > 15, `${used.length} client addresses`);
  for (const [who, url] of used) {
    assert.ok(url.startsWith('https://'), `${who}: ${url} is https`);
    assert.ok(names.has(host(url)), `${who}: ${host(url)} is in the certificate`);
  }
});

test('agents trust the CA through the injector, from a vault-ca Secret in their own namespace', () => {
  const tlsCa = at(kubernetesObject(e, 'Secret', 'vault-tls').inputs, 'stringData') as Record<string, string>;
  assert.match(tlsCa['ca.crt'] ?? '', /^-----BEGIN CERTIFICATE-----/);
  const injected = podTemplates(e).filter(
    (t) => t.annotations['vault.hashicorp.com/agent-inject'] === 'true',
  );
  assert.ok(injected.length >= 5, 'API, worker, migrate, exporters');
  for (const t of injected) {
    assert.equal(t.annotations['vault.hashicorp.com/tls-secret'], 'vault-ca', t.owner);
    assert.equal(t.annotations['vault.hashicorp.com/ca-cert'], '/vault/tls/ca.crt', t.owner);
    const secret = caSecret(t.namespace);
    assert.deepEqual(at(secret.inputs, 'stringData'), { 'ca.crt': tlsCa['ca.crt'] }, 'the CA alone, no key');
  }
});

test('the configure Job and the snapshot CronJob trust the CA through VAULT_CACERT', () => {
  const clients = cliContainers();
  assert.deepEqual(
    clients.map((c) => c.owner.split('/')[0]).sort(),
    ['CronJob', 'Job'],
    'the configure Job and the snapshot CronJob',
  );
  for (const { owner, container, spec } of clients) {
    const env = container.env as Obj[];
    const caFile = String(env.find((v) => v.name === 'VAULT_CACERT')?.value);
    const mount = ((container.volumeMounts ?? []) as Obj[]).find((m) =>
      caFile.startsWith(`${String(m.mountPath)}/`),
    );
    assert.ok(mount, `${owner}: ${caFile} is on a mounted volume`);
    const volume = (spec.volumes as Obj[]).find((v) => v.name === mount.name) as Obj;
    assert.equal(at(volume, 'secret.secretName'), 'vault-ca', `${owner}: from the vault-ca Secret`);
  }
  caSecret('vault');
});

test('Prometheus scrapes Vault over https with the CA from its own namespace', () => {
  const monitor = kubernetesObject(e, 'ServiceMonitor', 'vault');
  const endpoint = at(monitor.inputs, 'spec.endpoints.0') as Obj;
  assert.equal(endpoint.scheme, 'https');
  assert.equal(endpoint.port, 'https', 'the chart names the port after the scheme once TLS is on');
  assert.deepEqual(at(endpoint, 'tlsConfig.ca.secret'), { name: 'vault-ca', key: 'ca.crt' });
  const secret = caSecret('monitoring');
  assert.ok(monitor.dependencies.includes(secret.urn), 'the ServiceMonitor waits for its CA');
});
