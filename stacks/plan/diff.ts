/**
 * Diffs two evaluations of a stack resource by resource, the way `pulumi preview` decides: a
 * resource is matched by URN (or by one of its aliases); its inputs are compared property by
 * property (minus `ignoreChanges`); a changed property that forces a replacement (replacement.ts,
 * or the resource's `replaceOnChanges`) or a provider that moves region makes it a `replace`.
 * A resource whose URN changed without an alias is a delete plus a create; when the pair can be
 * told (the same physical name, or the only resource of its type that left and arrived under one
 * component) it is reported as one `replace`.
 *
 * Pure functions, no Pulumi runtime: the unit tests call them with hand-built resources.
 */
import { forcesReplacement } from './replacement.js';
import { assessRisk } from './risk.js';
import type { RiskFlag } from './risk.js';
import type { PlannedResource } from './snapshot.js';
import { isMaskedSecret, shown } from './snapshot.js';

export type Operation = 'create' | 'update' | 'delete' | 'replace' | 'same';

export interface PropertyDiff {
  /** Dotted input path; `(urn)` and `(protect)` for the resource's identity and options. */
  readonly path: string;
  readonly before: unknown;
  readonly after: unknown;
  /** The replace-forcing property this change goes through, if it forces one. */
  readonly forcesReplacement?: string;
}

export interface Change {
  readonly urn: string;
  /** The URN the resource had at the base, when it changed. */
  readonly previousUrn?: string;
  readonly type: string;
  readonly name: string;
  readonly component: string;
  readonly op: Operation;
  /** Why the operation (for replace: what forces it). */
  readonly reasons: readonly string[];
  readonly diffs: readonly PropertyDiff[];
  readonly risk: readonly RiskFlag[];
}

type Json = unknown;

const isObject = (v: Json): v is Record<string, Json> =>
  v !== null && typeof v === 'object' && !Array.isArray(v);

/** Leaf-level differences between two input trees (arrays of equal length compared per index). */
export function diffValues(
  before: Json,
  after: Json,
  path = '',
): { path: string; before: Json; after: Json }[] {
  if (before === after) return [];
  if (isObject(before) && isObject(after)) {
    const keys = [...new Set([...Object.keys(before), ...Object.keys(after)])].sort();
    return keys.flatMap((k) => diffValues(before[k], after[k], path ? `${path}.${k}` : k));
  }
  if (Array.isArray(before) && Array.isArray(after) && before.length === after.length)
    return before.flatMap((b, i) => diffValues(b, after[i], path ? `${path}.${i}` : String(i)));
  if (JSON.stringify(before) === JSON.stringify(after)) return [];
  return [{ path: path || '(inputs)', before, after }];
}

const ignored = (path: string, ignoreChanges: readonly string[]): boolean =>
  ignoreChanges.some((p) => path === p || path.startsWith(`${p}.`) || p === '*');

/** The physical name a resource claims in its cloud or cluster, if its inputs give one. */
export function physicalName(r: PlannedResource): string | undefined {
  const i = r.inputs;
  const metadata = isObject(i.metadata) ? i.metadata : undefined;
  if (metadata && typeof metadata.name === 'string')
    return `${typeof metadata.namespace === 'string' ? metadata.namespace : ''}/${metadata.name}`;
  for (const k of ['identifier', 'clusterIdentifier', 'bucket', 'replicationGroupId', 'name']) {
    const v = i[k];
    if (typeof v === 'string' && v !== '' && !isMaskedSecret(v)) return v;
  }
  return undefined;
}

/** Pairs resources that left (`deleted`) with ones that arrived (`created`) under a new URN. */
export function pairRenames(
  deleted: readonly PlannedResource[],
  created: readonly PlannedResource[],
  componentMap: ReadonlyMap<string, string>,
): [PlannedResource, PlannedResource][] {
  const pairs: [PlannedResource, PlannedResource][] = [];
  const left = new Set(deleted);
  const arrived = new Set(created);
  // 1. The same type claiming the same physical name.
  for (const d of deleted) {
    const name = physicalName(d);
    if (name === undefined) continue;
    const match = [...arrived].find((c) => c.type === d.type && physicalName(c) === name);
    if (match) {
      pairs.push([d, match]);
      left.delete(d);
      arrived.delete(match);
    }
  }
  // 2. The only resource of its type that left one component and the only one that arrived there.
  const key = (type: string, component: string): string => `${type}\u0000${component}`;
  const groups = new Map<string, { d: PlannedResource[]; c: PlannedResource[] }>();
  for (const d of left) {
    const g = groups.get(key(d.type, componentMap.get(d.component) ?? d.component)) ?? { d: [], c: [] };
    g.d.push(d);
    groups.set(key(d.type, componentMap.get(d.component) ?? d.component), g);
  }
  for (const c of arrived) {
    const g = groups.get(key(c.type, c.component));
    if (g) g.c.push(c);
  }
  for (const g of groups.values()) if (g.d.length === 1 && g.c.length === 1) pairs.push([g.d[0]!, g.c[0]!]);
  return pairs;
}

/** One resource matched across the two evaluations. */
function compare(
  before: PlannedResource,
  after: PlannedResource,
  replacedProviders: ReadonlyMap<string, string>,
  renamed: boolean,
): Omit<Change, 'risk'> {
  const diffs: PropertyDiff[] = [];
  const reasons: string[] = [];
  if (renamed) {
    diffs.push({ path: '(urn)', before: before.urn, after: after.urn, forcesReplacement: '(urn)' });
    reasons.push('URN changed without an alias: Pulumi deletes the old resource and creates a new one');
  }
  for (const d of diffValues(before.inputs, after.inputs)) {
    if (ignored(d.path, after.ignoreChanges)) continue;
    const forcing = forcesReplacement(after.type, d.path, after.replaceOnChanges);
    diffs.push({ ...d, ...(forcing.length > 0 ? { forcesReplacement: forcing[0] || '*' } : {}) });
  }
  if (before.protect !== after.protect)
    diffs.push({ path: '(protect)', before: before.protect, after: after.protect });
  const forced = [
    ...new Set(diffs.filter((d) => d.forcesReplacement && d.path !== '(urn)').map((d) => d.path)),
  ];
  if (forced.length > 0) reasons.push(`${forced.join(', ')} cannot change in place`);
  const providerReason = after.provider ? replacedProviders.get(after.provider) : undefined;
  if (providerReason) reasons.push(providerReason);
  const op: Operation = reasons.length > 0 ? 'replace' : diffs.length > 0 ? 'update' : 'same';
  return {
    urn: after.urn,
    ...(before.urn !== after.urn ? { previousUrn: before.urn } : {}),
    type: after.type,
    name: after.name,
    component: after.component,
    op,
    reasons,
    diffs: diffs.map((d) => ({ ...d, before: shown(d.before), after: shown(d.after) })),
  };
}

/**
 * The changes from `base` to `head`; without a base every resource is a `create`. Changes come in
 * the head's registration order, deletions (in the base's order) last.
 */
export function diffResources(
  base: readonly PlannedResource[] | undefined,
  head: readonly PlannedResource[],
): Change[] {
  const withRisk = (c: Omit<Change, 'risk'>, b?: PlannedResource, h?: PlannedResource): Change => ({
    ...c,
    risk: assessRisk(c, b, h),
  });
  const creation = (h: PlannedResource): Change =>
    withRisk(
      {
        urn: h.urn,
        type: h.type,
        name: h.name,
        component: h.component,
        op: 'create',
        reasons: [],
        diffs: [],
      },
      undefined,
      h,
    );
  if (!base) {
    return head.map((h) => creation(h));
  }
  const baseByUrn = new Map(base.map((b) => [b.urn, b]));
  const matched = new Map<PlannedResource, PlannedResource>(); // head -> base
  const claimed = new Set<PlannedResource>();
  for (const h of head) {
    const b =
      baseByUrn.get(h.urn) ?? h.aliases.map((a) => baseByUrn.get(a)).find((x) => x && !claimed.has(x));
    if (b && !claimed.has(b)) {
      matched.set(h, b);
      claimed.add(b);
    }
  }
  // Components that kept their URN or were aliased map base component URN -> head component URN.
  const componentMap = new Map<string, string>();
  for (const [h, b] of matched) if (!h.custom) componentMap.set(b.urn, h.urn);
  const deleted = base.filter((b) => !claimed.has(b));
  const created = head.filter((h) => !matched.has(h));
  const renames = new Map<PlannedResource, PlannedResource>(); // head -> base
  for (const [d, c] of pairRenames(deleted, created, componentMap)) renames.set(c, d);

  // Providers whose region moved replace every resource they manage.
  const replacedProviders = new Map<string, string>();
  for (const h of head) {
    const b = matched.get(h) ?? renames.get(h);
    if (!b || !h.type.startsWith('pulumi:providers:')) continue;
    const forcing = diffValues(b.inputs, h.inputs).filter(
      (d) => forcesReplacement(h.type, d.path).length > 0,
    );
    if (forcing.length > 0)
      replacedProviders.set(
        h.urn,
        `its provider ${h.name} changes ${forcing.map((d) => `${d.path} ${String(shown(d.before))} → ${String(shown(d.after))}`).join(', ')}: the resource is recreated there`,
      );
  }

  const changes: Change[] = [];
  for (const h of head) {
    const b = matched.get(h) ?? renames.get(h);
    if (b) changes.push(withRisk(compare(b, h, replacedProviders, !matched.has(h)), b, h));
    else changes.push(creation(h));
  }
  const renamedBases = new Set(renames.values());
  for (const d of deleted) {
    if (renamedBases.has(d)) continue;
    changes.push(
      withRisk(
        {
          urn: d.urn,
          type: d.type,
          name: d.name,
          component: d.component,
          op: 'delete',
          reasons: [],
          diffs: [],
        },
        d,
        undefined,
      ),
    );
  }
  return changes;
}

export interface ChangeSummary {
  readonly create: number;
  readonly update: number;
  readonly replace: number;
  readonly delete: number;
  readonly same: number;
}

export function summarize(changes: readonly Change[]): ChangeSummary {
  const count = (op: Operation): number => changes.filter((c) => c.op === op).length;
  return {
    create: count('create'),
    update: count('update'),
    replace: count('replace'),
    delete: count('delete'),
    same: count('same'),
  };
}
