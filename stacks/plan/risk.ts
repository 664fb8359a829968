/**
 * The risk of one change, from what the resource is and how it is guarded:
 *
 * - `data-loss`: a stateful resource (replacement.ts STATEFUL_TYPES) is deleted or replaced; its
 *   data does not move to the new resource (a retained one is orphaned, not migrated);
 * - `protected`: any change to a resource with Pulumi's `protect` (a replace or delete stops at
 *   `pulumi up` until an operator unprotects it);
 * - `deletion-protected`: any change to a resource the cloud guards against deletion
 *   (`deletionProtection`, a final snapshot).
 *
 * Pure: called by diff.ts for every change.
 */
import type { Change } from './diff.js';
import { STATEFUL_TYPES } from './replacement.js';
import type { PlannedResource } from './snapshot.js';

export type RiskKind = 'data-loss' | 'protected' | 'deletion-protected';

export interface RiskFlag {
  readonly kind: RiskKind;
  readonly reason: string;
}

/** The deletion guards a resource's inputs set. */
export function deletionGuards(r: PlannedResource): string[] {
  const guards: string[] = [];
  if (r.inputs.deletionProtection === true) guards.push('deletionProtection');
  if (typeof r.inputs.finalSnapshotIdentifier === 'string' && r.inputs.skipFinalSnapshot !== true)
    guards.push(`final snapshot ${r.inputs.finalSnapshotIdentifier}`);
  return guards;
}

export function assessRisk(
  change: Pick<Change, 'op' | 'type' | 'name' | 'reasons'>,
  before: PlannedResource | undefined,
  after: PlannedResource | undefined,
): RiskFlag[] {
  if (change.op === 'same' || change.op === 'create') return [];
  const flags: RiskFlag[] = [];
  if ((change.op === 'delete' || change.op === 'replace') && STATEFUL_TYPES.has(change.type)) {
    const why = change.op === 'replace' && change.reasons.length > 0 ? ` (${change.reasons.join('; ')})` : '';
    const retained = before?.retainOnDelete
      ? '; retainOnDelete keeps the old one orphaned, not migrated'
      : '';
    flags.push({
      kind: 'data-loss',
      reason: `${change.op === 'delete' ? 'deleting' : 'replacing'} ${change.type} ${change.name} loses its data${why}${retained}`,
    });
  }
  if (before?.protect || after?.protect)
    flags.push({
      kind: 'protected',
      reason: `${change.name} is protected: ${change.op === 'update' ? 'the update goes through, but review it' : `pulumi up stops at the ${change.op} until it is unprotected`}`,
    });
  const guards = before ? deletionGuards(before) : [];
  if (guards.length > 0)
    flags.push({
      kind: 'deletion-protected',
      reason: `${change.name} is guarded against deletion (${guards.join(', ')})`,
    });
  return flags;
}

export const hasDataLoss = (changes: readonly Pick<Change, 'risk'>[]): boolean =>
  changes.some((c) => c.risk.some((r) => r.kind === 'data-loss'));
