/**
 * The tests' view of a stack evaluation. The evaluation itself (the real program under Pulumi's
 * mocks) lives in stacks/plan/evaluate.ts, the one path the tests, the benchmarks and
 * `npm run plan` share; this file adds the queries the tests make over it.
 *
 * Pulumi's runtime is global per process, so call evaluateStack once per test file.
 */
import type { Evaluation, RegisteredResource } from '../../stacks/plan/evaluate.js';

export * from '../../stacks/plan/evaluate.js';

// ---- queries over an evaluation ----

export function ofType(e: Evaluation, type: string): RegisteredResource[] {
  return e.resources.filter((r) => r.type === type);
}

export function one(e: Evaluation, type: string, name?: string): RegisteredResource {
  const found = ofType(e, type).filter((r) => name === undefined || r.name === name);
  if (found.length !== 1)
    throw new Error(`expected one ${type}${name ? ` named ${name}` : ''}, found ${found.length}`);
  return found[0] as RegisteredResource;
}

export function countByType(e: Evaluation): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const r of e.resources) counts[r.type] = (counts[r.type] ?? 0) + 1;
  return Object.fromEntries(Object.entries(counts).sort(([a], [b]) => a.localeCompare(b)));
}

/** Follows a dotted path through nested inputs ("spec.template.spec"). */
export function at(value: unknown, path: string): unknown {
  return path
    .split('.')
    .reduce<unknown>(
      (v, key) => (v !== null && typeof v === 'object' ? (v as Record<string, unknown>)[key] : undefined),
      value,
    );
}

export function kubernetesObject(e: Evaluation, kind: string, name: string): RegisteredResource {
  const found = e.resources.filter(
    (r) =>
      r.type.startsWith('kubernetes:') &&
      r.type.endsWith(`:${kind}`) &&
      at(r.inputs, 'metadata.name') === name,
  );
  if (found.length !== 1) throw new Error(`expected one ${kind} ${name}, found ${found.length}`);
  return found[0] as RegisteredResource;
}

/** A registered resource built by hand, for tests of the checks themselves (not of a stack). */
export function probeResource(
  type: string,
  inputs: Record<string, unknown>,
  name = 'probe',
): RegisteredResource {
  return {
    type,
    name,
    urn: `urn:pulumi:test::archibald::${name}`,
    id: name,
    parent: '',
    provider: '',
    custom: true,
    protect: false,
    retainOnDelete: false,
    aliases: [],
    ignoreChanges: [],
    replaceOnChanges: [],
    dependencies: [],
    inputs,
    secretPaths: [],
    outputs: inputs,
  };
}
