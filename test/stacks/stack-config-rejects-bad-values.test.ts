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
    parseStackConfig('dev', raw('dev', { cacheMode: 'elasticache', region: 'eu-west-1' })),
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
