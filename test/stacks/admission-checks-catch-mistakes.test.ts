/**
 * The admission checker (admission.ts) refuses what the Vault injector and the restricted Pod
 * Security Standard refuse, so the per-stack admission tests can fail. Pods are built with the
 * stacks' own helpers, then broken one rule at a time.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { hardenedContainer, restrictedPod } from '../../stacks/kube.js';
import { vaultAgentAnnotations, vaultEndpoint } from '../../stacks/vault-access.js';
import { vaultChartSecurityContext } from '../../stacks/components/secrets.js';
import {
  admissionViolations,
  injectedPodSpec,
  restrictedViolations,
  vaultChartPodSpecs,
  vaultInjectorViolations,
} from './admission.js';
import type { PodTemplate } from './admission.js';
import { probeResource } from './harness.js';
import type { Evaluation, RegisteredResource } from './harness.js';

type Obj = Record<string, unknown>;
const clone = <T>(v: T): T => structuredClone(v);

/** A pod as the stacks build one: hardened, annotated for Vault Agent over TLS. */
function goodTemplate(): PodTemplate {
  const spec = restrictedPod(10001, {
    automountServiceAccountToken: true,
    containers: [hardenedContainer({ name: 'app', image: 'archibald:1', ports: [{ containerPort: 8080 }] })],
    volumes: [{ name: 'tmp', emptyDir: {} }],
  }) as unknown as Obj;
  return {
    owner: 'Deployment/app',
    namespace: 'archibald',
    annotations: vaultAgentAnnotations(['databasePassword'], vaultEndpoint(true)),
    spec: clone(spec),
  };
}

function container0(t: PodTemplate): Obj {
  return (t.spec.containers as Obj[])[0] as Obj;
}

function allViolations(t: PodTemplate): string[] {
  return [...vaultInjectorViolations(t), ...restrictedViolations(injectedPodSpec(t))];
}

test('a pod built by restrictedPod and hardenedContainer, with our annotations, is admitted', () => {
  assert.deepEqual(allViolations(goodTemplate()), []);
  const injected = injectedPodSpec(goodTemplate());
  const names = [...(injected.initContainers as Obj[]), ...(injected.containers as Obj[])].map((c) => c.name);
  assert.deepEqual(
    names,
    ['vault-agent-init', 'app', 'vault-agent'],
    'the injector adds its init and sidecar',
  );
  const sidecar = (injected.containers as Obj[])[1] as Obj;
  assert.equal((sidecar.securityContext as Obj).runAsUser, 10001, 'run-as-same-user takes container 0 user');
});

test('run-as-same-user with the user only on the pod is refused (the injector reads container 0)', () => {
  const t = goodTemplate();
  delete (container0(t).securityContext as Obj).runAsUser;
  assert.match(allViolations(t).join('\n'), /RunAsUser is nil for Container 0's SecurityContext/);
  const bare = goodTemplate();
  delete container0(bare).securityContext;
  assert.match(allViolations(bare).join('\n'), /No SecurityContext found for Container 0/);
  const root = goodTemplate();
  (container0(root).securityContext as Obj).runAsUser = 0;
  assert.match(allViolations(root).join('\n'), /container not allowed to run as root/);
});

test('the injector refuses pods without a token, a role, or with annotations it cannot parse', () => {
  const noToken = goodTemplate();
  noToken.spec.automountServiceAccountToken = false;
  assert.match(vaultInjectorViolations(noToken).join('\n'), /no service account token volume/);

  const noRole = goodTemplate();
  delete (noRole.annotations as Record<string, string>)['vault.hashicorp.com/role'];
  assert.match(vaultInjectorViolations(noRole).join('\n'), /no Vault role found/);

  const badBool = goodTemplate();
  (badBool.annotations as Record<string, string>)['vault.hashicorp.com/agent-pre-populate-only'] = 'yes';
  assert.match(vaultInjectorViolations(badBool).join('\n'), /is not a boolean/);

  const badQuantity = goodTemplate();
  (badQuantity.annotations as Record<string, string>)['vault.hashicorp.com/agent-limits-mem'] = '64 MB';
  assert.match(vaultInjectorViolations(badQuantity).join('\n'), /is not a resource quantity/);

  const shareDisabled = goodTemplate();
  (shareDisabled.annotations as Record<string, string>)['vault.hashicorp.com/agent-share-process-namespace'] =
    'true';
  shareDisabled.spec.shareProcessNamespace = false;
  assert.match(vaultInjectorViolations(shareDisabled).join('\n'), /refusing to enable it/);
});

test('an https Vault needs the CA from the mounted tls-secret', () => {
  const noCa = goodTemplate();
  delete (noCa.annotations as Record<string, string>)['vault.hashicorp.com/ca-cert'];
  assert.match(vaultInjectorViolations(noCa).join('\n'), /no vault.hashicorp.com\/ca-cert/);
  const noSecret = goodTemplate();
  delete (noSecret.annotations as Record<string, string>)['vault.hashicorp.com/tls-secret'];
  assert.match(vaultInjectorViolations(noSecret).join('\n'), /no vault.hashicorp.com\/tls-secret is mounted/);
  const elsewhere = goodTemplate();
  (elsewhere.annotations as Record<string, string>)['vault.hashicorp.com/ca-cert'] = '/etc/ssl/ca.crt';
  assert.match(vaultInjectorViolations(elsewhere).join('\n'), /is not in the mounted tls-secret/);
  const orphanTemplate = goodTemplate();
  (orphanTemplate.annotations as Record<string, string>)['vault.hashicorp.com/agent-inject-template-x'] =
    '{{ }}';
  assert.match(vaultInjectorViolations(orphanTemplate).join('\n'), /template x has no/);
});

test('the injected containers fail restricted when the injector runs them as group 0 or without a context', () => {
  const rootGroup = goodTemplate();
  (rootGroup.annotations as Record<string, string>)['vault.hashicorp.com/agent-run-as-group'] = '0';
  assert.match(
    restrictedViolations(injectedPodSpec(rootGroup)).join('\n'),
    /container vault-agent: runAsNonRoot is not true/,
  );
  const noContext = goodTemplate();
  (noContext.annotations as Record<string, string>)['vault.hashicorp.com/agent-set-security-context'] =
    'false';
  const found = restrictedViolations(injectedPodSpec(noContext)).join('\n');
  assert.match(found, /container vault-agent-init: allowPrivilegeEscalation is not false/);
  assert.match(found, /container vault-agent: capabilities do not drop ALL/);
});

test('restricted: each rule of the standard is caught on its own', () => {
  const cases: [string, (spec: Obj, c: Obj) => void, RegExp][] = [
    ['hostNetwork', (s) => (s.hostNetwork = true), /hostNetwork is true/],
    ['hostPID', (s) => (s.hostPID = true), /hostPID is true/],
    ['hostIPC', (s) => (s.hostIPC = true), /hostIPC is true/],
    ['hostPath', (s) => (s.volumes as Obj[]).push({ name: 'h', hostPath: { path: '/' } }), /type hostPath/],
    ['hostPort', (_, c) => ((c.ports as Obj[])[0]!.hostPort = 8080), /hostPort 8080/],
    ['privileged', (_, c) => ((c.securityContext as Obj).privileged = true), /privileged/],
    [
      'escalation',
      (_, c) => delete (c.securityContext as Obj).allowPrivilegeEscalation,
      /allowPrivilegeEscalation is not false/,
    ],
    [
      'capability added',
      (_, c) => ((c.securityContext as Obj).capabilities = { drop: ['ALL'], add: ['SYS_ADMIN'] }),
      /adds capability SYS_ADMIN/,
    ],
    ['no drop ALL', (_, c) => ((c.securityContext as Obj).capabilities = {}), /do not drop ALL/],
    [
      'no seccomp',
      (s) => delete (s.securityContext as Obj).seccompProfile,
      /seccompProfile is not RuntimeDefault or Localhost/,
    ],
    [
      'unconfined container',
      (_, c) => ((c.securityContext as Obj).seccompProfile = { type: 'Unconfined' }),
      /seccompProfile is not RuntimeDefault/,
    ],
    ['root user', (_, c) => ((c.securityContext as Obj).runAsUser = 0), /runAsUser 0/],
    ['non-root unset', (s) => delete (s.securityContext as Obj).runAsNonRoot, /runAsNonRoot is not true/],
    [
      'container says root is fine',
      (_, c) => ((c.securityContext as Obj).runAsNonRoot = false),
      /runAsNonRoot is not true/,
    ],
    [
      'unsafe sysctl',
      (s) => ((s.securityContext as Obj).sysctls = [{ name: 'kernel.msgmax', value: '1' }]),
      /sysctl/,
    ],
    ['procMount', (_, c) => ((c.securityContext as Obj).procMount = 'Unmasked'), /procMount Unmasked/],
  ];
  for (const [name, breakIt, expected] of cases) {
    const t = goodTemplate();
    breakIt(t.spec, container0(t));
    assert.match(restrictedViolations(injectedPodSpec(t)).join('\n'), expected, name);
  }
  const netBind = goodTemplate();
  (container0(netBind).securityContext as Obj).capabilities = { drop: ['ALL'], add: ['NET_BIND_SERVICE'] };
  assert.deepEqual(restrictedViolations(injectedPodSpec(netBind)), [], 'NET_BIND_SERVICE may be added');
});

test('over an evaluation: restricted applies only where the namespace enforces it, the injector everywhere', () => {
  const resource = (type: string, inputs: Obj) =>
    probeResource(type, inputs, String((inputs.metadata as Obj).name));

  const bad = goodTemplate();
  bad.spec.hostNetwork = true;
  delete (container0(bad).securityContext as Obj).runAsUser;
  const cronJob = (namespace: string): RegisteredResource =>
    resource('kubernetes:batch/v1:CronJob', {
      metadata: { name: `job-${namespace}`, namespace },
      spec: {
        jobTemplate: { spec: { template: { metadata: { annotations: bad.annotations }, spec: bad.spec } } },
      },
    });
  const e = {
    resources: [
      resource('kubernetes:core/v1:Namespace', {
        metadata: { name: 'strict', labels: { 'pod-security.kubernetes.io/enforce': 'restricted' } },
      }),
      resource('kubernetes:core/v1:Namespace', { metadata: { name: 'lax' } }),
      cronJob('strict'),
      cronJob('lax'),
    ],
  } as unknown as Evaluation;
  const found = admissionViolations(e);
  assert.ok(found.some((v) => v.startsWith('CronJob/job-strict (strict): hostNetwork')));
  assert.ok(!found.some((v) => v.startsWith('CronJob/job-lax (lax)')), 'no Pod Security level in lax');
  assert.equal(found.filter((v) => /RunAsUser is nil/.test(v)).length, 2, 'the injector refuses both');
});

test('the Vault chart pods with the chart defaults fail restricted; with our security contexts they pass', () => {
  const defaults = vaultChartPodSpecs({ server: {}, injector: {} }).flatMap((p) =>
    restrictedViolations(p.spec, p.owner),
  );
  assert.match(defaults.join('\n'), /StatefulSet\/vault \(chart\) container vault: seccompProfile/);
  assert.match(
    defaults.join('\n'),
    /StatefulSet\/vault \(chart\) container vault: capabilities do not drop ALL/,
  );
  assert.match(
    defaults.join('\n'),
    /vault-agent-injector \(chart\) container sidecar-injector: seccompProfile/,
  );
  const securityContext = vaultChartSecurityContext();
  const ours = vaultChartPodSpecs({
    server: {
      statefulSet: { securityContext },
      volumes: [{ name: 'vault-tls', secret: { secretName: 'vault-tls' } }],
    },
    injector: { securityContext },
  });
  assert.deepEqual(
    ours.flatMap((p) => restrictedViolations(p.spec, p.owner)),
    [],
  );
  const hostNetwork = vaultChartPodSpecs({ server: { statefulSet: { securityContext }, hostNetwork: true } });
  assert.match(restrictedViolations(hostNetwork[0]!.spec).join('\n'), /hostNetwork is true/);
});
