import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseStackConfig, StackConfigError } from '../../stacks/config.js';
import type { RawConfig } from '../../stacks/config.js';
import { stackConfig } from './harness.js';

/** A checked-in stack's config as the program sees it (Pulumi.yaml defaults + stack file). */
function raw(stack: string, overrides: Record<string, string> = {}): RawConfig {
  return Object.fromEntries(
    Object.entries(stackConfig(stack, overrides)).map(([k, v]) => [k.replace(/^archibald:/, ''), v]),
  ) as RawConfig;
}

function problems(fn: () => unknown): string[] {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof StackConfigError, String(err));
    return [...err.problems];
  }
  assert.fail('expected a StackConfigError');
}

test('the checked-in stack files are valid and say what differs per environment', () => {
  const dev = parseStackConfig('dev', raw('dev'));
  assert.deepEqual(
    [dev.tier, dev.clusterMode, dev.cacheMode, dev.databaseMode, dev.storageMode, dev.backups],
    ['dev', 'existing', 'in-cluster', 'in-cluster', 'local', false],
  );
  const prod = parseStackConfig('prod', raw('prod'));
  assert.deepEqual(
    [prod.tier, prod.clusterMode, prod.region, prod.drRegion, prod.backups],
    ['prod', 'eks', 'eu-west-1', 'eu-central-1', true],
  );
  assert.deepEqual(prod.alerting, {
    pagerDutyKeyName: 'pagerDutyRoutingKey',
    slackWebhookKeyName: 'slackWebhookUrl',
    slackChannel: '#archibald-prod',
  });
  assert.equal(parseStackConfig('staging', raw('staging')).tier, 'staging');
});

test('a bad value names the key, the value and what is allowed', () => {
  assert.deepEqual(
    problems(() => parseStackConfig('prod', raw('prod', { tier: 'gigantic' }))),
    ['stack prod: archibald:tier = "gigantic": required; allowed: dev, staging, prod, enterprise'],
  );
  assert.deepEqual(
    problems(() => parseStackConfig('prod', raw('prod', { clusterMode: 'fargate' }))),
    ['stack prod: archibald:clusterMode = "fargate": allowed: eks, existing'],
  );
  assert.match(
    problems(() => parseStackConfig('prod', raw('prod', { region: 'Europe' })))[0] ?? '',
    /archibald:region = "Europe": allowed: an AWS region name/,
  );
  assert.match(
    problems(() => parseStackConfig('prod', raw('prod', { backups: 'yes' })))[0] ?? '',
    /archibald:backups = "yes": allowed: true, false/,
  );
  assert.deepEqual(
    problems(() => parseStackConfig('prod', raw('prod', { runbookBaseUrl: 'wiki/runbooks' }))),
    [
      'stack prod: archibald:runbookBaseUrl = "wiki/runbooks": allowed: an http(s) URL such as https://github.com/<org>/<repo>/blob/main/runbooks',
    ],
  );
  assert.equal(
    parseStackConfig('prod', raw('prod', { runbookBaseUrl: 'https://wiki.example.org/runbooks' }))
      .runbookBaseUrl,
    'https://wiki.example.org/runbooks',
  );
  assert.equal(parseStackConfig('prod', raw('prod')).runbookBaseUrl, undefined, 'empty = the default');
});

test('every problem is reported at once', () => {
  const found = problems(() =>
    parseStackConfig('prod', raw('prod', { tier: 'huge', domain: 'Not A Domain', cacheMode: 'memcached' })),
  );
  assert.equal(found.length, 3);
  assert.ok(found.some((p) => p.includes('archibald:domain = "Not A Domain"')));
  assert.ok(
    found.some((p) => p.includes('archibald:cacheMode = "memcached": allowed: elasticache, in-cluster')),
  );
});

test('region is required exactly when a component runs on AWS', () => {
  assert.match(
    problems(() => parseStackConfig('prod', raw('prod', { region: '' })))[0] ?? '',
    /archibald:region = "": required \(AWS components are on\)/,
  );
  assert.equal(parseStackConfig('dev', raw('dev')).region, '', 'dev needs no AWS region');
  assert.equal(parseStackConfig('dev', raw('dev')).usesAws, false);
});

test('a missing required key is named as not set', () => {
  const config = raw('prod');
  delete config.image;
  assert.match(
    problems(() => parseStackConfig('prod', config))[0] ?? '',
    /archibald:image = \(not set\): required/,
  );
});

test('floating image tags are refused', () => {
  for (const image of ['archibald:latest', 'registry.example.com/archibald']) {
    assert.match(
      problems(() => parseStackConfig('prod', raw('prod', { image })))[0] ?? '',
      /archibald:image = ".+": .*(not :latest|tag or digest)/,
      image,
    );
  }
  const pinned = parseStackConfig(
    'prod',
    raw('prod', { image: `registry.example.com:5000/team/archibald@sha256:${'a'.repeat(64)}` }),
  );
  assert.match(pinned.image, /@sha256:/);
});

test('combinations that cannot work are refused with the reason', () => {
  const devOnElastiCache = problems(() =>
    parseStackConfig(
      'dev',
      raw('dev', { cacheMode: 'elasticache', region: 'eu-west-1', accountId: '123456789012' }),
    ),
  );
  assert.deepEqual(devOnElastiCache, [
    'stack dev: archibald:cacheMode = "elasticache": allowed with clusterMode existing: in-cluster (ElastiCache only admits the EKS cluster)',
  ]);
  assert.match(
    problems(() => parseStackConfig('prod', raw('prod', { drRegion: 'eu-west-1' })))[0] ?? '',
    /archibald:drRegion = "eu-west-1": must differ from region/,
  );
  assert.match(
    problems(() => parseStackConfig('prod', raw('prod', { databaseMode: 'in-cluster' })))[0] ?? '',
    /archibald:backups = "true": allowed: false unless databaseMode is rds/,
  );
  assert.match(
    problems(() => parseStackConfig('prod', raw('prod', { alertSlackWebhookKeyName: '' })))[0] ?? '',
    /archibald:alertSlackWebhookKeyName = "": required when the other alert receiver key name is set/,
  );
});

test('an AWS stack names its account; the stack files do, and a bad one is refused', () => {
  assert.equal(parseStackConfig('prod', raw('prod')).accountId, '123456789012');
  assert.equal(parseStackConfig('dev', raw('dev')).accountId, undefined, 'dev needs no AWS account');
  assert.match(
    problems(() => parseStackConfig('staging', raw('staging', { accountId: '' })))[0] ?? '',
    /archibald:accountId = "": required \(AWS components are on\)/,
  );
  assert.match(
    problems(() => parseStackConfig('staging', raw('staging', { accountId: '12345' })))[0] ?? '',
    /archibald:accountId = "12345": allowed: a 12-digit AWS account ID/,
  );
  const profiled = parseStackConfig('prod', { ...raw('prod'), awsProfile: 'archibald-prod' });
  assert.equal(profiled.awsProfile, 'archibald-prod');
});

test('the EKS API is never open to everyone in prod; staging defaults to open, [] means private', () => {
  assert.deepEqual(parseStackConfig('prod', raw('prod')).eksPublicAccessCidrs, [
    '203.0.113.0/24',
    '198.51.100.17/32',
  ]);
  assert.deepEqual(parseStackConfig('staging', raw('staging')).eksPublicAccessCidrs, ['0.0.0.0/0']);
  assert.deepEqual(
    parseStackConfig('prod', raw('prod', { eksPublicAccessCidrs: '[]' })).eksPublicAccessCidrs,
    [],
  );
  const prodWithout = stackConfig('prod');
  delete prodWithout['archibald:eksPublicAccessCidrs'];
  assert.match(
    problems(() =>
      parseStackConfig(
        'prod',
        Object.fromEntries(
          Object.entries(prodWithout).map(([k, v]) => [k.replace(/^archibald:/, ''), v]),
        ) as RawConfig,
      ),
    )[0] ?? '',
    /archibald:eksPublicAccessCidrs = \(not set\): required for tier prod/,
  );
  assert.match(
    problems(() => parseStackConfig('prod', raw('prod', { eksPublicAccessCidrs: '["0.0.0.0/0"]' })))[0] ?? '',
    /allowed for tier prod: specific CIDRs, never 0.0.0.0\/0/,
  );
  assert.match(
    problems(() =>
      parseStackConfig('staging', raw('staging', { eksPublicAccessCidrs: '["10.0.0.0/33"]' })),
    )[0] ?? '',
    /"10.0.0.0\/33": allowed: items like 203.0.113.0\/24/,
  );
  assert.match(
    problems(() => parseStackConfig('staging', raw('staging', { eksPublicAccessCidrs: '10.0.0.0/8' })))[0] ??
      '',
    /allowed: a list of strings/,
  );
});

test("cluster admins are IAM roles of the stack's own account", () => {
  assert.equal(parseStackConfig('prod', raw('prod')).clusterAdminRoleArns.length, 2);
  assert.match(
    problems(() =>
      parseStackConfig(
        'prod',
        raw('prod', { clusterAdminRoleArns: '["arn:aws:iam::999999999999:role/stranger"]' }),
      ),
    )[0] ?? '',
    /arn:aws:iam::999999999999:role\/stranger: allowed: roles of account 123456789012/,
  );
  assert.match(
    problems(() =>
      parseStackConfig(
        'prod',
        raw('prod', { clusterAdminRoleArns: '["arn:aws:iam::123456789012:user/bob"]' }),
      ),
    )[0] ?? '',
    /clusterAdminRoleArns = .*allowed: items like arn:aws:iam::123456789012:role\/platform-admin/,
  );
});

test("an ECR image must come from the stack's own repository, so staging and prod never share one by accident", () => {
  assert.match(
    problems(() =>
      parseStackConfig(
        'prod',
        raw('prod', { image: '123456789012.dkr.ecr.eu-west-1.amazonaws.com/archibald/staging:0.1.0' }),
      ),
    )[0] ?? '',
    /archibald:image = .*this stack's ECR repository, 123456789012.dkr.ecr.eu-west-1.amazonaws.com\/archibald\/prod:<tag>/,
  );
  assert.equal(
    parseStackConfig('prod', raw('prod', { image: 'ghcr.io/acme/archibald:0.1.0' })).image,
    'ghcr.io/acme/archibald:0.1.0',
  );
});

test('a stack name that would break an AWS name limit is refused before anything is created', () => {
  const long = 'customer-acme-europe-prod-blue';
  const found = problems(() => parseStackConfig(long, raw('prod')));
  assert.ok(
    found.some((p) =>
      p.includes(
        `the ElastiCache replication group ID "archibald-${long}-redis" ${`archibald-${long}-redis`.length} characters long; AWS allows at most 40`,
      ),
    ),
    found.join('\n'),
  );
  assert.ok(
    found.some((p) => /S3 bucket name .* AWS allows at most 63/.test(p)),
    found.join('\n'),
  );
  assert.match(
    problems(() => parseStackConfig('Prod_EU', raw('prod'))).join('\n'),
    /the stack name "Prod_EU" becomes part of AWS resource names: allowed: lower-case letters, digits and single hyphens/,
  );
  // dev creates no AWS resources: its stack name is free.
  assert.equal(parseStackConfig('Dev_Laptop', raw('dev')).stack, 'Dev_Laptop');
});
