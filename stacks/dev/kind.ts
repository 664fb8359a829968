/**
 * How the dev stack (clusterMode existing) is reached from the developer's machine: no ingress
 * controller, NodePort Services whose ports kind forwards to 127.0.0.1 (extraPortMappings in
 * kind-cluster.yaml beside this file). The NodePorts are fixed here; the host ports, and so the
 * URLs the stack outputs and the runtime's PUBLIC_BASE_URL, come from the kind config, so the two
 * cannot disagree.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';

export const KIND_CONFIG_FILE = fileURLToPath(new URL('./kind-cluster.yaml', import.meta.url));

/** NodePorts the dev stack renders (inside the Service NodePort range 30000-32767). */
export const DEV_NODE_PORTS = { api: 30080, grafana: 30300 } as const;

export interface KindPortMapping {
  readonly containerPort: number;
  readonly hostPort: number;
  readonly listenAddress?: string;
  readonly protocol?: string;
}

interface KindConfig {
  readonly kind?: string;
  readonly apiVersion?: string;
  readonly nodes?: { role?: string; extraPortMappings?: KindPortMapping[] }[];
}

export function readKindConfig(file = KIND_CONFIG_FILE): KindConfig {
  const config = parse(readFileSync(file, 'utf8')) as KindConfig | null;
  if (config?.kind !== 'Cluster' || config.apiVersion !== 'kind.x-k8s.io/v1alpha4')
    throw new Error(`${file}: not a kind Cluster config (kind.x-k8s.io/v1alpha4)`);
  return config;
}

/** The host port kind forwards to this NodePort; fails naming the file when there is none. */
export function kindHostPort(nodePort: number, file = KIND_CONFIG_FILE): number {
  const mappings = (readKindConfig(file).nodes ?? []).flatMap((n) => n.extraPortMappings ?? []);
  const found = mappings.filter((m) => m.containerPort === nodePort && (m.protocol ?? 'TCP') === 'TCP');
  if (found.length !== 1 || !Number.isInteger(found[0]?.hostPort))
    throw new Error(
      `${file}: expected one TCP extraPortMapping with containerPort ${nodePort} (a NodePort the dev stack renders), found ${found.length}`,
    );
  return (found[0] as KindPortMapping).hostPort;
}

/** http://<host>[:port] as a browser on the developer's machine reaches it. */
export function devUrl(host: string, nodePort: number): string {
  const port = kindHostPort(nodePort);
  return port === 80 ? `http://${host}` : `http://${host}:${port}`;
}
