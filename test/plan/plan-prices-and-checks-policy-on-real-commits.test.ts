/**
 * Cost and policy in the plan command, on real commits of a temporary copy of this repository: a
 * price change in the table moves the cost delta (and only where that price is used); today's three
 * stacks pass the policy pack with no mandatory violation; injected violations fail the plan.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { StackJson } from '../../stacks/plan/render.js';
import { makeTempRepo } from './temp-repo.js';
import type { TempRepo } from './temp-repo.js';

let repo: TempRepo;
before(() => {
  repo = makeTempRepo();
});
after(() => repo?.remove());

function planJson(...args: string[]): { status: number; docs: StackJson[]; stderr: string } {
  const r = repo.plan(...args, '--json');
  let parsed: StackJson | StackJson[];
  try {
    parsed = JSON.parse(r.stdout) as StackJson | StackJson[];
  } catch {
    throw new Error(`plan printed no JSON (exit ${r.status}): ${r.stderr}`);
  }
  return { status: r.status, docs: Array.isArray(parsed) ? parsed : [parsed], stderr: r.stderr };
}

test('a price change in the table moves the cost delta; the three stacks pass the pack', () => {
  repo.git('checkout', '--quiet', '-b', 'price', 'base');
  repo.commitEdit(
    'stacks/pricing/aws-eu-west-1.json',
    '"db.r7g.large": 0.266',
    '"db.r7g.large": 0.3',
    'RDS price up',
  );
  const { status, docs, stderr } = planJson(
    '--stack',
    'dev',
    '--stack',
    'staging',
    '--stack',
    'prod',
    '--base',
    'base',
  );
  assert.equal(status, 0, stderr);
  const [dev, staging, prod] = docs;
  assert.ok(dev && staging && prod);

  assert.equal(dev.cost, null, 'dev runs on a local kind cluster: nothing priced');
  assert.ok(staging.cost && prod.cost);
  assert.equal(staging.cost.deltaUsd, 0, 'staging uses no db.r7g.large');
  assert.ok(staging.cost.monthlyUsd > 0);
  // prod: a Multi-AZ primary (two instances) and two replicas, 730 h each, $0.034/h dearer.
  assert.equal(prod.cost.deltaUsd, Math.round(0.034 * 730 * 4 * 100) / 100);
  assert.equal(
    Math.round((prod.cost.monthlyUsd - (prod.cost.baseMonthlyUsd ?? 0)) * 100) / 100,
    prod.cost.deltaUsd,
  );
  assert.deepEqual(prod.cost.changedLines.map((l) => l.name).sort(), [
    'database-primary',
    'database-replica-0',
    'database-replica-1',
  ]);
  assert.equal(prod.summary.update + prod.summary.replace + prod.summary.create + prod.summary.delete, 0);
  for (const line of prod.cost.lines) assert.ok(line.prices.length > 0, line.name);
  assert.deepEqual(prod.cost.unpriced, []);

  for (const doc of docs) {
    assert.equal(doc.policy.mandatory, 0, `${doc.stack}: ${JSON.stringify(doc.policy.violations)}`);
    assert.equal(doc.policy.config, `policy/config/${doc.stack}.json`);
  }
  // staging's single-AZ data stores and open endpoint are by design, reported as advisory there.
  assert.deepEqual([...new Set(staging.policy.violations.map((v) => v.policy))].sort(), [
    'data-stores-multi-az',
    'eks-endpoint-restricted',
  ]);
  assert.deepEqual(prod.policy.violations, []);

  const md = repo.plan('--stack', 'prod', '--base', 'base');
  assert.equal(md.status, 0, md.stderr);
  assert.match(md.stdout, /\| prod \| \$[\d,.]+ \| \$[\d,.]+ \| \*\*\+\$99\.28\*\* \|/);
  assert.match(md.stdout, /- database-primary: \$[\d,.]+ → \$[\d,.]+ \(\+\$49\.64\)/);
  assert.match(md.stdout, /#### Policy/);
});

test('injected violations fail the plan with the resource and the rule', () => {
  repo.git('checkout', '--quiet', '-b', 'violations', 'base');
  repo.commitEdit(
    'stacks/components/database.ts',
    'storageEncrypted: true,',
    'storageEncrypted: false,',
    'unencrypted',
  );
  repo.commitEdit(
    'stacks/components/cluster.ts',
    "httpTokens: 'required', httpPutResponseHopLimit: 1",
    "httpTokens: 'optional', httpPutResponseHopLimit: 1",
    'IMDSv1',
  );
  const { status, docs, stderr } = planJson('--stack', 'prod', '--base', 'base');
  assert.equal(status, 1);
  assert.match(stderr, /mandatory policy violations in prod/);
  const [prod] = docs;
  assert.ok(prod);
  const found = prod.policy.violations.map((v) => [v.policy, v.type, v.name, v.level]);
  assert.deepEqual(
    found.filter(([p]) => p === 'rds-encrypted'),
    [
      ['rds-encrypted', 'aws:rds/instance:Instance', 'database-primary', 'mandatory'],
      ['rds-encrypted', 'aws:rds/instance:Instance', 'database-replica-0', 'mandatory'],
      ['rds-encrypted', 'aws:rds/instance:Instance', 'database-replica-1', 'mandatory'],
    ],
  );
  assert.deepEqual(
    found.filter(([p]) => p === 'imdsv2-required'),
    [['imdsv2-required', 'aws:ec2/launchTemplate:LaunchTemplate', 'cluster-nodes', 'mandatory']],
  );
  assert.ok(prod.policy.violations.every((v) => v.urn.startsWith('urn:pulumi:prod::archibald::')));
});
