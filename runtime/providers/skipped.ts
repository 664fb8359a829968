import type { SkipReason } from './provider-events.js';

/**
 * A paid provider was not called (its circuit is open, or the call could cross the video's budget):
 * the caller falls back to its offline implementation, as it does after a failed call.
 */
export class ProviderSkipped extends Error {
  constructor(
    readonly provider: string,
    readonly model: string,
    readonly reason: SkipReason,
  ) {
    super(
      `${provider} ${model} skipped: ${reason === 'budget' ? "the video's budget" : 'its circuit is open'}`,
    );
    this.name = 'ProviderSkipped';
  }
}
