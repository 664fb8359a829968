/**
 * Each policy of the pack on violating and compliant resources, called the way the engine calls
 * it (the PolicyPack's validateResource / validateStack, policy/policies.ts) and the way the plan
 * does (runRules); per-stack enforcement levels from policy/config/<stack>.json.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ResourceValidationPolicy, StackValidationPolicy } from '@pulumi/policy';
import { POLICIES } from '../../policy/policies.js';
import { enforcementLevels, imagePinned, loadPolicyConfig, RULES, runRules } from '../../policy/rules.js';
import type { PolicyResource } from '../../policy/rules.js';
import { REPO_ROOT } from '../../stacks/plan/evaluate.js';

const r = (type: string, name: string, props: Record<string, unknown>, stack = 'prod'): PolicyResource => ({
  type,
  name,
  props,
  urn: `urn:pulumi:${stack}::archibald::${type}::${name}`,
});

/** Violations a policy of the pack reports for these resources, through the @pulumi/policy API. */
function report(policyName: string, resources: PolicyResource[]): string[] {
  const policy = POLICIES.find((p) => p.name === policyName);
  assert.ok(policy, policyName);
  const out: string[] = [];
  const reportViolation = (message: string): void => {
    out.push(message);
  };
  if ('validateResource' in policy) {
    const validate = (policy as ResourceValidationPolicy).validateResource;
    for (const x of resources)
      for (const v of [validate].flat())
        void v?.(
          { ...x, isType: () => false, asType: () => undefined, getConfig: () => ({}) } as never,
          reportViolation,
        );
  } else {
    void (policy as StackValidationPolicy).validateStack(
      {
        resources: resources.map((x) => ({ ...x, isType: () => false, asType: () => undefined })),
        getConfig: () => ({}),
      } as never,
      reportViolation,
    );
  }
  return out;
}

const tags = { project: 'archibald', stack: 'prod', 'managed-by': 'pulumi', component: 'database' };
const goodDb = {
  instanceClass: 'db.r7g.large',
  storageEncrypted: true,
  deletionProtection: true,
  backupRetentionPeriod: 14,
  multiAz: true,
  tags,
};
const pod = (containers: Record<string, unknown>[], securityContext: Record<string, unknown> = {}) => ({
  spec: { template: { spec: { securityContext, containers } } },
});
const limited = { resources: { limits: { cpu: '1', memory: '1Gi' } } };

const CASES: Record<string, { violating: PolicyResource[]; compliant: PolicyResource[] }> = {
  's3-encrypted-and-private': {
    violating: [
      r('aws:s3/bucket:Bucket', 'open', { bucket: 'open', acl: 'public-read' }),
      r('aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock', 'open', {
        bucket: 'open',
        blockPublicAcls: true,
        blockPublicPolicy: false,
        ignorePublicAcls: true,
        restrictPublicBuckets: true,
      }),
    ],
    compliant: [
      r('aws:s3/bucket:Bucket', 'closed', { bucket: 'closed' }),
      r('aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock', 'closed', {
        bucket: 'closed',
        blockPublicAcls: true,
        blockPublicPolicy: true,
        ignorePublicAcls: true,
        restrictPublicBuckets: true,
      }),
      r('aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration', 'closed', {
        bucket: 'closed',
        rules: [{ applyServerSideEncryptionByDefault: { sseAlgorithm: 'aws:kms' } }],
      }),
    ],
  },
  'rds-encrypted': {
    violating: [r('aws:rds/instance:Instance', 'db', { ...goodDb, storageEncrypted: false })],
    compliant: [r('aws:rds/instance:Instance', 'db', goodDb)],
  },
  'elasticache-encrypted': {
    violating: [
      r('aws:elasticache/replicationGroup:ReplicationGroup', 'redis', { atRestEncryptionEnabled: true }),
    ],
    compliant: [
      r('aws:elasticache/replicationGroup:ReplicationGroup', 'redis', {
        atRestEncryptionEnabled: true,
        transitEncryptionEnabled: true,
      }),
    ],
  },
  'rds-deletion-protection-and-backups': {
    violating: [
      r('aws:rds/instance:Instance', 'db', { ...goodDb, deletionProtection: false }),
      r('aws:rds/instance:Instance', 'db2', { ...goodDb, backupRetentionPeriod: 1 }),
    ],
    compliant: [
      r('aws:rds/instance:Instance', 'db', goodDb),
      r('aws:rds/instance:Instance', 'replica', { deletionProtection: true, replicateSourceDb: 'db' }),
    ],
  },
  'data-stores-multi-az': {
    violating: [r('aws:rds/instance:Instance', 'db', { ...goodDb, multiAz: false })],
    compliant: [
      r('aws:rds/instance:Instance', 'db', goodDb),
      r('aws:elasticache/replicationGroup:ReplicationGroup', 'redis', {
        multiAzEnabled: true,
        automaticFailoverEnabled: true,
      }),
    ],
  },
  'eks-endpoint-restricted': {
    violating: [
      r('aws:eks/cluster:Cluster', 'eks', {
        vpcConfig: { endpointPublicAccess: true, publicAccessCidrs: ['0.0.0.0/0'] },
      }),
      r('aws:eks/cluster:Cluster', 'eks2', { vpcConfig: {} }),
    ],
    compliant: [
      r('aws:eks/cluster:Cluster', 'eks', {
        vpcConfig: { endpointPublicAccess: true, publicAccessCidrs: ['203.0.113.0/24'] },
      }),
      r('aws:eks/cluster:Cluster', 'eks2', { vpcConfig: { endpointPublicAccess: false } }),
    ],
  },
  'imdsv2-required': {
    violating: [
      r('aws:ec2/launchTemplate:LaunchTemplate', 'lt', { metadataOptions: { httpTokens: 'optional' } }),
      r('kubernetes:karpenter.k8s.aws/v1:EC2NodeClass', 'nc', { spec: {} }),
    ],
    compliant: [
      r('aws:ec2/launchTemplate:LaunchTemplate', 'lt', { metadataOptions: { httpTokens: 'required' } }),
      r('kubernetes:karpenter.k8s.aws/v1:EC2NodeClass', 'nc', {
        spec: { metadataOptions: { httpTokens: 'required' } },
      }),
    ],
  },
  'required-tags': {
    violating: [r('aws:kms/key:Key', 'key', { tags: { project: 'archibald' } })],
    compliant: [r('aws:kms/key:Key', 'key', { tags }), r('aws:iam/role:Role', 'untaggable-here', {})],
  },
  'container-limits': {
    violating: [
      r(
        'kubernetes:apps/v1:Deployment',
        'api',
        pod([{ name: 'api', image: 'api:1', resources: { limits: { memory: '1Gi' } } }]),
      ),
    ],
    compliant: [
      r('kubernetes:apps/v1:Deployment', 'api', pod([{ name: 'api', image: 'api:1', ...limited }])),
    ],
  },
  'non-root-containers': {
    violating: [
      r('kubernetes:apps/v1:Deployment', 'api', pod([{ name: 'api', image: 'api:1', ...limited }])),
      r(
        'kubernetes:apps/v1:Deployment',
        'root',
        pod([{ name: 'api', image: 'api:1', securityContext: { runAsUser: 0 } }], { runAsNonRoot: true }),
      ),
    ],
    compliant: [
      r(
        'kubernetes:apps/v1:Deployment',
        'api',
        pod([{ name: 'api', image: 'api:1' }], { runAsNonRoot: true }),
      ),
      r(
        'kubernetes:apps/v1:StatefulSet',
        'db',
        pod([{ name: 'db', image: 'db:1', securityContext: { runAsUser: 999 } }]),
      ),
    ],
  },
  'no-latest-images': {
    violating: [
      r('kubernetes:apps/v1:Deployment', 'a', pod([{ name: 'a', image: 'nginx:latest' }])),
      r('kubernetes:batch/v1:CronJob', 'b', {
        spec: {
          jobTemplate: {
            spec: { template: { spec: { containers: [{ name: 'b', image: 'registry:5000/b' }] } } },
          },
        },
      }),
    ],
    compliant: [
      r('kubernetes:apps/v1:Deployment', 'a', pod([{ name: 'a', image: 'registry:5000/nginx:1.27' }])),
      r('kubernetes:apps/v1:Deployment', 'b', pod([{ name: 'b', image: 'b@sha256:' + 'a'.repeat(64) }])),
    ],
  },
};

test('every policy of the pack has a violating and a compliant case here', () => {
  assert.deepEqual(Object.keys(CASES).sort(), RULES.map((x) => x.name).sort());
  assert.deepEqual(
    POLICIES.map((p) => p.name),
    RULES.map((x) => x.name),
    'the pack is the rules, one each',
  );
});

for (const [name, { violating, compliant }] of Object.entries(CASES))
  test(`${name}: flags the violating resources and passes the compliant ones`, () => {
    const found = report(name, violating);
    assert.ok(
      found.length >=
        violating.filter((x) => x.type !== 'aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock').length,
      `${name}: ${found.join('; ')}`,
    );
    assert.deepEqual(report(name, compliant), [], name);
    // The plan runs the same functions: the same verdicts.
    const levels = enforcementLevels({});
    assert.deepEqual(
      runRules(violating, levels)
        .filter((v) => v.policy === name)
        .map((v) => v.message),
      found,
    );
  });

test('image references: a tag other than latest, or a digest', () => {
  assert.equal(imagePinned('archibald:dev'), true);
  assert.equal(imagePinned('123456789012.dkr.ecr.eu-west-1.amazonaws.com/archibald:1.4.0'), true);
  assert.equal(imagePinned('localhost:5000/archibald'), false, 'a registry port is not a tag');
  assert.equal(imagePinned('archibald'), false);
  assert.equal(imagePinned('archibald:latest'), false);
});

test('enforcement differs per stack: dev advisory, staging mandatory but for two, prod mandatory', () => {
  const dev = loadPolicyConfig(REPO_ROOT, 'dev');
  const staging = loadPolicyConfig(REPO_ROOT, 'staging');
  const prod = loadPolicyConfig(REPO_ROOT, 'prod');
  for (const rule of RULES) {
    assert.equal(dev[rule.name], 'advisory', rule.name);
    assert.equal(prod[rule.name], 'mandatory', rule.name);
  }
  assert.equal(staging['data-stores-multi-az'], 'advisory');
  assert.equal(staging['eks-endpoint-restricted'], 'advisory');
  assert.equal(staging['rds-encrypted'], 'mandatory');
  assert.deepEqual(
    enforcementLevels({ all: 'disabled', 'rds-encrypted': 'mandatory' })['rds-encrypted'],
    'mandatory',
  );
  const db = [r('aws:rds/instance:Instance', 'db', { ...goodDb, multiAz: false })];
  assert.deepEqual(
    runRules(db, staging).map((v) => [v.policy, v.level]),
    [['data-stores-multi-az', 'advisory']],
  );
  assert.deepEqual(
    runRules(db, prod).map((v) => [v.policy, v.level]),
    [['data-stores-multi-az', 'mandatory']],
  );
  assert.deepEqual(runRules(db, enforcementLevels({ all: 'disabled' })), []);
});
