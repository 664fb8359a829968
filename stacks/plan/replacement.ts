/**
 * Which input changes force a replacement, per resource type, and which types hold data.
 *
 * The AWS entries are the `ForceNew: true` attributes of the upstream Terraform resource that
 * pulumi-aws bridges (a ForceNew attribute is a replace in `pulumi preview`), in Pulumi's camelCase.
 * The Kubernetes entries are pulumi-kubernetes' own force-new table. Each table names its source.
 * A type not listed here is diffed as update-in-place (its replace-forcing properties are not
 * modelled); a URN change, a `replaceOnChanges` option or a provider region change still replace it.
 */

export interface ReplaceRule {
  /** Input paths (dotted; `*` matches one array index or key) whose change forces a replacement. */
  readonly properties: readonly string[];
  /** Where the list comes from. */
  readonly source: string;
}

const TF_AWS = 'https://github.com/hashicorp/terraform-provider-aws/blob/main/internal/service';
const K8S_FORCE_NEW = 'https://github.com/pulumi/pulumi-kubernetes/blob/master/provider/pkg/provider/diff.go';

/** pulumi-kubernetes: every kind is replaced when its name or namespace changes (metadataForceNewProperties). */
const KUBERNETES_METADATA = ['metadata.name', 'metadata.namespace'];
const LABEL_SELECTOR = ['spec.selector'];

export const REPLACE_RULES: Readonly<Record<string, ReplaceRule>> = {
  // internal/service/rds/instance.go: availability_zone, character_set_name, custom_iam_instance_profile,
  // db_name, engine, identifier, identifier_prefix, kms_key_id, nchar_character_set_name,
  // restore_to_point_in_time, s3_import, snapshot_identifier, storage_encrypted, timezone, username.
  'aws:rds/instance:Instance': {
    properties: [
      'availabilityZone',
      'characterSetName',
      'customIamInstanceProfile',
      'dbName',
      'engine',
      'identifier',
      'identifierPrefix',
      'kmsKeyId',
      'ncharCharacterSetName',
      'restoreToPointInTime',
      's3Import',
      'snapshotIdentifier',
      'storageEncrypted',
      'timezone',
      'username',
    ],
    source: `${TF_AWS}/rds/instance.go`,
  },
  // internal/service/rds/cluster.go: availability_zones, cluster_identifier(_prefix),
  // cluster_scalability_type, database_name, db_subnet_group_name, db_system_id, engine, engine_mode,
  // kms_key_id, master_username, restore_to_point_in_time, s3_import, snapshot_identifier,
  // storage_encrypted.
  'aws:rds/cluster:Cluster': {
    properties: [
      'availabilityZones',
      'clusterIdentifier',
      'clusterIdentifierPrefix',
      'clusterScalabilityType',
      'databaseName',
      'dbSubnetGroupName',
      'dbSystemId',
      'engine',
      'engineMode',
      'kmsKeyId',
      'masterUsername',
      'restoreToPointInTime',
      's3Import',
      'snapshotIdentifier',
      'storageEncrypted',
    ],
    source: `${TF_AWS}/rds/cluster.go`,
  },
  // internal/service/elasticache/replication_group.go: at_rest_encryption_enabled,
  // data_tiering_enabled, global_replication_group_id, kms_key_id, network_type, port,
  // replication_group_id, security_group_names, snapshot_arns, snapshot_name, subnet_group_name.
  'aws:elasticache/replicationGroup:ReplicationGroup': {
    properties: [
      'atRestEncryptionEnabled',
      'dataTieringEnabled',
      'globalReplicationGroupId',
      'kmsKeyId',
      'networkType',
      'port',
      'replicationGroupId',
      'securityGroupNames',
      'snapshotArns',
      'snapshotName',
      'subnetGroupName',
    ],
    source: `${TF_AWS}/elasticache/replication_group.go`,
  },
  // internal/service/s3/bucket.go: bucket, bucket_prefix, object_lock_enabled.
  'aws:s3/bucket:Bucket': {
    properties: ['bucket', 'bucketPrefix', 'objectLockEnabled'],
    source: `${TF_AWS}/s3/bucket.go`,
  },
  // internal/service/eks/cluster.go: name, role_arn, bootstrap_self_managed_addons,
  // access_config.bootstrap_cluster_creator_admin_permissions, kubernetes_network_config.ip_family and
  // .service_ipv4_cidr, outpost_config, remote_network_config. (Its CustomizeDiff also replaces on
  // removing encryption_config; the stacks always set it, so that case is not modelled.)
  'aws:eks/cluster:Cluster': {
    properties: [
      'name',
      'roleArn',
      'bootstrapSelfManagedAddons',
      'accessConfig.bootstrapClusterCreatorAdminPermissions',
      'kubernetesNetworkConfig.ipFamily',
      'kubernetesNetworkConfig.serviceIpv4Cidr',
      'outpostConfig',
      'remoteNetworkConfig',
    ],
    source: `${TF_AWS}/eks/cluster.go`,
  },
  // internal/service/kms/key.go: custom_key_store_id, customer_master_key_spec, key_usage,
  // multi_region, xks_key_id.
  'aws:kms/key:Key': {
    properties: ['customKeyStoreId', 'customerMasterKeySpec', 'keyUsage', 'multiRegion', 'xksKeyId'],
    source: `${TF_AWS}/kms/key.go`,
  },
  // internal/service/backup/vault.go: name, kms_key_arn.
  'aws:backup/vault:Vault': {
    properties: ['name', 'kmsKeyArn'],
    source: `${TF_AWS}/backup/vault.go`,
  },
  // pulumi-kubernetes diff.go, core/v1 PersistentVolumeClaim: .spec (accessModes, resources,
  // selector, storageClassName, volumeName).
  'kubernetes:core/v1:PersistentVolumeClaim': {
    properties: [...KUBERNETES_METADATA, 'spec'],
    source: K8S_FORCE_NEW,
  },
  // pulumi-kubernetes diff.go, apps/v1 StatefulSet: podManagementPolicy, revisionHistoryLimit,
  // selector, serviceName, volumeClaimTemplates.
  'kubernetes:apps/v1:StatefulSet': {
    properties: [
      ...KUBERNETES_METADATA,
      'spec.podManagementPolicy',
      'spec.revisionHistoryLimit',
      ...LABEL_SELECTOR,
      'spec.serviceName',
      'spec.volumeClaimTemplates',
    ],
    source: K8S_FORCE_NEW,
  },
  // The same table for the other kinds the stacks create.
  'kubernetes:apps/v1:Deployment': {
    properties: [...KUBERNETES_METADATA, ...LABEL_SELECTOR],
    source: K8S_FORCE_NEW,
  },
  'kubernetes:core/v1:ConfigMap': {
    properties: [...KUBERNETES_METADATA, 'data', 'binaryData'],
    source: K8S_FORCE_NEW,
  },
  'kubernetes:core/v1:Secret': {
    properties: [...KUBERNETES_METADATA, 'type', 'data', 'stringData'],
    source: K8S_FORCE_NEW,
  },
  'kubernetes:core/v1:Service': {
    properties: [...KUBERNETES_METADATA, 'spec.clusterIP'],
    source: K8S_FORCE_NEW,
  },
  'kubernetes:batch/v1:Job': {
    properties: [
      ...KUBERNETES_METADATA,
      'spec.completions',
      'spec.parallelism',
      ...LABEL_SELECTOR,
      'spec.template',
    ],
    source: K8S_FORCE_NEW,
  },
  'kubernetes:storage.k8s.io/v1:StorageClass': {
    properties: [...KUBERNETES_METADATA, 'parameters', 'provisioner'],
    source: K8S_FORCE_NEW,
  },
  // pulumi-aws v7 places each resource in a region; a resource whose region changes is replaced
  // ("How region works ... replacement behavior"). The stacks set the region on explicit providers, so
  // a provider's region change replaces every resource it manages (see diff.ts).
  'pulumi:providers:aws': {
    properties: ['region'],
    source: 'https://www.pulumi.com/registry/packages/aws/how-to-guides/aws-enhanced-region-support/',
  },
};

/** Every other Kubernetes kind: pulumi-kubernetes replaces on a name or namespace change. */
const KUBERNETES_DEFAULT: ReplaceRule = { properties: KUBERNETES_METADATA, source: K8S_FORCE_NEW };

export function replaceRule(type: string): ReplaceRule | undefined {
  return (
    REPLACE_RULES[type] ??
    (type.startsWith('kubernetes:') && !type.startsWith('kubernetes:helm.sh/')
      ? KUBERNETES_DEFAULT
      : undefined)
  );
}

/**
 * Types whose replacement or deletion loses data nothing else can rebuild: databases, caches holding
 * the queue, buckets, the cluster (and its etcd), encryption keys (data under a deleted key is
 * unreadable), backup vaults, volumes and the workloads that own them. The CloudNativePG cluster is
 * dev's database.
 */
export const STATEFUL_TYPES: ReadonlySet<string> = new Set([
  'aws:rds/instance:Instance',
  'aws:rds/cluster:Cluster',
  'aws:elasticache/replicationGroup:ReplicationGroup',
  'aws:s3/bucket:Bucket',
  'aws:eks/cluster:Cluster',
  'aws:kms/key:Key',
  'aws:backup/vault:Vault',
  'kubernetes:core/v1:PersistentVolumeClaim',
  'kubernetes:apps/v1:StatefulSet',
  'kubernetes:postgresql.cnpg.io/v1:Cluster',
]);

/** Whether `path` (dotted, array indexes as numbers) falls under a rule property. */
export function matchesProperty(path: string, property: string): boolean {
  const p = path.split('.');
  const q = property.split('.');
  if (p.length < q.length) return false;
  return q.every((part, i) => part === '*' || part === p[i]);
}

/** The rule properties a changed path forces a replacement through (empty: update in place). */
export function forcesReplacement(
  type: string,
  path: string,
  replaceOnChanges: readonly string[] = [],
): string[] {
  const rule = replaceRule(type);
  const props = [...(rule?.properties ?? []), ...replaceOnChanges.map((p) => (p === '*' ? '' : p))];
  return props.filter((prop) => prop === '' || matchesProperty(path, prop));
}
