/**
 * What every paid provider call reports (Claude scripts, and any voice or image provider): the
 * process maps these onto its metrics and its delegation records. One shape for every provider, so
 * the stats, the dashboards and the budget treat them alike.
 */

/** ok: a usable answer; invalid: an answer that failed validation; error: failed after its retries. */
export type CallOutcome = 'ok' | 'invalid' | 'error';

/** circuit_open: cooling down after repeated failures; budget: the call could cross the video's budget. */
export type SkipReason = 'circuit_open' | 'budget';

/** What a provider bills by. */
export type UsageUnit = 'tokens' | 'characters' | 'images';

/** One call that reached the provider. */
export interface ProviderCall {
  /** anthropic, elevenlabs, fal, ... */
  provider: string;
  model: string;
  outcome: CallOutcome;
  latencyMs: number;
  /** Billed units of the call (zero when it failed before an answer). */
  units: number;
  unit: UsageUnit;
  costUsd: number;
}

/** The pipeline's tasks that a paid provider may serve, each with an offline fallback. */
export type ProviderTask = 'script' | 'narration' | 'visuals';

/**
 * A delegation step beyond single calls: an escalation from a model whose answer was unusable to
 * the provider's next model, a fallback from the provider's last model to the offline
 * implementation, and a response-cache lookup (a hit names the model that wrote the cached answer).
 */
export type DelegationEvent =
  | { kind: 'escalation'; task: ProviderTask; provider: string; model: string }
  | { kind: 'fallback'; task: ProviderTask; provider: string; model: string }
  | { kind: 'cache'; task: ProviderTask; provider: string; result: 'hit' | 'miss'; model?: string };

export interface ProviderEvents {
  call(call: ProviderCall): void;
  skip(provider: string, model: string, reason: SkipReason): void;
  /**
   * Who finally served a task for a video: `<provider>:<model>`, or the offline fallback's name
   * (offline-template, flite, gradients). A response-cache hit names the model that wrote it.
   */
  served(task: ProviderTask, by: string): void;
  /** Escalations, fallbacks and cache lookups (optional: a provider without them never calls it). */
  delegation?(event: DelegationEvent): void;
}
