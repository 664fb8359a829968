/**
 * The plan as Markdown sized for a pull-request comment (GitHub caps a comment at 65,536
 * characters; this stays under MARKDOWN_BUDGET) and as JSON for machines. Pure functions over a Plan.
 *
 * JSON, one object per stack (an array of them when several stacks are planned):
 *   { stack, base: { ref, commit } | null, head: { commit, dirty }, resources, summary, dataLoss,
 *     risks: [{ urn, kind, reason }], changes: [{ urn, previousUrn?, type, name, component, op,
 *     reasons, diffs: [{ path, before, after, forcesReplacement? }], risk: [{ kind, reason }],
 *     keyInputs }],
 *   cost: { monthlyUsd, baseMonthlyUsd, deltaUsd, region, asOf, unpriced, lines: [{ urn, type, name,
 *     item, monthlyUsd, prices }], changedLines: [{ urn, name, item, beforeUsd, afterUsd }] } | null,
 *   policy: { pack, config, levels, mandatory, advisory, violations: [{ policy, level, urn, type,
 *     name, message }] } }
 * `changes` leaves out unchanged resources (counted in `summary.same`). `cost` is null for a stack
 * without AWS (dev: a local kind cluster); `deltaUsd` is null without a base.
 */
import type { CostLine, StackCost } from './cost.js';
import type { Plan, PlannedChange, StackPlan } from './plan.js';
import type { PolicyReport } from '../../policy/rules.js';

export const MARKDOWN_BUDGET = 60_000;
const MAX_DIFF_ROWS = 15;
const VALUE_WIDTH = 70;

export interface StackJson {
  readonly stack: string;
  readonly base: StackPlan['base'];
  readonly head: StackPlan['head'];
  readonly resources: number;
  readonly summary: StackPlan['summary'];
  readonly dataLoss: boolean;
  readonly risks: readonly { urn: string; kind: string; reason: string }[];
  readonly changes: readonly PlannedChange[];
  readonly cost: CostJson | null;
  readonly policy: PolicyReport;
}

export interface CostJson {
  readonly monthlyUsd: number;
  readonly baseMonthlyUsd: number | null;
  readonly deltaUsd: number | null;
  readonly region: string;
  readonly asOf: string;
  readonly unpriced: readonly string[];
  readonly lines: readonly CostLine[];
  /** Lines whose cost differs between base and head (keyed by URN and item kind). */
  readonly changedLines: readonly {
    urn: string;
    name: string;
    item: string;
    beforeUsd: number;
    afterUsd: number;
  }[];
}

const round2 = (n: number): number => Math.round(n * 100) / 100;

function lineTotals(c: StackCost | null): Map<string, { usd: number; line: CostLine }> {
  const m = new Map<string, { usd: number; line: CostLine }>();
  for (const l of c?.lines ?? []) {
    const prev = m.get(l.urn);
    m.set(l.urn, { usd: (prev?.usd ?? 0) + l.monthlyUsd, line: prev?.line ?? l });
  }
  return m;
}

export function costJson(s: StackPlan): CostJson | null {
  const head = s.cost.head;
  const base = s.cost.base;
  if (!head && !base) return null;
  const before = lineTotals(base);
  const after = lineTotals(head);
  const changedLines = [...new Set([...before.keys(), ...after.keys()])]
    .map((urn) => {
      const b = before.get(urn);
      const a = after.get(urn);
      const line = (a ?? b)?.line;
      return {
        urn,
        name: line?.name ?? '',
        item: line?.item ?? '',
        beforeUsd: round2(b?.usd ?? 0),
        afterUsd: round2(a?.usd ?? 0),
      };
    })
    .filter((l) => base !== null && l.beforeUsd !== l.afterUsd)
    .sort((x, y) => Math.abs(y.afterUsd - y.beforeUsd) - Math.abs(x.afterUsd - x.beforeUsd));
  return {
    monthlyUsd: head?.monthlyUsd ?? 0,
    baseMonthlyUsd: base ? base.monthlyUsd : null,
    deltaUsd: s.base && base ? round2((head?.monthlyUsd ?? 0) - base.monthlyUsd) : null,
    region: (head ?? base)?.region ?? '',
    asOf: (head ?? base)?.asOf ?? '',
    unpriced: head?.unpriced ?? [],
    lines: head?.lines ?? [],
    changedLines,
  };
}

export function stackJson(s: StackPlan): StackJson {
  const changes = s.changes.filter((c) => c.op !== 'same');
  return {
    stack: s.stack,
    base: s.base,
    head: s.head,
    resources: s.resources,
    summary: s.summary,
    dataLoss: s.dataLoss,
    risks: changes.flatMap((c) => c.risk.map((r) => ({ urn: c.urn, kind: r.kind, reason: r.reason }))),
    changes,
    cost: costJson(s),
    policy: s.policy,
  };
}

export function renderJson(plan: Plan): string {
  const docs = plan.stacks.map(stackJson);
  return `${JSON.stringify(docs.length === 1 ? docs[0] : docs, null, 2)}\n`;
}

// ---- Markdown ----

export const usd = (n: number): string =>
  `$${n.toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 })}`;
export const signed = (n: number): string => (n > 0 ? `+${usd(n)}` : n < 0 ? `−${usd(-n)}` : '±$0.00');
const TOP_COST_LINES = 5;

function costSection(plan: Plan): string[] {
  const costs = plan.stacks.map((s) => ({ s, c: costJson(s) }));
  if (costs.every((x) => x.c === null)) return [];
  const out = ['#### Monthly cost', ''];
  const withBase = plan.stacks.some((s) => s.base);
  out.push(
    withBase ? '| stack | base | head | delta |' : '| stack | monthly |',
    withBase ? '| --- | ---: | ---: | ---: |' : '| --- | ---: |',
  );
  for (const { s, c } of costs) {
    if (!c) {
      const why = s.cost.unpricedRegion
        ? `unknown: no price table for ${s.cost.unpricedRegion} (stacks/pricing/aws-${s.cost.unpricedRegion}.json)`
        : 'no AWS resources';
      out.push(withBase ? `| ${s.stack} | — | — | ${why} |` : `| ${s.stack} | ${why} |`);
      continue;
    }
    out.push(
      withBase
        ? `| ${s.stack} | ${c.baseMonthlyUsd === null ? '— (no price table at the base)' : usd(c.baseMonthlyUsd)} | ${usd(c.monthlyUsd)} | **${c.deltaUsd === null ? 'unknown' : signed(c.deltaUsd)}** |`
        : `| ${s.stack} | ${usd(c.monthlyUsd)} |`,
    );
  }
  out.push('');
  for (const { s, c } of costs) {
    if (!c) continue;
    const changed = c.changedLines.slice(0, TOP_COST_LINES);
    if (changed.length > 0) {
      out.push(`**${s.stack}**, what moves the cost:`, '');
      for (const l of changed)
        out.push(
          `- ${l.name}: ${usd(l.beforeUsd)} → ${usd(l.afterUsd)} (${signed(round2(l.afterUsd - l.beforeUsd))}) — ${l.item}`,
        );
      out.push('');
    }
    out.push(
      `<details><summary><b>${s.stack}</b>: largest lines of ${usd(c.monthlyUsd)}/month</summary>`,
      '',
      ...c.lines.slice(0, TOP_COST_LINES).map((l) => `- ${usd(l.monthlyUsd)} ${l.name} — ${l.item}`),
      '',
      `_${c.region} on-demand list prices as of ${c.asOf} (stacks/pricing/aws-${c.region}.json, each figure with its source); usage-priced lines use the table's stated assumptions._${c.unpriced.length > 0 ? ` Not in the table, priced at $0: ${c.unpriced.join(', ')}.` : ''}`,
      '',
      '</details>',
      '',
    );
  }
  return out;
}

const MAX_POLICY_ROWS = 40;

function policySection(plan: Plan): string[] {
  const out = ['#### Policy', ''];
  const rows = plan.stacks.flatMap((s) => s.policy.violations.map((v) => ({ stack: s.stack, v })));
  for (const s of plan.stacks)
    out.push(
      `- **${s.stack}**: ${s.policy.mandatory} mandatory, ${s.policy.advisory} advisory violation${s.policy.mandatory + s.policy.advisory === 1 ? '' : 's'} (${s.policy.config ?? 'default levels'})`,
    );
  out.push('');
  if (rows.length > 0) {
    out.push('| stack | level | policy | resource | violation |', '| --- | --- | --- | --- | --- |');
    const sorted = [...rows].sort(
      (a, b) => Number(b.v.level === 'mandatory') - Number(a.v.level === 'mandatory'),
    );
    for (const { stack, v } of sorted.slice(0, MAX_POLICY_ROWS))
      out.push(
        `| ${stack} | ${v.level === 'mandatory' ? '⛔ mandatory' : 'advisory'} | \`${v.policy}\` | \`${v.type.split(':').pop() ?? v.type}\` ${v.name} | ${v.message.replace(/\|/g, '\\|')} |`,
      );
    if (sorted.length > MAX_POLICY_ROWS)
      out.push(`| … | | ${sorted.length - MAX_POLICY_ROWS} more (see --json) | | |`);
    out.push('');
  }
  return out;
}

const OP_ORDER = ['delete', 'replace', 'update', 'create'] as const;
const OP_WORD: Record<string, string> = {
  create: 'to create',
  update: 'to update',
  replace: 'to replace',
  delete: 'to delete',
};

function code(value: unknown): string {
  let text = typeof value === 'string' ? value : value === undefined ? '(absent)' : JSON.stringify(value);
  if (text.length > VALUE_WIDTH) text = `${text.slice(0, VALUE_WIDTH - 1)}…`;
  return `\`${text.replace(/`/g, "'").replace(/\|/g, '\\|')}\``;
}

/** "1 to update, 2 to replace, 66 unchanged". */
export function summaryLine(s: StackPlan): string {
  const parts = OP_ORDER.filter((op) => s.summary[op] > 0).map((op) => `${s.summary[op]} ${OP_WORD[op]}`);
  if (s.base) parts.push(`${s.summary.same} unchanged`);
  const risks = s.changes.flatMap((c) => c.risk);
  const flags = [...new Set(risks.map((r) => r.kind))];
  const risk = s.dataLoss
    ? ' — ⛔ **data-loss**'
    : flags.length > 0
      ? ` — ⚠️ ${flags.join(', ')}`
      : s.base
        ? ' — no risk found'
        : '';
  const changed = s.base && parts.length === 1 ? 'no changes' : parts.join(', ');
  const cost = costJson(s);
  const money = cost
    ? ` — ${usd(cost.monthlyUsd)}/month${cost.deltaUsd !== null ? ` (${signed(cost.deltaUsd)})` : ''}`
    : '';
  const policy =
    s.policy.mandatory > 0
      ? ` — ⛔ ${s.policy.mandatory} mandatory policy violation${s.policy.mandatory === 1 ? '' : 's'}`
      : s.policy.advisory > 0
        ? ` — ${s.policy.advisory} advisory policy violation${s.policy.advisory === 1 ? '' : 's'}`
        : ' — policies pass';
  return `- **${s.stack}** (${s.resources} resource${s.resources === 1 ? '' : 's'}): ${changed}${risk}${money}${policy}`;
}

function componentLabel(urn: string): string {
  if (!urn) return 'stack';
  const parts = urn.split('::');
  const type = (parts[2] ?? '').split('$').pop() ?? '';
  return `${parts[3] ?? urn} (\`${type}\`)`;
}

function changeLines(c: PlannedChange): string[] {
  const inputs = Object.entries(c.keyInputs)
    .map(([k, v]) => `${k}=${code(v)}`)
    .join(' ');
  const risk =
    c.risk.length > 0 ? ` ${c.risk.map((r) => (r.kind === 'data-loss' ? '⛔' : '⚠️')).join('')}` : '';
  const lines = [`- **${c.op}** \`${c.type}\` **${c.name}**${risk}${inputs ? ` — ${inputs}` : ''}`];
  if (c.previousUrn) lines.push(`  - was \`${c.previousUrn}\``);
  for (const reason of c.reasons) lines.push(`  - ${reason}`);
  const rows = c.diffs.filter((d) => d.path !== '(urn)');
  if (rows.length > 0) {
    lines.push('', '  | property | before | after |', '  | --- | --- | --- |');
    for (const d of rows.slice(0, MAX_DIFF_ROWS))
      lines.push(
        `  | \`${d.path}\`${d.forcesReplacement ? ' (replaces)' : ''} | ${code(d.before)} | ${code(d.after)} |`,
      );
    if (rows.length > MAX_DIFF_ROWS)
      lines.push(`  | … ${rows.length - MAX_DIFF_ROWS} more (see --json) | | |`);
    lines.push('');
  }
  return lines;
}

function stackDetails(s: StackPlan, budget: number): string {
  const shown = s.changes.filter((c) => c.op !== 'same');
  const title = s.base
    ? `<b>${s.stack}</b>: ${shown.length} changed resource${shown.length === 1 ? '' : 's'}`
    : `<b>${s.stack}</b>: ${s.resources} planned resources`;
  const out: string[] = ['<details>', `<summary>${title}</summary>`, ''];
  const byComponent = new Map<string, PlannedChange[]>();
  for (const c of shown) byComponent.set(c.component, [...(byComponent.get(c.component) ?? []), c]);
  let used = out.join('\n').length;
  let left = shown.length;
  for (const [component, changes] of byComponent) {
    const block = [`**${componentLabel(component)}**`, '', ...changes.flatMap(changeLines), ''].join('\n');
    if (used + block.length > budget) {
      out.push(
        `_… ${left} more resources not shown (the comment's size limit); run with --json for all of them._`,
        '',
      );
      break;
    }
    out.push(block);
    used += block.length;
    left -= changes.length;
  }
  out.push('</details>');
  return out.join('\n');
}

export function renderMarkdown(plan: Plan): string {
  const first = plan.stacks[0];
  const against = first?.base
    ? ` against \`${first.base.ref}\` (\`${first.base.commit.slice(0, 12)}\`)`
    : ' (no base: every resource is planned as a create)';
  const out: string[] = [`### Plan: ${plan.stacks.map((s) => `\`${s.stack}\``).join(', ')}${against}`, ''];
  out.push(...plan.stacks.map(summaryLine), '');
  const risks = plan.stacks.flatMap((s) =>
    s.changes.flatMap((c) => c.risk.map((r) => ({ stack: s.stack, change: c, risk: r }))),
  );
  if (plan.stacks.some((s) => s.base)) {
    out.push('#### Risks', '');
    if (risks.length === 0)
      out.push('None: no stateful resource is deleted or replaced, no guarded resource changes.', '');
    else {
      out.push('| stack | resource | op | risk | why |', '| --- | --- | --- | --- | --- |');
      const sorted = [...risks].sort(
        (a, b) => Number(b.risk.kind === 'data-loss') - Number(a.risk.kind === 'data-loss'),
      );
      for (const r of sorted.slice(0, 60))
        out.push(
          `| ${r.stack} | \`${r.change.type.split(':').pop() ?? r.change.type}\` ${r.change.name} | ${r.change.op} | **${r.risk.kind}** | ${r.risk.reason.replace(/\|/g, '\\|')} |`,
        );
      if (sorted.length > 60) out.push(`| … | ${sorted.length - 60} more (see --json) | | | |`);
      out.push('');
    }
  }
  out.push(...costSection(plan), ...policySection(plan));
  out.push('#### Changes', '');
  const head = out.join('\n');
  const perStack = Math.max(
    2_000,
    Math.floor((MARKDOWN_BUDGET - head.length) / Math.max(1, plan.stacks.length)),
  );
  for (const s of plan.stacks) {
    if (s.base && s.changes.every((c) => c.op === 'same')) {
      out.push(`<details><summary><b>${s.stack}</b>: no changes</summary></details>`, '');
      continue;
    }
    out.push(stackDetails(s, perStack - 50), '');
  }
  const generated = plan.stacks[0]?.head.commit
    ? `_Generated by \`npm run plan\` at \`${plan.stacks[0].head.commit.slice(0, 12)}\`${plan.stacks[0].head.dirty ? ' (with uncommitted changes)' : ''} from the program under Pulumi's mocks; risks and replacements follow stacks/plan/replacement.ts._`
    : '';
  if (generated) out.push(generated, '');
  return out.join('\n');
}
