import * as pulumi from '@pulumi/pulumi';
import * as elasticache from '@pulumi/aws/elasticache/index.js';
import * as appsv1 from '@pulumi/kubernetes/apps/v1/index.js';
import * as corev1 from '@pulumi/kubernetes/core/v1/index.js';
import { RandomPassword } from '@pulumi/random/randomPassword.js';
import type { StackConfig } from '../config.js';
import { customerKey } from '../kms.js';
import { appLabels, awsTags, physicalName, selectorLabels } from '../naming.js';
import { cacheNodeIds, cacheTopology } from '../planning/cache.js';
import { QUEUE_PREFIX } from '../runtime/environment.js';
import { PINNED } from '../tiers.js';
import type { Tier } from '../tiers.js';
import { hardenedContainer, restrictedPod } from '../kube.js';
import type { Network } from './network.js';

export interface CacheArgs {
  readonly cfg: StackConfig;
  readonly tier: Tier;
  readonly network?: Network;
  /** Namespace of the in-cluster Redis (the runtime's). */
  readonly namespace?: pulumi.Input<string>;
}

export const REDIS_PORT = 6379;
/** The official redis image's redis user. */
const REDIS_UID = 999;

/** One Redis node the exporters scrape: a stable name and its host:port. */
export interface CacheNode {
  readonly name: string;
  readonly endpoint: pulumi.Output<string>;
}

/**
 * Redis for the BullMQ queue. elasticache: a cluster-mode replication group with one shard (the
 * queue's keys share one hash tag) and the tier's replicas, TLS in transit, KMS at rest, an auth
 * token from @pulumi/random sent write-only, noeviction (BullMQ must never lose keys to eviction).
 * in-cluster: the official redis image as a StatefulSet with AOF on.
 */
export class Cache extends pulumi.ComponentResource {
  /** host:port of the cluster configuration endpoint, or the in-cluster service. */
  readonly endpoint: pulumi.Output<string>;
  readonly clusterMode: boolean;
  readonly tls: boolean;
  readonly password: pulumi.Output<string>;
  /** Every node (primaries and replicas): replication and memory are per node, so is scraping. */
  readonly nodes: readonly CacheNode[];
  /** What clients wait for: Redis accepting connections. */
  readonly ready: pulumi.Resource[];

  constructor(name: string, args: CacheArgs, opts?: pulumi.ComponentResourceOptions) {
    super('archibald:cache:Cache', name, {}, opts);
    const { cfg, tier } = args;
    const child = { parent: this };
    // Redis AUTH accepts printable ASCII except a few; alphanumerics avoid every escaping issue.
    const password = new RandomPassword(`${name}-auth`, { length: 64, special: false }, child);
    this.password = pulumi.secret(password.result);

    if (cfg.cacheMode === 'in-cluster') {
      const namespace = args.namespace;
      if (namespace === undefined) throw new Error('Cache: in-cluster mode needs the runtime namespace');
      const labels = appLabels('redis');
      const auth = new corev1.Secret(
        `${name}-auth`,
        {
          metadata: { name: 'redis-auth', namespace, labels },
          stringData: { password: this.password },
        },
        child,
      );
      const service = new corev1.Service(
        `${name}-redis`,
        {
          metadata: { name: 'redis', namespace, labels },
          spec: {
            selector: selectorLabels('redis'),
            ports: [{ name: 'redis', port: REDIS_PORT, targetPort: 'redis' }],
          },
        },
        child,
      );
      const statefulSet = new appsv1.StatefulSet(
        `${name}-redis`,
        {
          metadata: { name: 'redis', namespace, labels },
          spec: {
            serviceName: 'redis',
            replicas: 1,
            selector: { matchLabels: selectorLabels('redis') },
            template: {
              metadata: { labels },
              spec: restrictedPod(REDIS_UID, {
                containers: [
                  hardenedContainer({
                    name: 'redis',
                    image: PINNED.redisImage,
                    command: ['sh', '-c'],
                    // The password comes from the mounted secret, never from the command line or env.
                    args: [
                      [
                        'exec redis-server',
                        '--appendonly',
                        tier.redis.appendOnly ? 'yes' : 'no',
                        '--appendfsync everysec',
                        '--maxmemory-policy noeviction',
                        '--dir /data',
                        '--requirepass "$(cat /run/secrets/redis/password)"',
                      ].join(' '),
                    ],
                    ports: [{ name: 'redis', containerPort: REDIS_PORT }],
                    readinessProbe: { tcpSocket: { port: 'redis' }, periodSeconds: 5 },
                    livenessProbe: { tcpSocket: { port: 'redis' }, periodSeconds: 10, failureThreshold: 6 },
                    resources: {
                      requests: { cpu: '100m', memory: '256Mi' },
                      limits: { cpu: '1000m', memory: '1Gi' },
                    },
                    volumeMounts: [
                      { name: 'data', mountPath: '/data' },
                      { name: 'auth', mountPath: '/run/secrets/redis', readOnly: true },
                    ],
                  }),
                ],
                volumes: [{ name: 'auth', secret: { secretName: auth.metadata.name } }],
              }),
            },
            volumeClaimTemplates: [
              {
                metadata: { name: 'data' },
                spec: {
                  accessModes: ['ReadWriteOnce'],
                  resources: { requests: { storage: `${tier.redis.inClusterStorageGiB}Gi` } },
                },
              },
            ],
          },
        },
        child,
      );
      this.endpoint = pulumi.interpolate`${service.metadata.name}.${namespace}.svc.cluster.local:${REDIS_PORT}`;
      this.nodes = [{ name: 'redis-0', endpoint: this.endpoint }];
      this.ready = [statefulSet];
      this.clusterMode = false;
      this.tls = false;
      this.registerOutputs({ endpoint: this.endpoint });
      return;
    }

    const network = args.network;
    if (!network) throw new Error('Cache: elasticache mode needs the Network component');
    const tags = awsTags(cfg, 'cache');
    const topology = cacheTopology(tier, [QUEUE_PREFIX]);
    const key = customerKey(`${name}-at-rest`, 'ElastiCache at-rest encryption', cfg, tags, child);
    const subnets = new elasticache.SubnetGroup(
      `${name}-subnets`,
      {
        name: physicalName(cfg, 'redis'),
        description: 'Archibald Redis: private subnets',
        subnetIds: network.privateSubnetIds,
        tags,
      },
      child,
    );
    const parameters = new elasticache.ParameterGroup(
      `${name}-params`,
      {
        name: physicalName(cfg, 'redis'),
        family: PINNED.redisParameterFamily,
        description: 'Archibald Redis: cluster mode, noeviction for BullMQ',
        parameters: [
          { name: 'cluster-enabled', value: 'yes' },
          { name: 'maxmemory-policy', value: 'noeviction' },
        ],
        tags,
      },
      child,
    );
    const group = new elasticache.ReplicationGroup(
      `${name}-redis`,
      {
        replicationGroupId: physicalName(cfg, 'redis'),
        description: `Archibald queue (${cfg.stack})`,
        engine: 'redis',
        engineVersion: PINNED.redisEngineVersion,
        nodeType: tier.redis.nodeType,
        port: REDIS_PORT,
        numNodeGroups: topology.shards,
        replicasPerNodeGroup: topology.replicasPerShard,
        automaticFailoverEnabled: topology.automaticFailover,
        multiAzEnabled: topology.multiAz,
        parameterGroupName: parameters.name,
        subnetGroupName: subnets.name,
        securityGroupIds: [network.redisSecurityGroupId],
        atRestEncryptionEnabled: true,
        kmsKeyId: key.arn,
        transitEncryptionEnabled: true,
        transitEncryptionMode: 'required',
        // Write-only: sent to AWS, never stored in the state file.
        authTokenWo: this.password,
        authTokenWoVersion: 1,
        snapshotRetentionLimit: tier.redis.snapshotRetentionDays,
        snapshotWindow: '01:00-02:00',
        maintenanceWindow: 'sun:03:00-sun:04:00',
        autoMinorVersionUpgrade: true,
        applyImmediately: false,
        tags,
      },
      { parent: this, protect: tier.protectResources },
    );
    this.endpoint = pulumi.interpolate`${group.configurationEndpointAddress}:${REDIS_PORT}`;
    this.ready = [group];
    // With TLS in transit, node endpoints differ from the configuration endpoint only in the first
    // label: clustercfg.<group>.<hash>.<region>… → <group>-0001-001.<group>.<hash>.<region>…
    this.nodes = cacheNodeIds(physicalName(cfg, 'redis'), topology).map((nodeId) => ({
      name: nodeId.slice(physicalName(cfg, 'redis').length + 1),
      endpoint: group.configurationEndpointAddress.apply(
        (address) => `${address.replace(/^clustercfg\./, `${nodeId}.`)}:${REDIS_PORT}`,
      ),
    }));
    this.clusterMode = true;
    this.tls = true;
    this.registerOutputs({ endpoint: this.endpoint });
  }
}
