import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import {
  BACKUP_DESTINATION,
  BACKUP_SCHEDULE,
  BACKUP_STORE,
  BACKUP_STORE_PORT,
  CNPG_READY_TIMEOUT_SECONDS,
} from '../../stacks/components/database.js';
import { TIERS } from '../../stacks/tiers.js';
import { at, countByType, evaluateStack, kubernetesObject, ofType } from './harness.js';
import type { Evaluation } from './harness.js';
import {
  assertEverythingParented,
  assertExplicitProviders,
  assertMetricsServer,
  assertMonitoring,
  assertRuntime,
  container,
} from './inventory.js';
import { assertDevPortsMatchKind, assertEveryIngressIsServed } from './exposure.js';

const tier = TIERS.dev;
let e: Evaluation;
before(async () => {
  e = await evaluateStack('dev');
});

test('dev evaluates with no unknown resource type or invoke', () => {
  assert.deepEqual(e.unknownTypes, []);
  assert.deepEqual(e.unknownCalls, []);
  assertEverythingParented(e);
  assertExplicitProviders(e);
});

test('dev needs no AWS: no AWS resource, provider or invoke', () => {
  assert.deepEqual(
    e.resources
      .filter((r) => r.type.startsWith('aws:') || r.type === 'pulumi:providers:aws')
      .map((r) => r.type),
    [],
  );
  assert.deepEqual(e.calls, []);
  const counts = countByType(e);
  assert.equal(counts['archibald:network:Network'], undefined);
  assert.equal(counts['archibald:cdn:Cdn'], undefined, 'no CDN in dev');
  assert.equal(counts['archibald:backups:Backups'], undefined, 'no backups in dev');
  assert.equal(counts['archibald:nodes:NodeAutoscaler'], undefined, 'kind has no nodes to add');
  assert.deepEqual(
    e.resources.filter((r) => r.type.startsWith('kubernetes:karpenter.')).map((r) => r.type),
    [],
  );
});

test("dev metrics-server feeds the API HPA and accepts kind kubelets' self-signed certificates", () => {
  assertMetricsServer(e, tier, true);
});

test('dev Redis: the official image as a StatefulSet with AOF and noeviction', () => {
  const redis = kubernetesObject(e, 'StatefulSet', 'redis');
  const c = container(redis);
  assert.match(String(c.image), /^redis:\d+\.\d+\.\d+/);
  const command = (c.args as string[]).join(' ');
  assert.match(command, /--appendonly yes/);
  assert.match(command, /--maxmemory-policy noeviction/);
  assert.doesNotMatch(
    command,
    /requirepass [A-Za-z0-9]{20,}/,
    'the password is read from the mounted secret',
  );
  assert.equal(
    at(redis.inputs, 'spec.volumeClaimTemplates.0.spec.resources.requests.storage'),
    `${tier.redis.inClusterStorageGiB}Gi`,
  );
});

test('dev Postgres: CloudNativePG operator and a Cluster with a primary and a replica', () => {
  const operator = ofType(e, 'kubernetes:helm.sh/v3:Release').find(
    (r) => r.inputs.chart === 'cloudnative-pg',
  );
  assert.ok(operator);
  const cluster = kubernetesObject(e, 'Cluster', 'archibald-db');
  assert.equal(at(cluster.inputs, 'spec.instances'), 2);
  assert.ok(cluster.dependencies.includes(operator.urn), 'the Cluster waits for the operator');
  assert.equal(at(cluster.inputs, 'spec.bootstrap.initdb.database'), 'archibald');
  const podMonitor = kubernetesObject(e, 'PodMonitor', 'archibald-postgres');
  assert.deepEqual(
    at(podMonitor.inputs, 'spec.selector.matchLabels'),
    { 'cnpg.io/cluster': 'archibald-db' },
    'cnpg_* metrics are scraped',
  );
  assert.equal((at(podMonitor.inputs, 'metadata.labels') as Record<string, string>).release, 'kps');
});

test('dev Postgres archives WAL and takes daily base backups to the in-cluster object store (pitr applies)', () => {
  const cluster = kubernetesObject(e, 'Cluster', 'archibald-db');
  const store = at(cluster.inputs, 'spec.backup.barmanObjectStore') as Record<string, unknown>;
  assert.equal(store.destinationPath, BACKUP_DESTINATION);
  assert.equal(store.endpointURL, `http://${BACKUP_STORE}.archibald.svc:${BACKUP_STORE_PORT}`);
  assert.deepEqual(at(store, 's3Credentials.accessKeyId'), {
    name: `${BACKUP_STORE}-credentials`,
    key: 'ACCESS_KEY_ID',
  });
  assert.equal(at(cluster.inputs, 'spec.backup.retentionPolicy'), `${tier.backups.dailyRetentionDays}d`);
  const minio = kubernetesObject(e, 'StatefulSet', BACKUP_STORE);
  assert.ok(cluster.dependencies.includes(minio.urn), 'the Cluster waits for its object store');
  assert.match(String(container(minio).image), /minio:RELEASE\.\d{4}-/);
  kubernetesObject(e, 'Service', BACKUP_STORE);
  const scheduled = kubernetesObject(e, 'ScheduledBackup', 'archibald-db-daily');
  assert.deepEqual(at(scheduled.inputs, 'spec.cluster'), { name: 'archibald-db' });
  assert.equal(at(scheduled.inputs, 'spec.method'), 'barmanObjectStore');
  assert.equal(at(scheduled.inputs, 'spec.schedule'), BACKUP_SCHEDULE);
  assert.equal(at(scheduled.inputs, 'spec.immediate'), true);
});

test('dev Postgres: `pulumi up` waits for the Cluster to be Ready before the migration Job runs', () => {
  const cluster = ofType(e, 'kubernetes:postgresql.cnpg.io/v1:Cluster')[0];
  assert.ok(cluster);
  const annotations = at(cluster.inputs, 'metadata.annotations') as Record<string, string>;
  assert.equal(annotations['pulumi.com/waitFor'], 'condition=Ready');
  assert.equal(annotations['pulumi.com/timeoutSeconds'], String(CNPG_READY_TIMEOUT_SECONDS));
  const migrate = ofType(e, 'kubernetes:batch/v1:Job').find((j) =>
    String(at(j.inputs, 'metadata.name')).startsWith('archibald-migrate-'),
  );
  assert.ok(migrate, 'a migration Job');
  assert.ok(migrate.dependencies.includes(cluster.urn), 'the migration Job depends on the Cluster');
  const redis = kubernetesObject(e, 'StatefulSet', 'redis');
  assert.ok(migrate.dependencies.includes(redis.urn), 'and on Redis');
});

test('dev Vault runs in dev mode and is configured with the generated root token', () => {
  const vault = ofType(e, 'kubernetes:helm.sh/v3:Release').find((r) => r.inputs.chart === 'vault');
  assert.equal(at(vault?.inputs, 'values.server.dev.enabled'), true);
  assert.equal(at(vault?.inputs, 'values.injector.enabled'), true);
  assert.ok(
    vault?.secretPaths.some((p) => p.startsWith('values')),
    'the dev root token keeps the values secret',
  );
  assert.equal(
    ofType(e, 'kubernetes:batch/v1:Job').filter((j) =>
      String(at(j.inputs, 'metadata.name')).startsWith('vault-configure-'),
    ).length,
    1,
  );
  // Dev mode serves plain HTTP inside the developer's cluster: no CA, no certificate.
  assert.equal(e.outputs.vaultAddress?.value, 'http://vault.vault.svc:8200');
  assert.deepEqual(
    e.resources.filter((r) => r.type.startsWith('tls:')).map((r) => r.type),
    [],
  );
  assert.equal(e.outputs.vaultBootstrapPolicy?.value, undefined, 'dev configures with its dev root token');
});

test('dev runtime: local storage on a volume, NodePort, in-cluster endpoints', () => {
  assertRuntime(e, tier);
  assertMonitoring(e, tier);
  const data = at(kubernetesObject(e, 'ConfigMap', 'archibald-config').inputs, 'data') as Record<
    string,
    string
  >;
  assert.equal(data.STORAGE_DIR, '/var/lib/archibald/videos');
  assert.equal(data.S3_BUCKET, undefined);
  assert.equal(data.REDIS_URL, 'redis://redis.archibald.svc.cluster.local:6379');
  assert.match(
    data.DATABASE_URL ?? '',
    /^postgres:\/\/archibald@archibald-db-rw\.archibald\.svc:5432\/archibald\?sslmode=verify-full&/,
  );
  assert.match(data.DATABASE_READ_URL ?? '', /archibald-db-ro/);
  assert.equal(
    at(
      kubernetesObject(e, 'PersistentVolumeClaim', 'archibald-videos').inputs,
      'spec.resources.requests.storage',
    ),
    `${tier.storage.localGiB}Gi`,
  );
  assert.equal(at(kubernetesObject(e, 'Service', 'archibald-api-public').inputs, 'spec.type'), 'NodePort');
  assert.equal(e.outputs.apiUrl?.value, 'http://archibald.localtest.me:8080');
  const alertmanagerSecrets = ofType(e, 'kubernetes:core/v1:Secret').filter((s) =>
    String(at(s.inputs, 'metadata.name')).startsWith('alertmanager-'),
  );
  assert.equal(alertmanagerSecrets.length, 0, 'dev names no alert receivers');
});

test('dev outputs keep the Vault root token and Grafana password secret', () => {
  assert.equal(e.outputs.vaultDevRootToken?.secret, true);
  assert.equal(e.outputs.grafanaAdminPassword?.secret, true);
  assert.equal(e.outputs.kubeconfig?.value, undefined, 'dev uses your own kubeconfig');
  assert.equal(e.outputs.grafanaUrl?.value, 'http://grafana.archibald.localtest.me:3000');
});

test("dev exposure: kind's config forwards exactly the NodePorts the stack renders, on the URLs' ports", () => {
  assert.equal(assertEveryIngressIsServed(e), 0);
  assertDevPortsMatchKind(e, 'archibald.localtest.me');
});
