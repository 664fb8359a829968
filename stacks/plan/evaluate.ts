/**
 * Evaluates the real Pulumi program (stacks/index.ts, the same default export `pulumi up` runs)
 * for one stack under Pulumi's mocks: config loaded from Pulumi.yaml's defaults and the stack's
 * own Pulumi.<stack>.yaml, set the way the Pulumi runtime reads it (PULUMI_CONFIG with secret
 * keys), every registered resource recorded with its type, name, inputs, parent and provider.
 *
 * Mocked outputs are realistic per resource type (ids, ARNs, endpoints). A resource type or an
 * invoke the harness does not know is recorded and fails: nothing passes silently empty.
 *
 * The one evaluation path: the stack tests (through test/stacks/harness.ts), bench/stacks and
 * `npm run plan` all call evaluateStack. `root` evaluates another checkout of the repository (the
 * plan's base ref, in a temporary worktree) with this file's mocks: its program, its Pulumi.yaml
 * and stack files.
 *
 * Pulumi's runtime is global per process: evaluations in one process run one after the other,
 * each resetting the config and the mock monitor.
 */
import { readFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import * as pulumi from '@pulumi/pulumi';
import { parse } from 'yaml';

export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const SHARED = fileURLToPath(new URL('../../../shared/', import.meta.url));
const ACCOUNT = '123456789012';
const SECRET_SIG = '4dabf18193072939515e22adb298388d';
const SECRET_VALUE_SIG = '1b47061264138c4ac30d75fd1eb44270';

export interface RegisteredResource {
  readonly type: string;
  readonly name: string;
  readonly urn: string;
  /** The id the (mocked) provider assigned. */
  readonly id: string;
  /** URN of the parent resource ('' for the stack root). */
  readonly parent: string;
  /** Provider reference ("<urn>::<id>"), '' when the default provider is used. */
  readonly provider: string;
  readonly custom: boolean;
  readonly protect: boolean;
  /** `retainOnDelete`: Pulumi forgets the resource instead of deleting it. */
  readonly retainOnDelete: boolean;
  /** URNs this resource was known by (its `aliases` option, resolved to URNs). */
  readonly aliases: readonly string[];
  /** Input properties whose changes Pulumi ignores (`ignoreChanges`). */
  readonly ignoreChanges: readonly string[];
  /** Input properties whose changes force a replacement (`replaceOnChanges`). */
  readonly replaceOnChanges: readonly string[];
  readonly dependencies: readonly string[];
  readonly inputs: Record<string, unknown>;
  /** Dotted paths of inputs that were secret Outputs. */
  readonly secretPaths: readonly string[];
  /** What the mocked provider reported after create (inputs and computed outputs). */
  readonly outputs: Record<string, unknown>;
}

export interface StackOutput {
  readonly value: unknown;
  readonly secret: boolean;
}

export interface Evaluation {
  readonly stack: string;
  readonly resources: readonly RegisteredResource[];
  readonly outputs: Readonly<Record<string, StackOutput>>;
  readonly unknownTypes: readonly string[];
  readonly unknownCalls: readonly string[];
  readonly calls: readonly { token: string; inputs: Record<string, unknown> }[];
  /** Existing resources the program read (Resource.get) instead of creating. */
  readonly reads: readonly { type: string; name: string; id: string }[];
  readonly config: Readonly<Record<string, string>>;
  readonly evaluationMs: number;
}

export interface EvaluateOptions {
  /** Replaces or adds config values (project keys without the `archibald:` prefix). */
  readonly configOverrides?: Record<string, string>;
  /** Secret config values the operator sets with `pulumi config set --secret`. */
  readonly secrets?: Record<string, string>;
  /** The checkout whose program and stack files are evaluated (default: this repository). */
  readonly root?: string;
}

/** What an operator would set with --secret for each checked-in stack. */
export function defaultSecrets(stack: string): Record<string, string> {
  const alerting = {
    pagerDutyRoutingKey: 'R0UT1NGKEY0123456789abcdef012345',
    slackWebhookUrl: 'https://hooks.slack.com/services/T000/B000/XXXXXXXXXXXXXXXX',
  };
  switch (stack) {
    case 'staging':
      return { ...alerting, anthropicApiKey: 'sk-ant-test-staging', vaultToken: 'hvs.stagingtesttoken' };
    case 'prod':
    case 'prod-dr':
      return { ...alerting, anthropicApiKey: 'sk-ant-test-prod', vaultToken: 'hvs.testtoken' };
    default:
      return {};
  }
}

function configString(value: unknown): string {
  return typeof value === 'string' ? value : JSON.stringify(value);
}

/** Config as the CLI hands it to the program: Pulumi.yaml defaults overlaid by the stack file. */
export function stackConfig(
  stack: string,
  overrides: Record<string, string> = {},
  root: string = REPO_ROOT,
): Record<string, string> {
  const project = parse(readFileSync(join(root, 'Pulumi.yaml'), 'utf8')) as {
    name: string;
    config: Record<string, { default?: unknown }>;
  };
  const stackFile = parse(readFileSync(join(root, `Pulumi.${stack}.yaml`), 'utf8')) as {
    config: Record<string, unknown>;
  };
  const config: Record<string, string> = {};
  for (const [key, decl] of Object.entries(project.config)) {
    if (decl.default !== undefined && decl.default !== null)
      config[`${project.name}:${key}`] = configString(decl.default);
  }
  for (const [key, value] of Object.entries(stackFile.config)) config[key] = configString(value);
  // A key with a namespace (aws:profile) is set as it is; a bare key belongs to the project.
  for (const [key, value] of Object.entries(overrides))
    config[key.includes(':') ? key : `${project.name}:${key}`] = value;
  return config;
}

/** The raw inputs with secret wrappers replaced by their values (as the provider receives them). */
function unwrapSecrets(raw: unknown): unknown {
  if (Array.isArray(raw)) return raw.map(unwrapSecrets);
  if (raw === null || typeof raw !== 'object') return raw;
  const obj = raw as Record<string, unknown>;
  if (obj[SECRET_SIG] === SECRET_VALUE_SIG) return unwrapSecrets(obj.value);
  return Object.fromEntries(Object.entries(obj).map(([k, v]) => [k, unwrapSecrets(v)]));
}

function secretPaths(raw: unknown, path = ''): string[] {
  if (raw === null || typeof raw !== 'object') return [];
  const obj = raw as Record<string, unknown>;
  if (obj[SECRET_SIG] === SECRET_VALUE_SIG) return [path || '(root)'];
  return Object.entries(obj).flatMap(([k, v]) => secretPaths(v, path ? `${path}.${k}` : k));
}

const id = (seed: string, length = 17): string =>
  createHash('sha256').update(seed).digest('hex').slice(0, length);

function str(v: unknown, fallback: string): string {
  return typeof v === 'string' && v !== '' ? v : fallback;
}

type State = Record<string, unknown>;
type Inputs = Record<string, unknown>;

/** Realistic outputs per AWS/random type: what the provider would report after create. */
function awsState(
  type: string,
  name: string,
  inputs: Inputs,
  region: string,
): { id: string; state: State } | undefined {
  const arn = (service: string, resource: string, r = region): string =>
    `arn:aws:${service}:${r}:${ACCOUNT}:${resource}`;
  switch (type) {
    case 'aws:ec2/vpc:Vpc':
      return { id: `vpc-${id(name)}`, state: { arn: arn('ec2', `vpc/vpc-${id(name)}`) } };
    case 'aws:ec2/subnet:Subnet':
      return { id: `subnet-${id(name)}`, state: { arn: arn('ec2', `subnet/subnet-${id(name)}`) } };
    case 'aws:ec2/internetGateway:InternetGateway':
      return { id: `igw-${id(name)}`, state: {} };
    case 'aws:ec2/eip:Eip':
      return {
        id: `eipalloc-${id(name)}`,
        state: { publicIp: '203.0.113.10', allocationId: `eipalloc-${id(name)}` },
      };
    case 'aws:ec2/natGateway:NatGateway':
      return { id: `nat-${id(name)}`, state: {} };
    case 'aws:ec2/routeTable:RouteTable':
      return { id: `rtb-${id(name)}`, state: {} };
    case 'aws:ec2/routeTableAssociation:RouteTableAssociation':
      return { id: `rtbassoc-${id(name)}`, state: {} };
    case 'aws:ec2/securityGroup:SecurityGroup':
      return { id: `sg-${id(name)}`, state: { arn: arn('ec2', `security-group/sg-${id(name)}`) } };
    case 'aws:ec2/launchTemplate:LaunchTemplate':
      return {
        id: `lt-${id(name)}`,
        state: { latestVersion: 1, arn: arn('ec2', `launch-template/lt-${id(name)}`) },
      };
    case 'aws:kms/key:Key': {
      const keyId = `${id(name, 8)}-${id(name + 'a', 4)}-${id(name + 'b', 4)}-${id(name + 'c', 4)}-${id(name + 'd', 12)}`;
      return { id: keyId, state: { keyId, arn: arn('kms', `key/${keyId}`) } };
    }
    case 'aws:iam/role:Role': {
      const roleName = str(inputs.name, `${name}-${id(name, 7)}`);
      return {
        id: roleName,
        state: {
          name: roleName,
          arn: `arn:aws:iam::${ACCOUNT}:role/${roleName}`,
          uniqueId: `AROA${id(name, 16).toUpperCase()}`,
        },
      };
    }
    case 'aws:iam/rolePolicy:RolePolicy':
    case 'aws:iam/rolePolicyAttachment:RolePolicyAttachment':
      return { id: `${name}-${id(name, 8)}`, state: {} };
    case 'aws:iam/openIdConnectProvider:OpenIdConnectProvider': {
      const host = str(inputs.url, '').replace(/^https:\/\//, '');
      return {
        id: `arn:aws:iam::${ACCOUNT}:oidc-provider/${host}`,
        state: { arn: `arn:aws:iam::${ACCOUNT}:oidc-provider/${host}` },
      };
    }
    case 'aws:cloudwatch/logGroup:LogGroup':
      return {
        id: str(inputs.name, name),
        state: { arn: arn('logs', `log-group:${str(inputs.name, name)}`) },
      };
    case 'aws:eks/cluster:Cluster': {
      const clusterName = str(inputs.name, name);
      const oidc = id(clusterName, 32).toUpperCase();
      return {
        id: clusterName,
        state: {
          name: clusterName,
          arn: arn('eks', `cluster/${clusterName}`),
          endpoint: `https://${oidc}.gr7.${region}.eks.amazonaws.com`,
          certificateAuthority: {
            data: Buffer.from(`-----BEGIN CERTIFICATE-----\n${oidc}\n-----END CERTIFICATE-----`).toString(
              'base64',
            ),
          },
          identities: [{ oidcs: [{ issuer: `https://oidc.eks.${region}.amazonaws.com/id/${oidc}` }] }],
          vpcConfig: {
            ...(inputs.vpcConfig as object),
            clusterSecurityGroupId: `sg-${id(clusterName + 'cluster')}`,
            vpcId: `vpc-${id('network-vpc')}`,
          },
          status: 'ACTIVE',
        },
      };
    }
    case 'aws:eks/nodeGroup:NodeGroup':
      return {
        id: `${name}:${id(name, 8)}`,
        state: { arn: arn('eks', `nodegroup/${name}`), status: 'ACTIVE' },
      };
    case 'aws:eks/accessPolicyAssociation:AccessPolicyAssociation':
      return {
        id: `${str(inputs.clusterName, 'cluster')}#${str(inputs.principalArn, '')}#${str(inputs.policyArn, '')}`,
        state: { associatedAt: '2026-11-30T00:00:00Z' },
      };
    case 'aws:eks/addon:Addon':
      return {
        id: `${str(inputs.clusterName, 'cluster')}:${str(inputs.addonName, name)}`,
        state: {
          arn: arn('eks', `addon/${str(inputs.clusterName, 'cluster')}/${str(inputs.addonName, name)}`),
          addonVersion: 'v1.48.0-eksbuild.1',
        },
      };
    case 'aws:elasticache/subnetGroup:SubnetGroup':
    case 'aws:elasticache/parameterGroup:ParameterGroup':
    case 'aws:rds/subnetGroup:SubnetGroup':
    case 'aws:rds/parameterGroup:ParameterGroup':
      return {
        id: str(inputs.name, name),
        state: {
          name: str(inputs.name, name),
          arn: arn(type.startsWith('aws:rds') ? 'rds' : 'elasticache', `pg:${str(inputs.name, name)}`),
        },
      };
    case 'aws:elasticache/replicationGroup:ReplicationGroup': {
      const groupId = str(inputs.replicationGroupId, name);
      return {
        id: groupId,
        state: {
          arn: arn('elasticache', `replicationgroup:${groupId}`),
          configurationEndpointAddress: `clustercfg.${groupId}.${id(groupId, 6)}.${region.replace(/-/g, '').slice(0, 4)}.cache.amazonaws.com`,
          memberClusters: [],
        },
      };
    }
    case 'aws:rds/instance:Instance': {
      const identifier = str(inputs.identifier, name);
      const address = `${identifier}.c${id(region, 11)}.${region}.rds.amazonaws.com`;
      return {
        id: `db-${id(identifier, 26).toUpperCase()}`,
        state: {
          identifier,
          address,
          endpoint: `${address}:5432`,
          port: 5432,
          arn: arn('rds', `db:${identifier}`),
        },
      };
    }
    case 'aws:route53/zone:Zone':
      return {
        id: `Z${id(name, 20).toUpperCase()}`,
        state: { zoneId: `Z${id(name, 20).toUpperCase()}`, nameServers: [] },
      };
    case 'aws:route53/record:Record':
      return { id: `${name}-${id(name, 6)}`, state: { fqdn: str(inputs.name, name) } };
    case 'aws:s3/bucket:Bucket': {
      // A read (Bucket.get) has no inputs: its id is the bucket's name.
      const bucket = str(inputs.bucket, str(inputs.id, `${name}-${id(name, 7)}`));
      return {
        id: bucket,
        state: {
          bucket,
          arn: `arn:aws:s3:::${bucket}`,
          bucketDomainName: `${bucket}.s3.amazonaws.com`,
          bucketRegionalDomainName: `${bucket}.s3.${region}.amazonaws.com`,
          region,
        },
      };
    }
    case 'aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock':
    case 'aws:s3/bucketOwnershipControls:BucketOwnershipControls':
    case 'aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration':
    case 'aws:s3/bucketVersioning:BucketVersioning':
    case 'aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration':
    case 'aws:s3/bucketPolicy:BucketPolicy':
    case 'aws:s3/bucketReplicationConfig:BucketReplicationConfig':
      return { id: str(inputs.bucket, name), state: {} };
    case 'aws:acm/certificate:Certificate': {
      const domain = str(inputs.domainName, name);
      return {
        id: arn('acm', `certificate/${id(domain, 32)}`),
        state: {
          arn: arn('acm', `certificate/${id(domain, 32)}`),
          status: 'PENDING_VALIDATION',
          domainValidationOptions: [
            {
              domainName: domain,
              resourceRecordName: `_${id(domain, 32)}.${domain}.`,
              resourceRecordType: 'CNAME',
              resourceRecordValue: `_${id(domain + 'v', 32)}.acm-validations.aws.`,
            },
          ],
        },
      };
    }
    case 'aws:acm/certificateValidation:CertificateValidation':
      return { id: str(inputs.certificateArn, name), state: {} };
    case 'aws:wafv2/webAcl:WebAcl':
      return {
        id: id(name, 36),
        state: {
          arn: arn('wafv2', `global/webacl/${str(inputs.name, name)}/${id(name, 36)}`),
          capacity: 900,
        },
      };
    case 'aws:cloudfront/originAccessControl:OriginAccessControl':
      return { id: `E${id(name, 13).toUpperCase()}`, state: { etag: 'E1' } };
    case 'aws:cloudfront/distribution:Distribution': {
      const distributionId = `E${id(name, 13).toUpperCase()}`;
      return {
        id: distributionId,
        state: {
          arn: `arn:aws:cloudfront::${ACCOUNT}:distribution/${distributionId}`,
          domainName: `d${id(name, 13)}.cloudfront.net`,
          hostedZoneId: 'Z2FDTNDATAQYW2',
          status: 'Deployed',
        },
      };
    }
    case 'aws:backup/vault:Vault':
      return {
        id: str(inputs.name, name),
        state: { arn: arn('backup', `backup-vault:${str(inputs.name, name)}`) },
      };
    case 'aws:backup/plan:Plan':
      return {
        id: id(name, 36),
        state: { arn: arn('backup', `backup-plan:${id(name, 36)}`), version: id(name + 'v', 32) },
      };
    case 'aws:backup/selection:Selection':
      return { id: id(name, 36), state: {} };
    case 'aws:ecr/repository:Repository': {
      const repo = str(inputs.name, name);
      return {
        id: repo,
        state: {
          arn: arn('ecr', `repository/${repo}`),
          repositoryUrl: `${ACCOUNT}.dkr.ecr.${region}.amazonaws.com/${repo}`,
          registryId: ACCOUNT,
        },
      };
    }
    case 'aws:ecr/lifecyclePolicy:LifecyclePolicy':
      return { id: str(inputs.repository, name), state: { registryId: ACCOUNT } };
    case 'aws:iam/instanceProfile:InstanceProfile': {
      const profileName = str(inputs.name, `${name}-${id(name, 7)}`);
      return {
        id: profileName,
        state: {
          name: profileName,
          arn: `arn:aws:iam::${ACCOUNT}:instance-profile/${profileName}`,
          uniqueId: `AIPA${id(name, 16).toUpperCase()}`,
        },
      };
    }
    case 'aws:eks/accessEntry:AccessEntry': {
      const cluster = str(inputs.clusterName, 'cluster');
      const principal = str(inputs.principalArn, `arn:aws:iam::${ACCOUNT}:role/${name}`);
      const roleName = principal.split('/').pop() ?? name;
      return {
        id: `${cluster}:${principal}`,
        state: {
          accessEntryArn: arn('eks', `access-entry/${cluster}/role/${ACCOUNT}/${roleName}/${id(name, 36)}`),
          principalArn: principal,
          kubernetesGroups: inputs.type === 'EC2_LINUX' ? ['system:nodes'] : [],
          userName: inputs.type === 'EC2_LINUX' ? 'system:node:{{EC2PrivateDNSName}}' : principal,
        },
      };
    }
    case 'aws:sqs/queue:Queue': {
      const queueName = str(inputs.name, `${name}-${id(name, 7)}`);
      const url = `https://sqs.${region}.amazonaws.com/${ACCOUNT}/${queueName}`;
      return { id: url, state: { name: queueName, url, arn: arn('sqs', queueName) } };
    }
    case 'aws:sqs/queuePolicy:QueuePolicy':
      return { id: str(inputs.queueUrl, name), state: {} };
    case 'aws:cloudwatch/eventRule:EventRule': {
      const ruleName = str(inputs.name, `${name}-${id(name, 7)}`);
      return {
        id: ruleName,
        state: { name: ruleName, arn: arn('events', `rule/${ruleName}`), state: 'ENABLED' },
      };
    }
    case 'aws:cloudwatch/eventTarget:EventTarget':
      return { id: `${str(inputs.rule, name)}-${str(inputs.targetId, id(name, 8))}`, state: {} };
    case 'aws:ec2/tag:Tag':
      return { id: `${str(inputs.resourceId, name)},${str(inputs.key, name)}`, state: {} };
    case 'random:index/randomPassword:RandomPassword': {
      const length = typeof inputs.length === 'number' ? inputs.length : 16;
      const chars = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
      const result = [...createHash('sha512').update(name).digest()]
        .map((b) => chars[b % chars.length])
        .join('')
        .padEnd(length, 'x')
        .slice(0, length);
      return { id: 'none', state: { result, bcryptHash: `$2a$10$${id(result, 53)}` } };
    }
    case 'tls:index/privateKey:PrivateKey': {
      const der = (label: string): string =>
        Buffer.from(
          createHash('sha512')
            .update(name + label)
            .digest(),
        ).toString('base64');
      return {
        id: id(name, 40),
        state: {
          privateKeyPem: `-----BEGIN EC PRIVATE KEY-----\n${der('private')}\n-----END EC PRIVATE KEY-----\n`,
          privateKeyPemPkcs8: `-----BEGIN PRIVATE KEY-----\n${der('pkcs8')}\n-----END PRIVATE KEY-----\n`,
          publicKeyPem: `-----BEGIN PUBLIC KEY-----\n${der('public')}\n-----END PUBLIC KEY-----\n`,
          publicKeyFingerprintSha256: `SHA256:${der('fingerprint').slice(0, 43)}`,
        },
      };
    }
    case 'tls:index/certRequest:CertRequest':
      return {
        id: id(name, 40),
        state: {
          certRequestPem: `-----BEGIN CERTIFICATE REQUEST-----\n${id(name + 'csr', 64)}\n-----END CERTIFICATE REQUEST-----\n`,
        },
      };
    case 'tls:index/selfSignedCert:SelfSignedCert':
    case 'tls:index/locallySignedCert:LocallySignedCert': {
      const hours = typeof inputs.validityPeriodHours === 'number' ? inputs.validityPeriodHours : 0;
      const start = new Date('2026-01-01T00:00:00Z');
      return {
        id: String(BigInt(`0x${id(name, 30)}`)),
        state: {
          certPem: `-----BEGIN CERTIFICATE-----\n${id(name + 'cert', 64)}\n-----END CERTIFICATE-----\n`,
          validityStartTime: start.toISOString(),
          validityEndTime: new Date(start.getTime() + hours * 3_600_000).toISOString(),
          readyForRenewal: false,
        },
      };
    }
    default:
      return undefined;
  }
}

/** Kubernetes types the program may create; the provider echoes inputs and fills what the API server would. */
export const KNOWN_KUBERNETES_TYPES = new Set([
  'kubernetes:core/v1:Namespace',
  'kubernetes:core/v1:Secret',
  'kubernetes:core/v1:ConfigMap',
  'kubernetes:core/v1:Service',
  'kubernetes:core/v1:ServiceAccount',
  'kubernetes:core/v1:PersistentVolumeClaim',
  'kubernetes:storage.k8s.io/v1:StorageClass',
  'kubernetes:apps/v1:Deployment',
  'kubernetes:apps/v1:StatefulSet',
  'kubernetes:batch/v1:Job',
  'kubernetes:batch/v1:CronJob',
  'kubernetes:networking.k8s.io/v1:Ingress',
  'kubernetes:networking.k8s.io/v1:NetworkPolicy',
  'kubernetes:policy/v1:PodDisruptionBudget',
  'kubernetes:autoscaling/v2:HorizontalPodAutoscaler',
  'kubernetes:helm.sh/v3:Release',
  'kubernetes:keda.sh/v1alpha1:ScaledObject',
  'kubernetes:monitoring.coreos.com/v1:PrometheusRule',
  'kubernetes:monitoring.coreos.com/v1:ServiceMonitor',
  'kubernetes:monitoring.coreos.com/v1:PodMonitor',
  'kubernetes:postgresql.cnpg.io/v1:Cluster',
  'kubernetes:postgresql.cnpg.io/v1:ScheduledBackup',
  'kubernetes:karpenter.sh/v1:NodePool',
  'kubernetes:karpenter.k8s.aws/v1:EC2NodeClass',
]);

export const COMPONENT_TYPES = new Set([
  'archibald:network:Network',
  'archibald:cluster:Cluster',
  'archibald:cache:Cache',
  'archibald:database:Database',
  'archibald:monitoring:Monitoring',
  'archibald:observability:Observability',
  'archibald:secrets:Secrets',
  'archibald:cdn:Cdn',
  'archibald:backups:Backups',
  'archibald:runtime:Runtime',
  'archibald:nodes:NodeAutoscaler',
  'archibald:metrics:MetricsServer',
  'archibald:ingress:LoadBalancerController',
]);

function kubernetesState(type: string, name: string, inputs: Inputs): { id: string; state: State } {
  const metadata = (inputs.metadata ?? {}) as Record<string, unknown>;
  const objName = str(metadata.name, `${name}-${id(name, 8)}`);
  const namespace = typeof metadata.namespace === 'string' ? metadata.namespace : undefined;
  const state: State = { ...inputs, metadata: { ...metadata, name: objName, uid: id(name, 32) } };
  if (type === 'kubernetes:core/v1:Service') {
    const spec = (inputs.spec ?? {}) as Record<string, unknown>;
    state.status =
      spec.type === 'LoadBalancer'
        ? {
            loadBalancer: {
              ingress: [{ hostname: `a${id(name, 31)}-${id(name + 'lb', 16)}.elb.eu-west-1.amazonaws.com` }],
            },
          }
        : { loadBalancer: {} };
  }
  if (type === 'kubernetes:networking.k8s.io/v1:Ingress') {
    // The AWS Load Balancer Controller reports the ALB of the Ingress' group (one per group.name).
    const spec = (inputs.spec ?? {}) as Record<string, unknown>;
    const annotations = (metadata.annotations ?? {}) as Record<string, string>;
    const group = annotations['alb.ingress.kubernetes.io/group.name'];
    state.status =
      spec.ingressClassName === 'alb' && group
        ? {
            loadBalancer: {
              ingress: [
                {
                  hostname: `k8s-${group.replace(/[^a-z0-9]/g, '').slice(0, 8)}-${id(group, 10)}-${id(group + 'alb', 10)}.eu-west-1.elb.amazonaws.com`,
                },
              ],
            },
          }
        : { loadBalancer: {} };
  }
  if (type === 'kubernetes:helm.sh/v3:Release') {
    state.status = {
      name: str(inputs.name, name),
      namespace: str(inputs.namespace, 'default'),
      status: 'deployed',
      version: inputs.version,
      revision: 1,
    };
    return { id: `${str(inputs.namespace, 'default')}/${str(inputs.name, name)}`, state };
  }
  return { id: namespace ? `${namespace}/${objName}` : objName, state };
}

export async function evaluateStack(stack: string, opts: EvaluateOptions = {}): Promise<Evaluation> {
  const root = opts.root ?? REPO_ROOT;
  const config = stackConfig(stack, opts.configOverrides, root);
  const secrets = opts.secrets ?? defaultSecrets(stack);
  const secretKeys: string[] = [];
  for (const [key, value] of Object.entries(secrets)) {
    config[`archibald:${key}`] = value;
    secretKeys.push(`archibald:${key}`);
  }
  pulumi.runtime.setAllConfig(config, secretKeys);
  const region = config['archibald:region'] ?? 'eu-west-1';
  const drRegion = config['archibald:drRegion'] ?? '';

  const unknownTypes: string[] = [];
  const unknownCalls: string[] = [];
  const calls: { token: string; inputs: Record<string, unknown> }[] = [];
  const reads: { type: string; name: string; id: string }[] = [];
  const mockResource = (
    args: pulumi.runtime.MockResourceArgs,
  ): { id: string; state: Record<string, unknown> } => {
    const inputs = args.inputs as Inputs;
    if (args.type.startsWith('pulumi:providers:')) return { id: `${args.name}-provider-id`, state: inputs };
    if (COMPONENT_TYPES.has(args.type)) return { id: '', state: {} };
    if (KNOWN_KUBERNETES_TYPES.has(args.type)) return kubernetesState(args.type, args.name, inputs);
    const providerRegion = args.provider?.includes('::aws-us-east-1::')
      ? 'us-east-1'
      : args.provider?.includes('::aws-dr::')
        ? drRegion
        : region;
    const known = awsState(args.type, args.name, inputs, providerRegion);
    if (known) return { id: known.id, state: { ...inputs, ...known.state } };
    unknownTypes.push(args.type);
    throw new Error(`harness: no mock for resource type ${args.type} (${args.name})`);
  };
  const mocked = new Map<string, Record<string, unknown>>();
  const mocks: pulumi.runtime.Mocks = {
    newResource(args) {
      // A read of an existing resource (Resource.get) arrives with its id and is not registered.
      if (args.id) {
        reads.push({ type: args.type, name: args.name, id: args.id });
        return mockResource({ ...args, inputs: { ...args.inputs, id: args.id } });
      }
      const result = mockResource(args);
      mocked.set(`${args.type}::${args.name}`, result.state as Record<string, unknown>);
      return result;
    },
    call(args) {
      calls.push({ token: args.token, inputs: args.inputs as Record<string, unknown> });
      if (args.token === 'aws:rds/getSnapshot:getSnapshot') {
        // The newest recovery point AWS Backup copied into the region (the DR stack's restore).
        const inputs = args.inputs as { dbInstanceIdentifier?: string; snapshotType?: string };
        const snapshotId = `awsbackup:copyjob-${id(String(inputs.dbInstanceIdentifier), 8)}`;
        return {
          id: snapshotId,
          dbSnapshotIdentifier: snapshotId,
          dbSnapshotArn: `arn:aws:rds:${region}:${ACCOUNT}:snapshot:${snapshotId}`,
          dbInstanceIdentifier: inputs.dbInstanceIdentifier,
          snapshotType: inputs.snapshotType,
          status: 'available',
          encrypted: true,
        };
      }
      if (args.token === 'aws:index/getAvailabilityZones:getAvailabilityZones') {
        const names = ['a', 'b', 'c'].map((s) => `${region}${s}`);
        return { id: region, names, zoneIds: names.map((_, i) => `euw1-az${i + 1}`), groupNames: [region] };
      }
      unknownCalls.push(args.token);
      throw new Error(`harness: no mock for invoke ${args.token}`);
    },
  };
  await pulumi.runtime.setMocks(mocks, 'archibald', stack, false);

  // Record what the mock monitor receives: the parent, provider and raw (secret-marked) inputs.
  const resources: RegisteredResource[] = [];
  const runtime = pulumi.runtime as unknown as { getMonitor(): MonitorLike; waitForRPCs(): Promise<void> };
  const monitor = runtime.getMonitor();
  const register = monitor.registerResource.bind(monitor);
  monitor.registerResource = (req: RegisterRequest, callback: (err: unknown, res: unknown) => void) => {
    const wrapped = (err: unknown, res: unknown): void => {
      if (!err) {
        const response = res as { getUrn(): string; getId(): string };
        const urn = response.getUrn();
        const raw = req.getObject()?.toJavaScript() ?? {};
        resources.push({
          type: req.getType(),
          name: req.getName(),
          urn,
          id: response.getId(),
          parent: req.getParent(),
          provider: req.getProvider(),
          custom: req.getCustom(),
          protect: req.getProtect() ?? false,
          retainOnDelete: req.getRetainondelete() ?? false,
          aliases: [
            ...req.getAliasurnsList(),
            ...req.getAliasesList().map((a) => aliasUrn(a, req, stack, urn)),
          ],
          ignoreChanges: req.getIgnorechangesList(),
          replaceOnChanges: req.getReplaceonchangesList(),
          dependencies: req.getDependenciesList(),
          inputs: unwrapSecrets(raw) as Record<string, unknown>,
          secretPaths: secretPaths(raw),
          outputs: mocked.get(`${req.getType()}::${req.getName()}`) ?? {},
        });
      }
      callback(err, res);
    };
    return register(req, wrapped);
  };

  const started = performance.now();
  const program = (await import(pathToFileURL(join(root, 'stacks', 'index.ts')).href)) as {
    default: () => Promise<Record<string, unknown>>;
  };
  const returned = await program.default();
  const outputs: Record<string, StackOutput> = {};
  for (const [key, value] of Object.entries(returned)) {
    if (pulumi.Output.isInstance(value)) {
      const o = value as unknown as { promise(): Promise<unknown>; isSecret: Promise<boolean> };
      outputs[key] = { value: await o.promise(), secret: await o.isSecret };
    } else {
      outputs[key] = { value, secret: false };
    }
  }
  await runtime.waitForRPCs();
  const evaluationMs = performance.now() - started;
  return { stack, resources, outputs, unknownTypes, unknownCalls, calls, reads, config, evaluationMs };
}

interface RegisterRequest {
  getType(): string;
  getName(): string;
  getParent(): string;
  getProvider(): string;
  getCustom(): boolean;
  getProtect(): boolean | undefined;
  getRetainondelete(): boolean | undefined;
  getAliasurnsList(): string[];
  getAliasesList(): AliasLike[];
  getIgnorechangesList(): string[];
  getReplaceonchangesList(): string[];
  getDependenciesList(): string[];
  getObject(): { toJavaScript(): Record<string, unknown> } | undefined;
}

interface AliasLike {
  getUrn(): string;
  getSpec():
    | {
        getName(): string;
        getType(): string;
        getStack(): string;
        getProject(): string;
        getParenturn(): string;
        getNoparent(): boolean;
      }
    | undefined;
}

/** The URN an alias names: its spec's fields, defaulting to the resource's own (as the engine does). */
function aliasUrn(alias: AliasLike, req: RegisterRequest, stack: string, urn: string): string {
  const spec = alias.getSpec();
  if (!spec) return alias.getUrn();
  const project = urn.split('::')[1] ?? 'archibald';
  const parent = spec.getNoparent() ? '' : spec.getParenturn() || req.getParent();
  const type = spec.getType() || req.getType();
  const parentType = parent ? parent.split('::')[2] : undefined;
  const qualified =
    parentType && !parentType.startsWith('pulumi:pulumi:Stack') ? `${parentType}$${type}` : type;
  return `urn:pulumi:${spec.getStack() || stack}::${spec.getProject() || project}::${qualified}::${spec.getName() || req.getName()}`;
}

interface MonitorLike {
  registerResource(req: RegisterRequest, callback: (err: unknown, res: unknown) => void): unknown;
}
