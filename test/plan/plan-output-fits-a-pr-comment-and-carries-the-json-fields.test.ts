/**
 * The renderers on hand-built plans: the Markdown has a summary line per stack, the risks, and the
 * changed resources in collapsible sections, and stays under a pull-request comment's size even for
 * thousands of changes; the JSON has the fields machines read (cost and policy included).
 */
import { checkPolicies } from '../../policy/rules.js';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { diffResources, summarize } from '../../stacks/plan/diff.js';
import type { Plan, StackPlan } from '../../stacks/plan/plan.js';
import { hasDataLoss } from '../../stacks/plan/risk.js';
import { MARKDOWN_BUDGET, renderJson, renderMarkdown } from '../../stacks/plan/render.js';
import { keyInputs } from '../../stacks/plan/snapshot.js';
import type { PlannedResource } from '../../stacks/plan/snapshot.js';

const STACK = 'urn:pulumi:staging::archibald::';

function res(type: string, name: string, inputs: Record<string, unknown>): PlannedResource {
  return {
    urn: `${STACK}archibald:runtime:Runtime$${type}::${name}`,
    type,
    name,
    custom: true,
    component: `${STACK}archibald:runtime:Runtime::runtime`,
    protect: false,
    retainOnDelete: false,
    aliases: [],
    ignoreChanges: [],
    replaceOnChanges: [],
    provider: '',
    inputs,
  };
}

function stackPlan(stack: string, base: PlannedResource[] | undefined, head: PlannedResource[]): StackPlan {
  const byUrn = new Map([...(base ?? []), ...head].map((r) => [r.urn, r]));
  const changes = diffResources(base, head).map((c) => ({ ...c, keyInputs: keyInputs(byUrn.get(c.urn)!) }));
  return {
    stack,
    base: base ? { ref: 'main', commit: 'a'.repeat(40) } : null,
    head: { commit: 'b'.repeat(40), dirty: false },
    resources: head.length,
    summary: summarize(changes),
    dataLoss: hasDataLoss(changes),
    changes,
    evaluationMs: { head: 1, base: base ? 1 : null },
    cost: { head: null, base: null, unpricedRegion: null },
    policy: checkPolicies(stack, head, '/nonexistent'),
  };
}

const plan = (...stacks: StackPlan[]): Plan => ({
  stacks,
  timings: { totalMs: 0, worktreeMs: 0, evaluateMs: 0, assessMs: 0 },
});

const deployment = (level: string): PlannedResource =>
  res('kubernetes:apps/v1:Deployment', 'runtime-api', {
    metadata: { name: 'api', namespace: 'archibald' },
    spec: {
      replicas: 2,
      template: {
        spec: {
          securityContext: { runAsNonRoot: true },
          containers: [
            {
              image: 'api:1',
              env: [{ name: 'LOG_LEVEL', value: level }],
              resources: { limits: { cpu: '1', memory: '1Gi' } },
            },
          ],
        },
      },
    },
  });
const pvc = (size: string): PlannedResource =>
  res('kubernetes:core/v1:PersistentVolumeClaim', 'runtime-scratch', {
    metadata: { name: 'scratch', namespace: 'archibald' },
    spec: { resources: { requests: { storage: size } } },
  });

test('the Markdown gives a summary line per stack, the risks, and the changes in collapsible sections', () => {
  const md = renderMarkdown(
    plan(
      stackPlan('dev', [deployment('info')], [deployment('info')]),
      stackPlan('staging', [deployment('info'), pvc('10Gi')], [deployment('debug'), pvc('20Gi')]),
    ),
  );
  assert.match(md, /^### Plan: `dev`, `staging` against `main` \(`aaaaaaaaaaaa`\)/);
  assert.match(md, /^- \*\*dev\*\* \(1 resource\): no changes — no risk found — policies pass$/m);
  assert.match(
    md,
    /^- \*\*staging\*\* \(2 resources\): 1 to replace, 1 to update, 0 unchanged — ⛔ \*\*data-loss\*\* — policies pass$/m,
  );
  assert.match(
    md,
    /#### Risks[\s\S]*\| staging \| `PersistentVolumeClaim` runtime-scratch \| replace \| \*\*data-loss\*\* \|/,
  );
  assert.match(md, /<details>\n<summary><b>staging<\/b>: 2 changed resources<\/summary>/);
  assert.match(md, /\*\*update\*\* `kubernetes:apps\/v1:Deployment` \*\*runtime-api\*\*/);
  assert.match(md, /\| `spec.template.spec.containers.0.env.0.value` \| `info` \| `debug` \|/);
  assert.match(md, /\| `spec.resources.requests.storage` \(replaces\) \| `10Gi` \| `20Gi` \|/);
});

test('without a base the Markdown lists the planned resources with their key inputs', () => {
  const md = renderMarkdown(plan(stackPlan('dev', undefined, [deployment('info')])));
  assert.match(md, /no base: every resource is planned as a create/);
  assert.match(
    md,
    /\*\*create\*\* `kubernetes:apps\/v1:Deployment` \*\*runtime-api\*\* — metadata.namespace=`archibald`/,
  );
  assert.doesNotMatch(md, /#### Risks/);
});

test('the Markdown stays under a PR comment size for thousands of changes', () => {
  const many = (level: string): PlannedResource[] =>
    Array.from({ length: 3000 }, (_, i) => ({
      ...deployment(level),
      urn: `${deployment(level).urn}-${i}`,
      name: `api-${i}`,
    }));
  const md = renderMarkdown(plan(stackPlan('prod', many('info'), many('debug'))));
  assert.ok(md.length < MARKDOWN_BUDGET + 2_000, `${md.length} characters`);
  assert.match(md, /more resources not shown/);
  assert.ok(md.length < 65_536);
});

test('the JSON carries stack, base, changes (urn, type, op, diffs, risk), cost and policy', () => {
  const one = JSON.parse(renderJson(plan(stackPlan('staging', [pvc('10Gi')], [pvc('20Gi')])))) as Record<
    string,
    unknown
  >;
  assert.equal(one.stack, 'staging');
  assert.deepEqual(one.base, { ref: 'main', commit: 'a'.repeat(40) });
  assert.equal(one.dataLoss, true);
  assert.equal(one.cost, null, 'no AWS resources: nothing priced');
  assert.deepEqual((one.policy as { violations: unknown[] }).violations, []);
  const [change] = one.changes as Record<string, unknown>[];
  assert.ok(change);
  for (const key of ['urn', 'type', 'op', 'diffs', 'risk']) assert.ok(key in change, key);
  assert.equal(change.op, 'replace');
  assert.deepEqual(
    (change.risk as { kind: string }[]).map((r) => r.kind),
    ['data-loss'],
  );
  const several = JSON.parse(
    renderJson(plan(stackPlan('dev', [pvc('1Gi')], [pvc('1Gi')]), stackPlan('prod', undefined, []))),
  ) as unknown[];
  assert.equal(several.length, 2, 'several stacks: an array of the per-stack objects');
  assert.deepEqual(
    (several[0] as { changes: unknown[] }).changes,
    [],
    'unchanged resources are only counted',
  );
});
