import * as pulumi from '@pulumi/pulumi';
import * as backup from '@pulumi/aws/backup/index.js';
import * as iam from '@pulumi/aws/iam/index.js';
import type { Provider as AwsProvider } from '@pulumi/aws/provider.js';
import * as s3 from '@pulumi/aws/s3/index.js';
import * as batchv1 from '@pulumi/kubernetes/batch/v1/index.js';
import * as corev1 from '@pulumi/kubernetes/core/v1/index.js';
import type { StackConfig } from '../config.js';
import { assumeRoleForService, assumeRoleForServiceAccount, managedPolicy, policyDocument } from '../iam.js';
import { hardenedContainer, restrictedPod } from '../kube.js';
import { customerKey } from '../kms.js';
import { awsTags, physicalName } from '../naming.js';
import { backupRules } from '../planning/backups.js';
import { PINNED } from '../tiers.js';
import type { Tier } from '../tiers.js';
import {
  SNAPSHOT_SERVICE_ACCOUNT,
  VAULT_NAMESPACE,
  VAULT_ROLES,
  vaultCaVolume,
  vaultClientEnv,
  vaultEndpoint,
} from '../vault-access.js';
import type { Cluster } from './cluster.js';
import { privateBucket } from './private-bucket.js';

export interface BackupsArgs {
  readonly cfg: StackConfig;
  readonly tier: Tier;
  readonly drProvider: AwsProvider;
  readonly databaseArn: pulumi.Input<string>;
  readonly assetsBucket: s3.Bucket;
  readonly assetsBucketVersioning: s3.BucketVersioning;
  readonly cluster: Cluster;
  /** The Vault release: the snapshot CronJob needs it running. */
  readonly vaultReady: pulumi.Resource;
}

const SNAPSHOT_UID = 10001;

/**
 * Disaster recovery: an AWS Backup vault (KMS) and plan (daily/weekly/monthly with the tier's
 * retention) over RDS and the videos bucket, each recovery point copied to a vault in the DR
 * region; the videos bucket replicated to the DR region; Vault raft snapshots to S3 by CronJob.
 */
export class Backups extends pulumi.ComponentResource {
  readonly vaultArn: pulumi.Output<string>;
  readonly drVaultArn: pulumi.Output<string>;
  readonly replicaBucketName: pulumi.Output<string>;
  readonly snapshotBucketName: pulumi.Output<string>;

  constructor(name: string, args: BackupsArgs, opts?: pulumi.ComponentResourceOptions) {
    super('archibald:backups:Backups', name, {}, opts);
    const { cfg, tier, drProvider, cluster } = args;
    const child = { parent: this };
    const inDr = { parent: this, provider: drProvider };
    const tags = awsTags(cfg, 'backups');
    if (!cfg.drRegion) throw new Error('Backups: drRegion is required');
    if (!cluster.oidcProviderArn || !cluster.oidcIssuerUrl)
      throw new Error('Backups: the Vault snapshot CronJob needs an EKS cluster (IRSA)');

    const key = customerKey(`${name}-vault`, 'AWS Backup vault', cfg, tags, child);
    const drKey = customerKey(`${name}-dr-vault`, 'AWS Backup DR vault', cfg, tags, inDr);
    const vault = new backup.Vault(
      `${name}-vault`,
      { name: physicalName(cfg, 'backups'), kmsKeyArn: key.arn, tags },
      { parent: this, protect: tier.protectResources },
    );
    const drVault = new backup.Vault(
      `${name}-dr-vault`,
      { name: physicalName(cfg, 'backups-dr'), kmsKeyArn: drKey.arn, tags },
      { ...inDr, protect: tier.protectResources },
    );

    const plan = new backup.Plan(
      `${name}-plan`,
      {
        name: physicalName(cfg, 'backups'),
        rules: backupRules(tier).map((rule) => ({
          ruleName: rule.name,
          targetVaultName: vault.name,
          schedule: rule.schedule,
          startWindow: 60,
          completionWindow: 360,
          lifecycle: { deleteAfter: rule.deleteAfterDays },
          // Continuous backups on the daily rule give RDS and S3 point-in-time restore in the vault.
          enableContinuousBackup: rule.name === 'daily',
          copyActions: rule.copyToDrRegion
            ? [{ destinationVaultArn: drVault.arn, lifecycle: { deleteAfter: rule.deleteAfterDays } }]
            : [],
        })),
        tags,
      },
      child,
    );

    const backupRole = new iam.Role(
      `${name}-backup`,
      { assumeRolePolicy: assumeRoleForService('backup.amazonaws.com'), tags },
      child,
    );
    const rolePolicies = [
      'service-role/AWSBackupServiceRolePolicyForBackup',
      'service-role/AWSBackupServiceRolePolicyForRestores',
      'AWSBackupServiceRolePolicyForS3Backup',
      'AWSBackupServiceRolePolicyForS3Restore',
    ].map(
      (p) =>
        new iam.RolePolicyAttachment(
          `${name}-backup-${p.split('/').pop()}`,
          { role: backupRole.name, policyArn: managedPolicy(p) },
          child,
        ),
    );
    new backup.Selection(
      `${name}-selection`,
      {
        name: physicalName(cfg, 'data'),
        planId: plan.id,
        iamRoleArn: backupRole.arn,
        resources: [args.databaseArn, args.assetsBucket.arn],
      },
      { parent: this, dependsOn: rolePolicies },
    );

    // S3 replication of the videos bucket to the DR region (versioning on both sides).
    const replica = privateBucket(
      `${name}-videos-replica`,
      {
        bucketName: physicalName(cfg, 'videos-replica'),
        tags,
        versioned: true,
        expireAfterDays: tier.storage.noncurrentVersionDays,
      },
      inDr,
    );
    const replicationRole = new iam.Role(
      `${name}-replication`,
      { assumeRolePolicy: assumeRoleForService('s3.amazonaws.com'), tags },
      child,
    );
    new iam.RolePolicy(
      `${name}-replication`,
      {
        role: replicationRole.id,
        policy: policyDocument([
          {
            Effect: 'Allow',
            Action: ['s3:GetReplicationConfiguration', 's3:ListBucket'],
            Resource: args.assetsBucket.arn,
          },
          {
            Effect: 'Allow',
            Action: [
              's3:GetObjectVersionForReplication',
              's3:GetObjectVersionAcl',
              's3:GetObjectVersionTagging',
            ],
            Resource: pulumi.interpolate`${args.assetsBucket.arn}/*`,
          },
          {
            Effect: 'Allow',
            Action: ['s3:ReplicateObject', 's3:ReplicateDelete', 's3:ReplicateTags'],
            Resource: pulumi.interpolate`${replica.bucket.arn}/*`,
          },
        ]),
      },
      child,
    );
    new s3.BucketReplicationConfig(
      `${name}-videos`,
      {
        bucket: args.assetsBucket.id,
        role: replicationRole.arn,
        rules: [
          {
            id: 'videos-to-dr',
            status: 'Enabled',
            filter: {},
            deleteMarkerReplication: { status: 'Enabled' },
            destination: { bucket: replica.bucket.arn, storageClass: 'STANDARD_IA' },
          },
        ],
      },
      { parent: this, dependsOn: [args.assetsBucketVersioning, replica.versioning as s3.BucketVersioning] },
    );

    // Vault raft snapshots: a CronJob logs in to Vault with its own Kubernetes auth role, saves a
    // snapshot and uploads it with an IRSA role that may only write that bucket.
    const snapshots = privateBucket(
      `${name}-vault-snapshots`,
      {
        bucketName: physicalName(cfg, 'vault-snapshots'),
        tags,
        versioned: true,
        expireAfterDays: tier.backups.dailyRetentionDays,
      },
      child,
    );
    const snapshotRole = new iam.Role(
      `${name}-vault-snapshot`,
      {
        assumeRolePolicy: assumeRoleForServiceAccount(
          cluster.oidcProviderArn,
          cluster.oidcIssuerUrl,
          VAULT_NAMESPACE,
          SNAPSHOT_SERVICE_ACCOUNT,
        ),
        tags,
      },
      child,
    );
    new iam.RolePolicy(
      `${name}-vault-snapshot`,
      {
        role: snapshotRole.id,
        policy: policyDocument([
          {
            Effect: 'Allow',
            Action: 's3:PutObject',
            Resource: pulumi.interpolate`${snapshots.bucket.arn}/*`,
          },
        ]),
      },
      child,
    );
    const sa = new corev1.ServiceAccount(
      `${name}-vault-snapshot`,
      {
        metadata: {
          name: SNAPSHOT_SERVICE_ACCOUNT,
          namespace: VAULT_NAMESPACE,
          annotations: { 'eks.amazonaws.com/role-arn': snapshotRole.arn },
        },
      },
      { parent: this, dependsOn: [args.vaultReady] },
    );
    const scratch = [
      { name: 'snapshots', mountPath: '/snapshots' },
      { name: 'tmp', mountPath: '/tmp' },
    ];
    // HA Vault (the only kind with backups) serves TLS from the stack's CA.
    const vaultServer = vaultEndpoint(true);
    const vaultCa = vaultCaVolume(vaultServer);
    new batchv1.CronJob(
      `${name}-vault-snapshot`,
      {
        metadata: { name: 'vault-raft-snapshot', namespace: VAULT_NAMESPACE },
        spec: {
          schedule: tier.backups.vaultSnapshotSchedule,
          concurrencyPolicy: 'Forbid',
          successfulJobsHistoryLimit: 3,
          failedJobsHistoryLimit: 3,
          jobTemplate: {
            spec: {
              backoffLimit: 2,
              activeDeadlineSeconds: 900,
              template: {
                spec: restrictedPod(SNAPSHOT_UID, {
                  serviceAccountName: sa.metadata.name,
                  // The Kubernetes auth login presents this pod's service-account token.
                  automountServiceAccountToken: true,
                  restartPolicy: 'OnFailure',
                  initContainers: [
                    hardenedContainer({
                      name: 'save',
                      image: PINNED.vaultImage,
                      command: ['sh', '-ec'],
                      args: [
                        [
                          'export VAULT_TOKEN="$(vault write -field=token auth/kubernetes/login',
                          `role=${VAULT_ROLES.raftSnapshot.name} jwt=@/var/run/secrets/kubernetes.io/serviceaccount/token)"`,
                          '&& vault operator raft snapshot save /snapshots/vault.snap',
                        ].join(' '),
                      ],
                      env: [...vaultClientEnv(vaultServer), { name: 'HOME', value: '/tmp' }],
                      resources: {
                        requests: { cpu: '50m', memory: '64Mi' },
                        limits: { cpu: '500m', memory: '256Mi' },
                      },
                      volumeMounts: [...scratch, ...vaultCa.volumeMounts],
                    }),
                  ],
                  containers: [
                    hardenedContainer({
                      name: 'upload',
                      image: PINNED.awsCliImage,
                      command: ['sh', '-ec'],
                      args: [
                        'aws s3 cp /snapshots/vault.snap "s3://$BUCKET/raft/$(date -u +%Y-%m-%dT%H%M%SZ).snap"',
                      ],
                      env: [
                        { name: 'BUCKET', value: snapshots.bucket.bucket },
                        { name: 'HOME', value: '/tmp' },
                        { name: 'AWS_REGION', value: cfg.region },
                      ],
                      resources: {
                        requests: { cpu: '50m', memory: '128Mi' },
                        limits: { cpu: '500m', memory: '512Mi' },
                      },
                      volumeMounts: scratch,
                    }),
                  ],
                  volumes: [
                    { name: 'snapshots', emptyDir: {} },
                    { name: 'tmp', emptyDir: {} },
                    ...vaultCa.volumes,
                  ],
                }),
              },
            },
          },
        },
      },
      child,
    );

    this.vaultArn = vault.arn;
    this.drVaultArn = drVault.arn;
    this.replicaBucketName = replica.bucket.bucket;
    this.snapshotBucketName = snapshots.bucket.bucket;
    this.registerOutputs({
      vaultArn: this.vaultArn,
      drVaultArn: this.drVaultArn,
      replicaBucketName: this.replicaBucketName,
    });
  }
}
