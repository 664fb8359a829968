/**
 * The diff and risk functions on hand-built resources, without Pulumi or mocks: each operation,
 * replace-forcing properties, URN changes with and without an alias, provider region moves,
 * ignoreChanges/replaceOnChanges, secrets, and the risk flags.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { diffResources, diffValues, summarize } from '../../stacks/plan/diff.js';
import type { Change } from '../../stacks/plan/diff.js';
import { forcesReplacement, REPLACE_RULES, STATEFUL_TYPES } from '../../stacks/plan/replacement.js';
import { hasDataLoss } from '../../stacks/plan/risk.js';
import { keyInputs, snapshotResources } from '../../stacks/plan/snapshot.js';
import type { PlannedResource } from '../../stacks/plan/snapshot.js';
import { probeResource } from '../stacks/harness.js';

const STACK = 'urn:pulumi:prod::archibald::';
const DB_COMPONENT = `${STACK}archibald:database:Database::database`;
const PROVIDER = `${STACK}pulumi:providers:aws::aws`;

function res(
  type: string,
  name: string,
  inputs: Record<string, unknown>,
  opts: Partial<PlannedResource> & { parentType?: string } = {},
): PlannedResource {
  const { parentType, ...rest } = opts;
  const qualified = parentType ? `${parentType}$${type}` : type;
  return {
    urn: `${STACK}${qualified}::${name}`,
    type,
    name,
    custom: !type.startsWith('archibald:'),
    component: parentType ? DB_COMPONENT : '',
    protect: false,
    retainOnDelete: false,
    aliases: [],
    ignoreChanges: [],
    replaceOnChanges: [],
    provider: type.startsWith('aws:') ? PROVIDER : '',
    inputs,
    ...rest,
  };
}

const RDS = 'aws:rds/instance:Instance';
const rds = (inputs: Record<string, unknown>, opts: Partial<PlannedResource> = {}): PlannedResource =>
  res(
    RDS,
    'database-primary',
    {
      identifier: 'archibald-prod-postgres',
      instanceClass: 'db.r7g.large',
      kmsKeyId: 'arn:key/1',
      ...inputs,
    },
    { parentType: 'archibald:database:Database', ...opts },
  );

const only = (changes: Change[], name: string): Change => {
  const found = changes.filter((c) => c.name === name);
  assert.equal(found.length, 1, `one change for ${name}`);
  return found[0]!;
};

test('identical inputs are the same resource, with no risk', () => {
  const changes = diffResources([rds({})], [rds({})]);
  assert.equal(only(changes, 'database-primary').op, 'same');
  assert.deepEqual(only(changes, 'database-primary').risk, []);
  assert.deepEqual(summarize(changes), { create: 0, update: 0, replace: 0, delete: 0, same: 1 });
});

test('a property that updates in place is an update listing it before and after', () => {
  const c = only(diffResources([rds({})], [rds({ instanceClass: 'db.r7g.xlarge' })]), 'database-primary');
  assert.equal(c.op, 'update');
  assert.deepEqual(c.diffs, [{ path: 'instanceClass', before: 'db.r7g.large', after: 'db.r7g.xlarge' }]);
  assert.deepEqual(c.risk, []);
});

test('a replace-forcing property of a data store makes a replace flagged data-loss', () => {
  const c = only(diffResources([rds({})], [rds({ kmsKeyId: 'arn:key/2' })]), 'database-primary');
  assert.equal(c.op, 'replace');
  assert.equal(c.diffs[0]?.forcesReplacement, 'kmsKeyId');
  assert.match(c.reasons.join(), /kmsKeyId cannot change in place/);
  assert.deepEqual(
    c.risk.map((r) => r.kind),
    ['data-loss'],
  );
  assert.ok(hasDataLoss([c]));
});

test('nested paths match their replace-forcing parent (a PVC spec, a StatefulSet claim template)', () => {
  assert.deepEqual(
    forcesReplacement('kubernetes:core/v1:PersistentVolumeClaim', 'spec.resources.requests.storage'),
    ['spec'],
  );
  assert.deepEqual(
    forcesReplacement('kubernetes:apps/v1:StatefulSet', 'spec.volumeClaimTemplates.0.spec.storageClassName'),
    ['spec.volumeClaimTemplates'],
  );
  assert.deepEqual(forcesReplacement('kubernetes:apps/v1:StatefulSet', 'spec.replicas'), []);
  assert.deepEqual(forcesReplacement('kubernetes:apps/v1:Deployment', 'metadata.name'), ['metadata.name']);
  assert.deepEqual(forcesReplacement('aws:ec2/vpc:Vpc', 'cidrBlock'), [], 'unlisted types update in place');
});

test('every stateful type has a replace table that cites its source', () => {
  for (const type of STATEFUL_TYPES) {
    if (type === 'kubernetes:postgresql.cnpg.io/v1:Cluster') continue; // a CR: name/namespace only
    const rule = REPLACE_RULES[type];
    assert.ok(rule, `${type} has a table`);
    assert.ok(rule.properties.length > 0);
    assert.match(rule.source, /^https:\/\//);
  }
});

test('a URN change without an alias is one replace of the renamed resource, with data-loss', () => {
  const before = rds({});
  const after = {
    ...rds({}),
    urn: before.urn.replace('database-primary', 'database-main'),
    name: 'database-main',
  };
  const changes = diffResources([before], [after]);
  assert.equal(changes.length, 1);
  const c = changes[0]!;
  assert.equal(c.op, 'replace');
  assert.equal(c.previousUrn, before.urn);
  assert.equal(c.urn, after.urn);
  assert.match(c.reasons[0] ?? '', /URN changed without an alias/);
  assert.ok(c.risk.some((r) => r.kind === 'data-loss'));
});

test('a URN change with an alias to the old URN is the same resource', () => {
  const before = rds({});
  const after = {
    ...rds({}),
    urn: before.urn.replace('database-primary', 'database-main'),
    name: 'database-main',
    aliases: [before.urn],
  };
  const c = only(diffResources([before], [after]), 'database-main');
  assert.equal(c.op, 'same');
  assert.equal(c.previousUrn, before.urn);
});

test('resources that only appear or disappear are a create and a delete; deleting data is data-loss', () => {
  const bucket = res('aws:s3/bucket:Bucket', 'cdn-logs', { bucket: 'logs' });
  const role = res('aws:iam/role:Role', 'worker', { name: 'worker' });
  const changes = diffResources([bucket], [role]);
  assert.equal(only(changes, 'worker').op, 'create');
  assert.deepEqual(only(changes, 'worker').risk, []);
  assert.equal(only(changes, 'cdn-logs').op, 'delete');
  assert.deepEqual(
    only(changes, 'cdn-logs').risk.map((r) => r.kind),
    ['data-loss'],
  );
});

test('deleting a stateless resource is not data-loss', () => {
  const changes = diffResources([res('aws:iam/role:Role', 'worker', { name: 'worker' })], []);
  assert.equal(changes[0]?.op, 'delete');
  assert.ok(!hasDataLoss(changes));
});

test('a provider moving region replaces every resource it manages', () => {
  const provider = (region: string): PlannedResource =>
    res('pulumi:providers:aws', 'aws', { region }, { urn: PROVIDER, custom: true });
  const role = res('aws:iam/role:Role', 'worker', { name: 'worker' });
  const changes = diffResources(
    [provider('eu-west-1'), rds({}), role],
    [provider('eu-central-1'), rds({}), role],
  );
  assert.equal(only(changes, 'aws').op, 'replace');
  const db = only(changes, 'database-primary');
  assert.equal(db.op, 'replace');
  assert.match(db.reasons.join(), /provider aws changes region eu-west-1 → eu-central-1/);
  assert.ok(db.risk.some((r) => r.kind === 'data-loss'));
  assert.equal(only(changes, 'worker').op, 'replace');
  assert.ok(!only(changes, 'worker').risk.some((r) => r.kind === 'data-loss'), 'a role holds no data');
});

test('ignoreChanges hides a change; replaceOnChanges turns an update into a replace', () => {
  assert.equal(
    only(
      diffResources([rds({})], [rds({ instanceClass: 'x' }, { ignoreChanges: ['instanceClass'] })]),
      'database-primary',
    ).op,
    'same',
  );
  const forced = only(
    diffResources([rds({})], [rds({ instanceClass: 'x' }, { replaceOnChanges: ['instanceClass'] })]),
    'database-primary',
  );
  assert.equal(forced.op, 'replace');
});

test('any change to a protected or deletion-protected resource is flagged', () => {
  const guarded = { deletionProtection: true, finalSnapshotIdentifier: 'final' };
  const c = only(
    diffResources(
      [rds(guarded, { protect: true })],
      [rds({ ...guarded, instanceClass: 'x' }, { protect: true })],
    ),
    'database-primary',
  );
  assert.equal(c.op, 'update');
  assert.deepEqual(
    c.risk.map((r) => r.kind),
    ['protected', 'deletion-protected'],
  );
  assert.match(c.risk[1]?.reason ?? '', /deletionProtection, final snapshot final/);
});

test('secret inputs are compared by digest and shown as [secret]', () => {
  const registered = (password: string) =>
    snapshotResources(
      [
        {
          ...probeResource(RDS, { passwordWo: password, identifier: 'db' }, 'db'),
          urn: `${STACK}${RDS}::db`,
          secretPaths: ['passwordWo'],
          outputs: {},
        },
      ],
      'key',
    );
  const [a] = registered('hunter2');
  const [b] = registered('hunter3');
  assert.ok(a && b);
  assert.doesNotMatch(JSON.stringify(a), /hunter/);
  assert.equal(only(diffResources([a], registered('hunter2')), 'db').op, 'same');
  const c = only(diffResources([a], [b]), 'db');
  assert.equal(c.op, 'update');
  assert.deepEqual(c.diffs, [{ path: 'passwordWo', before: '[secret]', after: '[secret]' }]);
  assert.deepEqual(keyInputs(a).identifier, 'db');
});

test('value diffs descend into objects and equal-length arrays', () => {
  assert.deepEqual(diffValues({ a: { b: [1, 2] }, c: 1 }, { a: { b: [1, 3] }, c: 1 }), [
    { path: 'a.b.1', before: 2, after: 3 },
  ]);
  assert.deepEqual(diffValues({ a: [1] }, { a: [1, 2] }), [{ path: 'a', before: [1], after: [1, 2] }]);
  assert.deepEqual(diffValues({ a: 1 }, {}), [{ path: 'a', before: 1, after: undefined }]);
});
