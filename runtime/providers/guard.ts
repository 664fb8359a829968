/**
 * The checks before a paid provider call and the record of a failed one, the same for every
 * provider (Claude, ElevenLabs, FAL):
 *
 * - `admit`: the model's circuit must admit the call (a half-open one admits one trial) and its
 *   most expensive outcome must fit the video's budget; otherwise the skip is reported and logged,
 *   and the caller falls back (or escalates).
 * - `callFailed`: a call that failed after its retries is reported and counts against the circuit;
 *   one stopped by the job's or a sibling's abort is no failure of the provider's.
 */
import type { Logger } from 'pino';
import type { CircuitBreaker } from './circuit-breaker.js';
import type { ProviderEvents, SkipReason, UsageUnit } from './provider-events.js';

export interface Admission {
  provider: string;
  model: string;
  circuits: CircuitBreaker;
  /** The most the call (or the set of calls) may cost, in US dollars. */
  estimateUsd: number;
  /** What the video has spent so far. */
  spentUsd: number;
  budgetUsd: number;
  events?: ProviderEvents | undefined;
  log?: Logger | undefined;
  /** Anything else the caller reports on a skip (the script writer's trace event). */
  onSkip?: (reason: SkipReason) => void;
}

/** Undefined when the call may go; else why it is skipped (already reported). */
export function admit(a: Admission): SkipReason | undefined {
  // The budget first: a half-open circuit's trial is only taken by a call that will be made.
  let reason: SkipReason | undefined;
  if (a.circuits.isOpen(a.model)) reason = 'circuit_open';
  else if (a.spentUsd + a.estimateUsd > a.budgetUsd) reason = 'budget';
  else if (!a.circuits.admit(a.model)) reason = 'circuit_open';
  if (!reason) return undefined;
  a.events?.skip(a.provider, a.model, reason);
  a.onSkip?.(reason);
  if (reason === 'budget')
    a.log?.warn(
      {
        provider: a.provider,
        model: a.model,
        spent: a.spentUsd,
        estimate: a.estimateUsd,
        budget: a.budgetUsd,
      },
      'provider skipped: the video budget',
    );
  else a.log?.warn({ provider: a.provider, model: a.model }, 'provider skipped: its circuit is open');
  return reason;
}

export interface FailedCall {
  provider: string;
  model: string;
  unit: UsageUnit;
  /** performance.now() when the call started. */
  started: number;
  /** The signal the call ran under: aborted means it was stopped, not that it failed. */
  signal: AbortSignal;
  circuits: CircuitBreaker;
  events?: ProviderEvents | undefined;
}

/** Reports a call that failed after its retries and counts it against the model's circuit. */
export function callFailed(c: FailedCall): void {
  if (c.signal.aborted) return;
  c.events?.call({
    provider: c.provider,
    model: c.model,
    outcome: 'error',
    latencyMs: performance.now() - c.started,
    units: 0,
    unit: c.unit,
    costUsd: 0,
  });
  c.circuits.failed(c.model);
}

export interface AnsweredCall extends Omit<FailedCall, 'signal'> {
  outcome: 'ok' | 'invalid';
  units: number;
  costUsd: number;
  /** Records the spend on the video (the stage's addCost). */
  addCost?: ((provider: string, usd: number) => void) | undefined;
}

/**
 * Reports a call the provider answered: its circuit closes (a half-open trial settles) and, since
 * an answer is billed, its cost is recorded at once, before anything after it can fail.
 */
export function callAnswered(c: AnsweredCall): void {
  c.circuits.succeeded(c.model);
  c.addCost?.(c.provider, c.costUsd);
  c.events?.call({
    provider: c.provider,
    model: c.model,
    outcome: c.outcome,
    latencyMs: performance.now() - c.started,
    units: c.units,
    unit: c.unit,
    costUsd: c.costUsd,
  });
}
