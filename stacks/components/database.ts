import * as pulumi from '@pulumi/pulumi';
import * as rds from '@pulumi/aws/rds/index.js';
import { CustomResource } from '@pulumi/kubernetes/apiextensions/customResource.js';
import * as appsv1 from '@pulumi/kubernetes/apps/v1/index.js';
import * as corev1 from '@pulumi/kubernetes/core/v1/index.js';
import { hardenedContainer, pinnedChartRelease, restrictedPod } from '../kube.js';
import { RandomPassword } from '@pulumi/random/randomPassword.js';
import type { StackConfig } from '../config.js';
import { customerKey } from '../kms.js';
import { appLabels, awsTags, physicalName, replicaIdentifier, selectorLabels } from '../naming.js';
import { databaseTopology } from '../planning/database.js';
import { PINNED } from '../tiers.js';
import type { Tier } from '../tiers.js';
import type { Network } from './network.js';

export interface DatabaseArgs {
  readonly cfg: StackConfig;
  readonly tier: Tier;
  readonly network?: Network;
  /** Namespace of the in-cluster Postgres (the runtime's). */
  readonly namespace?: pulumi.Input<string>;
}

export const POSTGRES_PORT = 5432;
export const DATABASE_NAME = 'archibald';
export const DATABASE_USER = 'archibald';
/** How long `pulumi up` waits for the CloudNativePG Cluster's Ready condition (image pull, initdb, replica clone). */
export const CNPG_READY_TIMEOUT_SECONDS = 900;
/** Name of the in-cluster CloudNativePG Cluster (its services are <name>-rw and <name>-ro). */
export const CNPG_CLUSTER = 'archibald-db';

/** The in-cluster S3-compatible store CloudNativePG's barman-cloud archives WAL and base backups to. */
export const BACKUP_STORE = 'postgres-backups';
export const BACKUP_STORE_PORT = 9000;
/** Where in it: barman-cloud creates the bucket on its first archive. */
export const BACKUP_DESTINATION = 's3://archibald-db/';
/** CloudNativePG's cron has a seconds field: daily at 03:00:00 UTC, the stacks' backup hour. */
export const BACKUP_SCHEDULE = '0 0 3 * * *';
const BACKUP_STORE_UID = 10002;

/** Values of the cloudnative-pg chart (checked against the pinned chart's values.yaml by the tests). */
export function cloudnativePgValues(): Record<string, unknown> {
  return {
    crds: { create: true },
    monitoring: { podMonitorEnabled: false },
    resources: { requests: { cpu: '100m', memory: '128Mi' }, limits: { memory: '512Mi' } },
  };
}

/**
 * Postgres. rds: a KMS-encrypted primary (multi-AZ in prod) with the tier's read replicas, each
 * reached at its own RDS endpoint (the name its certificate carries), PITR retention, deletion protection and a final snapshot where the
 * data matters, Performance Insights, TLS enforced; the password from @pulumi/random is sent
 * write-only. in-cluster: the CloudNativePG operator and a Cluster with a primary and a replica.
 */
export class Database extends pulumi.ComponentResource {
  readonly primaryHost: pulumi.Output<string>;
  /** Hosts the runtime spreads its reads over; each matches its server's certificate. */
  readonly readerHosts: pulumi.Output<string[]>;
  /** One host per instance that serves reads, for the exporters. */
  readonly replicaHosts: pulumi.Output<string>[];
  /** In-cluster: the Secret holding the CA that signs the server certificates (key ca.crt). */
  readonly caSecretName: pulumi.Output<string> | undefined;
  readonly password: pulumi.Output<string>;
  /** ARN of the primary (AWS Backup selects it); undefined in-cluster. */
  readonly primaryArn: pulumi.Output<string> | undefined;
  /** What clients wait for: a database that accepts connections (migrations run against it). */
  readonly ready: pulumi.Resource[];

  constructor(name: string, args: DatabaseArgs, opts?: pulumi.ComponentResourceOptions) {
    super('archibald:database:Database', name, {}, opts);
    const { cfg, tier } = args;
    const child = { parent: this };
    // RDS forbids / @ " and space in master passwords; the special set below avoids them.
    const password = new RandomPassword(
      `${name}-password`,
      { length: 40, special: true, overrideSpecial: '!#$%^&*()-_=+[]{}<>:?' },
      child,
    );
    this.password = pulumi.secret(password.result);

    if (cfg.databaseMode === 'in-cluster') {
      const namespace = args.namespace;
      if (namespace === undefined) throw new Error('Database: in-cluster mode needs the runtime namespace');
      const operatorNs = new corev1.Namespace(
        `${name}-cnpg-system`,
        { metadata: { name: 'cnpg-system' } },
        child,
      );
      const operator = pinnedChartRelease(
        `${name}-cnpg`,
        'cloudnativePg',
        {
          name: 'cnpg',
          namespace: operatorNs.metadata.name,
          values: cloudnativePgValues(),
          atomic: true,
        },
        child,
      );
      const credentials = new corev1.Secret(
        `${name}-app-credentials`,
        {
          metadata: { name: 'archibald-db-app', namespace, labels: appLabels('postgres') },
          type: 'kubernetes.io/basic-auth',
          stringData: { username: DATABASE_USER, password: this.password },
        },
        child,
      );
      // Backups, so the pitr runbook applies here too: barman-cloud (CloudNativePG's in-tree
      // spec.backup.barmanObjectStore, still served by the pinned operator 1.30; the Barman Cloud
      // plugin that replaces it needs its own chart and CRDs) archives WAL continuously and takes a
      // daily base backup into an S3-compatible store in the cluster (MinIO on a volume): dev has
      // no AWS account. A restore is a new Cluster with bootstrap.recovery from the same store.
      const storeKey = new RandomPassword(`${name}-backup-store-key`, { length: 40, special: false }, child);
      const storeCredentials = new corev1.Secret(
        `${name}-backup-store-credentials`,
        {
          metadata: { name: `${BACKUP_STORE}-credentials`, namespace, labels: appLabels('postgres-backups') },
          stringData: { ACCESS_KEY_ID: 'archibald-db', ACCESS_SECRET_KEY: storeKey.result },
        },
        child,
      );
      const storeLabels = appLabels('postgres-backups');
      const store = new appsv1.StatefulSet(
        `${name}-backup-store`,
        {
          metadata: { name: BACKUP_STORE, namespace, labels: storeLabels },
          spec: {
            serviceName: BACKUP_STORE,
            replicas: 1,
            selector: { matchLabels: selectorLabels('postgres-backups') },
            template: {
              metadata: { labels: storeLabels },
              spec: restrictedPod(BACKUP_STORE_UID, {
                containers: [
                  hardenedContainer({
                    name: 'minio',
                    image: PINNED.minioImage,
                    args: ['server', '/data', '--address', `:${BACKUP_STORE_PORT}`],
                    env: [
                      { name: 'HOME', value: '/tmp' },
                      {
                        name: 'MINIO_ROOT_USER',
                        valueFrom: {
                          secretKeyRef: { name: storeCredentials.metadata.name, key: 'ACCESS_KEY_ID' },
                        },
                      },
                      {
                        name: 'MINIO_ROOT_PASSWORD',
                        valueFrom: {
                          secretKeyRef: { name: storeCredentials.metadata.name, key: 'ACCESS_SECRET_KEY' },
                        },
                      },
                    ],
                    ports: [{ name: 's3', containerPort: BACKUP_STORE_PORT }],
                    readinessProbe: {
                      httpGet: { path: '/minio/health/ready', port: 's3' },
                      periodSeconds: 10,
                    },
                    livenessProbe: {
                      httpGet: { path: '/minio/health/live', port: 's3' },
                      periodSeconds: 10,
                      failureThreshold: 6,
                    },
                    resources: {
                      requests: { cpu: '50m', memory: '256Mi' },
                      limits: { cpu: '500m', memory: '1Gi' },
                    },
                    volumeMounts: [
                      { name: 'data', mountPath: '/data' },
                      { name: 'tmp', mountPath: '/tmp' },
                    ],
                  }),
                ],
                volumes: [{ name: 'tmp', emptyDir: {} }],
              }),
            },
            volumeClaimTemplates: [
              {
                metadata: { name: 'data' },
                spec: {
                  accessModes: ['ReadWriteOnce'],
                  // Base backups (gzip) for the retention window plus its WAL: a few times the database.
                  resources: { requests: { storage: `${2 * tier.postgres.storageGiB}Gi` } },
                },
              },
            ],
          },
        },
        child,
      );
      const storeService = new corev1.Service(
        `${name}-backup-store`,
        {
          metadata: { name: BACKUP_STORE, namespace, labels: storeLabels },
          spec: {
            selector: selectorLabels('postgres-backups'),
            ports: [{ name: 's3', port: BACKUP_STORE_PORT, targetPort: 's3' }],
          },
        },
        child,
      );
      const credentialRef = (key: string) => ({ name: storeCredentials.metadata.name, key });

      const instances = 1 + tier.postgres.readReplicas;
      const cluster = new CustomResource(
        `${name}-postgres`,
        {
          apiVersion: 'postgresql.cnpg.io/v1',
          kind: 'Cluster',
          metadata: {
            name: CNPG_CLUSTER,
            namespace,
            labels: appLabels('postgres'),
            // Pulumi waits for no custom resource by default: without this the migration Job
            // would race the database's first start (initdb, then the primary accepting TLS).
            annotations: {
              'pulumi.com/waitFor': 'condition=Ready',
              'pulumi.com/timeoutSeconds': String(CNPG_READY_TIMEOUT_SECONDS),
            },
          },
          spec: {
            instances,
            imageName: PINNED.cnpgPostgresImage,
            primaryUpdateStrategy: 'unsupervised',
            storage: { size: `${tier.postgres.storageGiB}Gi` },
            bootstrap: {
              initdb: {
                database: DATABASE_NAME,
                owner: DATABASE_USER,
                secret: { name: credentials.metadata.name },
              },
            },
            postgresql: {
              parameters: { max_connections: '200', log_min_duration_statement: '500', log_statement: 'ddl' },
            },
            resources: { requests: { cpu: '250m', memory: '512Mi' }, limits: { memory: '1Gi' } },
            backup: {
              barmanObjectStore: {
                destinationPath: BACKUP_DESTINATION,
                endpointURL: pulumi.interpolate`http://${storeService.metadata.name}.${namespace}.svc:${BACKUP_STORE_PORT}`,
                s3Credentials: {
                  accessKeyId: credentialRef('ACCESS_KEY_ID'),
                  secretAccessKey: credentialRef('ACCESS_SECRET_KEY'),
                },
                wal: { compression: 'gzip' },
                data: { compression: 'gzip' },
              },
              retentionPolicy: `${tier.backups.dailyRetentionDays}d`,
            },
          },
        },
        { parent: this, dependsOn: [operator, store] },
      );
      new CustomResource(
        `${name}-postgres-daily`,
        {
          apiVersion: 'postgresql.cnpg.io/v1',
          kind: 'ScheduledBackup',
          metadata: { name: `${CNPG_CLUSTER}-daily`, namespace, labels: appLabels('postgres') },
          spec: {
            schedule: BACKUP_SCHEDULE,
            cluster: { name: cluster.metadata.name },
            method: 'barmanObjectStore',
            backupOwnerReference: 'self',
            // A base backup at once: WAL archived before the first one has nothing to restore onto.
            immediate: true,
          },
        },
        { parent: this, dependsOn: [cluster] },
      );
      // CloudNativePG's services: <cluster>-rw follows the primary, <cluster>-ro the replicas. The
      // operator's server certificate names <service>.<namespace>.svc (not every release adds the
      // cluster domain), and it signs it with the CA in <cluster>-ca.
      this.primaryHost = pulumi.interpolate`${cluster.metadata.name}-rw.${namespace}.svc`;
      const reader = pulumi.interpolate`${cluster.metadata.name}-ro.${namespace}.svc`;
      this.readerHosts = tier.postgres.readReplicas > 0 ? reader.apply((h) => [h]) : pulumi.output([]);
      this.replicaHosts = tier.postgres.readReplicas > 0 ? [reader] : [];
      this.caSecretName = pulumi.interpolate`${cluster.metadata.name}-ca`;
      this.primaryArn = undefined;
      this.ready = [cluster];
      this.registerOutputs({ primaryHost: this.primaryHost, readerHosts: this.readerHosts });
      return;
    }

    const network = args.network;
    if (!network) throw new Error('Database: rds mode needs the Network component');
    const tags = awsTags(cfg, 'database');
    const topology = databaseTopology(tier);
    const key = customerKey(
      `${name}-storage`,
      'RDS storage and Performance Insights encryption',
      cfg,
      tags,
      child,
    );
    const subnets = new rds.SubnetGroup(
      `${name}-subnets`,
      {
        name: physicalName(cfg, 'postgres'),
        subnetIds: network.privateSubnetIds,
        tags,
      },
      child,
    );
    const parameters = new rds.ParameterGroup(
      `${name}-params`,
      {
        name: physicalName(cfg, 'postgres'),
        family: PINNED.postgresParameterFamily,
        description: 'Archibald Postgres: TLS only, slow-query logging, pg_stat_statements',
        parameters: [
          { name: 'rds.force_ssl', value: '1' },
          { name: 'log_min_duration_statement', value: '500' },
          { name: 'shared_preload_libraries', value: 'pg_stat_statements', applyMethod: 'pending-reboot' },
          { name: 'log_connections', value: '1' },
          // Schema changes are logged with their time: the point-in-time restore runbook
          // (runbooks/dr/pitr.md) restores to the second before a bad one.
          { name: 'log_statement', value: 'ddl' },
        ],
        tags,
      },
      child,
    );
    const common = {
      instanceClass: tier.postgres.instanceClass,
      storageType: 'gp3',
      storageEncrypted: true,
      kmsKeyId: key.arn,
      publiclyAccessible: false,
      vpcSecurityGroupIds: [network.postgresSecurityGroupId],
      parameterGroupName: parameters.name,
      performanceInsightsEnabled: true,
      performanceInsightsKmsKeyId: key.arn,
      performanceInsightsRetentionPeriod: tier.postgres.performanceInsightsRetentionDays,
      autoMinorVersionUpgrade: true,
      copyTagsToSnapshot: true,
      deletionProtection: topology.deletionProtection,
      enabledCloudwatchLogsExports: ['postgresql', 'upgrade'],
      tags,
    };
    // A DR stack (restoreFrom) restores the primary from a snapshot of the source stack's instance
    // in this region: `latest` is the newest AWS Backup recovery point copied here (the backups
    // component's copy action), or a snapshot named in config. RestoreDBInstanceFromDBSnapshot takes
    // no KMS key, database name or master user: those come from the snapshot.
    const restore = cfg.restore;
    const snapshot = restore
      ? restore.databaseSnapshot === 'latest'
        ? rds.getSnapshotOutput(
            {
              dbInstanceIdentifier: physicalName({ ...cfg, stack: restore.fromStack }, 'postgres'),
              snapshotType: 'awsbackup',
              mostRecent: true,
            },
            { parent: this },
          ).dbSnapshotArn
        : pulumi.output(restore.databaseSnapshot)
      : undefined;
    const { kmsKeyId: _kmsKeyId, storageEncrypted: _storageEncrypted, ...restorable } = common;
    const primary = new rds.Instance(
      `${name}-primary`,
      {
        ...(snapshot ? { ...restorable, snapshotIdentifier: snapshot } : common),
        identifier: physicalName(cfg, 'postgres'),
        engine: 'postgres',
        engineVersion: PINNED.postgresEngineVersion,
        allocatedStorage: tier.postgres.storageGiB,
        maxAllocatedStorage: tier.postgres.maxStorageGiB,
        ...(snapshot ? {} : { dbName: DATABASE_NAME, username: DATABASE_USER }),
        // Write-only: sent to AWS, never stored in the state file (after a restore: reset to it).
        passwordWo: this.password,
        passwordWoVersion: 1,
        dbSubnetGroupName: subnets.name,
        multiAz: topology.primaryMultiAz,
        backupRetentionPeriod: topology.backupRetentionDays,
        backupWindow: '02:00-03:00',
        maintenanceWindow: 'sun:04:00-sun:05:00',
        skipFinalSnapshot: topology.skipFinalSnapshot,
        ...(topology.skipFinalSnapshot
          ? {}
          : { finalSnapshotIdentifier: physicalName(cfg, 'postgres-final') }),
      },
      {
        parent: this,
        protect: tier.protectResources,
        // `latest` moves on as AWS Backup copies new recovery points: a later `pulumi up` must not
        // replace the restored instance with a newer restore.
        ...(snapshot ? { ignoreChanges: ['snapshotIdentifier'] } : {}),
      },
    );

    const replicas = [...Array(topology.readReplicas).keys()].map(
      (i) =>
        new rds.Instance(
          `${name}-replica-${i}`,
          {
            ...common,
            identifier: replicaIdentifier(cfg, i),
            replicateSourceDb: primary.identifier,
            // A replica is rebuilt from the primary; its own final snapshot would only cost money.
            skipFinalSnapshot: true,
          },
          child,
        ),
    );

    this.primaryHost = primary.address;
    // RDS has no reader endpoint for Postgres instances, and a shared private name in front of the
    // replicas would match none of their certificates: the runtime gets every replica's own endpoint.
    this.replicaHosts = replicas.map((r) => r.address);
    this.readerHosts = pulumi.all(this.replicaHosts);
    this.caSecretName = undefined;
    this.primaryArn = primary.arn;
    this.ready = [primary, ...replicas];
    this.registerOutputs({ primaryHost: this.primaryHost, readerHosts: this.readerHosts });
  }
}
