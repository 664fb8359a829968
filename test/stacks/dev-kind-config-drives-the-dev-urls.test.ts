import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { DEV_NODE_PORTS, KIND_CONFIG_FILE, kindHostPort, readKindConfig } from '../../stacks/dev/kind.js';

const dir = mkdtempSync(join(tmpdir(), 'kind-config-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const write = (name: string, text: string): string => {
  const file = join(dir, name);
  writeFileSync(file, text);
  return file;
};

test("the repository's kind config forwards the API and Grafana NodePorts", () => {
  assert.equal(readKindConfig(KIND_CONFIG_FILE).kind, 'Cluster');
  assert.equal(kindHostPort(DEV_NODE_PORTS.api), 8080);
  assert.equal(kindHostPort(DEV_NODE_PORTS.grafana), 3000);
});

test('a changed host port in the kind config is the port the stack uses', () => {
  const file = write(
    'moved.yaml',
    `kind: Cluster
apiVersion: kind.x-k8s.io/v1alpha4
nodes:
  - role: control-plane
    extraPortMappings:
      - { containerPort: ${DEV_NODE_PORTS.api}, hostPort: 18080, listenAddress: 127.0.0.1 }
`,
  );
  assert.equal(kindHostPort(DEV_NODE_PORTS.api, file), 18080);
});

test('a kind config without the mapping fails naming the file and the NodePort', () => {
  const file = write(
    'missing.yaml',
    'kind: Cluster\napiVersion: kind.x-k8s.io/v1alpha4\nnodes:\n  - role: control-plane\n',
  );
  assert.throws(
    () => kindHostPort(DEV_NODE_PORTS.grafana, file),
    /missing\.yaml: expected one TCP extraPortMapping with containerPort 30300/,
  );
  const notKind = write('other.yaml', 'kind: Deployment\n');
  assert.throws(() => kindHostPort(DEV_NODE_PORTS.api, notKind), /not a kind Cluster config/);
});
