import type * as k8sInput from '@pulumi/kubernetes/types/input.js';
import type { CustomResourceOptions } from '@pulumi/pulumi';
import { Release, type ReleaseArgs } from '@pulumi/kubernetes/helm/v3/release.js';
import { PINNED, type PodResources } from './tiers.js';

type PodSpec = k8sInput.core.v1.PodSpec;
type Container = k8sInput.core.v1.Container;

/**
 * Pod-level hardening shared by every workload the stacks run: non-root, the runtime default
 * seccomp profile, no service-account token unless the pod asks for one.
 *
 * Every container (and init container) also carries the user and group itself: the Vault Agent
 * injector's `agent-run-as-same-user` reads `runAsUser` from container 0's own securityContext
 * and refuses the pod when it is missing or 0 (vault-k8s agent-inject/agent/annotations.go,
 * runAsSameID), whatever the pod-level context says.
 */
export function restrictedPod(uid: number, spec: PodSpec): PodSpec {
  const withUser = (c: Container): Container => ({
    ...c,
    securityContext: { runAsUser: uid, runAsGroup: uid, ...(c.securityContext as object | undefined) },
  });
  const containers = spec.containers as Container[];
  const initContainers = spec.initContainers as Container[] | undefined;
  return {
    automountServiceAccountToken: false,
    ...spec,
    containers: containers.map(withUser),
    ...(initContainers ? { initContainers: initContainers.map(withUser) } : {}),
    securityContext: {
      runAsNonRoot: true,
      runAsUser: uid,
      runAsGroup: uid,
      fsGroup: uid,
      seccompProfile: { type: 'RuntimeDefault' },
      ...(spec.securityContext as object | undefined),
    },
  };
}

/** Container-level hardening: read-only root filesystem, no privilege escalation, no capabilities. */
export function hardenedContainer(container: Container): Container {
  return {
    imagePullPolicy: 'IfNotPresent',
    ...container,
    securityContext: {
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      privileged: false,
      capabilities: { drop: ['ALL'] },
      ...(container.securityContext as object | undefined),
    },
  };
}

/** A container's requests and limits from a tier row. */
export function containerResources(r: {
  requests: PodResources;
  limits: PodResources;
}): k8sInput.core.v1.ResourceRequirements {
  return {
    requests: { cpu: r.requests.cpu, memory: r.requests.memory },
    limits: { cpu: r.limits.cpu, memory: r.limits.memory },
  };
}

/**
 * Where Helm fetches a pinned chart from. An OCI registry is no chart repository (it has no
 * index.yaml to `--repo` against): Helm takes the chart's full `oci://` reference as the chart.
 */
export function chartSource(pinned: {
  repo: string;
  chart: string;
}): Pick<ReleaseArgs, 'chart' | 'repositoryOpts'> {
  return pinned.repo.startsWith('oci://')
    ? { chart: `${pinned.repo.replace(/\/+$/, '')}/${pinned.chart}` }
    : { chart: pinned.chart, repositoryOpts: { repo: pinned.repo } };
}

/** A Helm release of one of the pinned charts (PINNED.charts): repository and version come from there. */
export function pinnedChartRelease(
  resourceName: string,
  chart: keyof typeof PINNED.charts,
  args: Omit<ReleaseArgs, 'chart' | 'version' | 'repositoryOpts'>,
  opts: CustomResourceOptions,
): Release {
  const pinned = PINNED.charts[chart];
  return new Release(resourceName, { ...args, ...chartSource(pinned), version: pinned.version }, opts);
}
