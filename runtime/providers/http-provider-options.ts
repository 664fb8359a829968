import type { UnitPriceTable } from './media-prices.js';
import type { ProviderEvents } from './provider-events.js';

/** How a paid HTTP provider (a voice, the stills) is set up: the same knobs for each. */
export interface HttpProviderOptions {
  /** Read at each video, so a rotated key file is picked up. */
  apiKey: () => string;
  baseUrl?: string;
  model?: string;
  /** What one video may spend on paid providers, in US dollars. */
  budgetUsd: number;
  prices?: UnitPriceTable;
  /** Per attempt of a request, in milliseconds (each provider sets its default). */
  timeoutMs?: number;
  /** Retries of a refused connection, 408/409/429 and 5xx per request (default 2). */
  maxRetries?: number;
  /** Requests at once (default 3: below the concurrency of the providers' smaller plans). */
  concurrency?: number;
  /** Consecutive failures that open the model's circuit (default 3). */
  circuitFailures?: number;
  /** How long an open circuit skips the model, in milliseconds (default 60 000). */
  circuitCooldownMs?: number;
  events?: ProviderEvents;
}
