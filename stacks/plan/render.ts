/**
 * The plan as Markdown sized for a pull-request comment (GitHub caps a comment at 65,536
 * characters; this stays under MARKDOWN_BUDGET) and as JSON for machines. Pure functions over a Plan.
 *
 * JSON, one object per stack (an array of them when several stacks are planned):
 *   { stack, base: { ref, commit } | null, head: { commit, dirty }, resources, summary, dataLoss,
 *     risks: [{ urn, kind, reason }], changes: [{ urn, previousUrn?, type, name, component, op,
 *     reasons, diffs: [{ path, before, after, forcesReplacement? }], risk: [{ kind, reason }],
 *     keyInputs }], cost: null, policy: null }
 * `changes` leaves out unchanged resources (counted in `summary.same`). `cost` and `policy` are filled
 * by the cost table and the policy pack when they are wired in.
 */
import type { Plan, PlannedChange, StackPlan } from './plan.js';

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
  /** Monthly cost estimate: a later slice (price table). */
  readonly cost: null;
  /** Policy verdicts: a later slice (CrossGuard pack). */
  readonly policy: null;
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
    cost: null,
    policy: null,
  };
}

export function renderJson(plan: Plan): string {
  const docs = plan.stacks.map(stackJson);
  return `${JSON.stringify(docs.length === 1 ? docs[0] : docs, null, 2)}\n`;
}

// ---- Markdown ----

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
  return `- **${s.stack}** (${s.resources} resource${s.resources === 1 ? '' : 's'}): ${changed}${risk}`;
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
