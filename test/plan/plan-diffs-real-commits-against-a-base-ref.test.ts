/**
 * The plan command on real commits of a temporary copy of this repository, against `--base base`
 * (the unmodified copy): a config change updates a Deployment, a rename replaces a resource, and a
 * region change replaces the data stores, is flagged data-loss and fails the command unless
 * --allow-data-loss.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { REPO_ROOT } from '../../stacks/plan/evaluate.js';
import type { StackJson } from '../../stacks/plan/render.js';
import { makeTempRepo, PLAN_SCRIPT } from './temp-repo.js';
import type { TempRepo } from './temp-repo.js';

let repo: TempRepo;
before(() => {
  repo = makeTempRepo();
});
after(() => repo?.remove());

function planJson(...args: string[]): { status: number; doc: StackJson; stderr: string } {
  const r = repo.plan(...args, '--json');
  let doc: StackJson;
  try {
    doc = JSON.parse(r.stdout) as StackJson;
  } catch {
    throw new Error(`plan printed no JSON (exit ${r.status}): ${r.stderr}`);
  }
  return { status: r.status, doc, stderr: r.stderr };
}

test('npm run plan runs the command these tests run', () => {
  const pkg = JSON.parse(readFileSync(`${REPO_ROOT}package.json`, 'utf8')) as {
    scripts: Record<string, string>;
  };
  assert.equal(pkg.scripts.plan, `node ${PLAN_SCRIPT.join(' ')}`);
});

// One dev branch: a config commit, a rename, a rename with an alias; one plan against base sees all.
let dev: { status: number; doc: StackJson; stderr: string };
test('dev: a config change and a rename, planned against the base ref', () => {
  repo.git('checkout', '--quiet', '-b', 'dev-change', 'base');
  repo.commitEdit(
    'Pulumi.dev.yaml',
    'archibald:image: archibald:dev',
    'archibald:image: archibald:dev-2',
    'dev: new image',
  );
  repo.commitEdit(
    'stacks/components/runtime.ts',
    '`${name}-api`,\n',
    '`${name}-http-api`,\n',
    'rename the API Deployment',
  );
  repo.commitEdit(
    'stacks/components/runtime.ts',
    '`${name}-sa`,\n',
    '`${name}-service-account`,\n',
    'rename the SA',
  );
  repo.commitEdit(
    'stacks/components/runtime.ts',
    '      child,\n    );\n  }\n\n  deploy(',
    '      { ...child, aliases: [{ name: `${name}-sa` }] },\n    );\n  }\n\n  deploy(',
    'alias the SA to its old name',
  );
  dev = planJson('--stack', 'dev', '--base', 'base');
  assert.equal(dev.status, 0, dev.stderr);
  assert.equal(dev.doc.stack, 'dev');
  assert.equal(dev.doc.base?.ref, 'base');
  assert.equal(dev.doc.base?.commit, repo.git('rev-parse', 'base'));
  assert.equal(dev.doc.dataLoss, false);
  assert.ok(dev.doc.summary.same > 0, 'the rest of the stack is unchanged');
});

test('a config change updates the Deployment that runs the image, in place', () => {
  const worker = dev.doc.changes.find(
    (c) => c.type === 'kubernetes:apps/v1:Deployment' && c.name === 'runtime-worker',
  );
  assert.ok(worker, 'the worker Deployment changes');
  assert.equal(worker.op, 'update');
  const image = worker.diffs.find((d) => /^spec\.template\.spec\.containers\.\d+\.image$/.test(d.path));
  assert.deepEqual(image && [image.before, image.after], ['archibald:dev', 'archibald:dev-2']);
  assert.ok(image && !image.forcesReplacement);
  assert.deepEqual(worker.risk, []);
});

test('renaming a resource without an alias is reported as its replace', () => {
  const api = dev.doc.changes.filter((c) => c.type === 'kubernetes:apps/v1:Deployment' && /api/.test(c.name));
  assert.equal(api.length, 1, 'one change, not a delete and a create');
  assert.equal(api[0]?.op, 'replace');
  assert.equal(
    api[0]?.urn,
    'urn:pulumi:dev::archibald::archibald:runtime:Runtime$kubernetes:apps/v1:Deployment::runtime-http-api',
  );
  assert.equal(
    api[0]?.previousUrn,
    'urn:pulumi:dev::archibald::archibald:runtime:Runtime$kubernetes:apps/v1:Deployment::runtime-api',
  );
  assert.match(api[0]?.reasons.join() ?? '', /URN changed without an alias/);
  assert.ok(!dev.doc.changes.some((c) => c.op === 'delete' || c.op === 'create'));
});

test('a region change replaces the data stores, flagged data-loss, and fails unless --allow-data-loss', () => {
  repo.git('checkout', '--quiet', '-b', 'region', 'base');
  // The region, and the image from that region's registry (the config requires the stack's own ECR).
  repo.commitEdit('Pulumi.staging.yaml', /eu-west-1/g, 'eu-north-1', 'staging: move region');
  const refused = planJson('--stack', 'staging', '--base', 'base');
  assert.equal(refused.status, 1);
  assert.match(refused.stderr, /data-loss in staging.*--allow-data-loss/);
  const doc = refused.doc;
  assert.equal(doc.dataLoss, true);
  const stores = doc.changes.filter((c) =>
    [
      'aws:rds/instance:Instance',
      'aws:elasticache/replicationGroup:ReplicationGroup',
      'aws:s3/bucket:Bucket',
    ].includes(c.type),
  );
  assert.ok(stores.some((c) => c.type === 'aws:rds/instance:Instance'));
  assert.ok(stores.some((c) => c.type === 'aws:elasticache/replicationGroup:ReplicationGroup'));
  for (const c of stores.filter((s) => !s.name.includes('replica'))) {
    assert.equal(c.op, 'replace', `${c.name} is replaced`);
    assert.ok(
      c.risk.some((r) => r.kind === 'data-loss'),
      `${c.name} is flagged data-loss`,
    );
  }
  const db = doc.changes.find((c) => c.type === 'aws:rds/instance:Instance' && c.name === 'database-primary');
  assert.ok(db);
  assert.match(db.reasons.join('\n'), /provider aws changes region eu-west-1 → eu-north-1/);
  assert.ok(doc.risks.some((r) => r.kind === 'data-loss' && r.urn === db.urn));

  const allowed = repo.plan('--stack', 'staging', '--base', 'base', '--allow-data-loss');
  assert.equal(allowed.status, 0, allowed.stderr);
  assert.match(
    allowed.stdout,
    /- \*\*staging\*\* \(\d+ resources\): .*\d+ to replace.* — ⛔ \*\*data-loss\*\*/,
  );
  assert.match(
    allowed.stdout,
    /\| staging \| `Instance` database-primary \| replace \| \*\*data-loss\*\* \|/,
  );
});

test('renaming a resource with an alias to its old name is the same resource', () => {
  const sa = dev.doc.changes.filter((c) => c.type === 'kubernetes:core/v1:ServiceAccount');
  assert.deepEqual(sa, [], 'the aliased ServiceAccount is unchanged (only changes are listed)');
  assert.ok(!dev.doc.changes.some((c) => c.name === 'runtime-service-account' || c.name === 'runtime-sa'));
});
