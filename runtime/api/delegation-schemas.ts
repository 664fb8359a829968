/**
 * Response schemas of the delegation endpoints (/delegation/stats, /memory/patterns); fastify
 * serialises with them and the OpenAPI document shows them.
 */
import Type from 'typebox';
import { DURATION_BANDS, TOPIC_CLASSES } from '../stages/script/delegation.js';
import { STYLES } from '../pipeline/stage.js';
import { Nullable } from './schemas.js';

const Count = (description: string) => Type.Integer({ minimum: 0, description });
const CircuitStateSchema = Type.Enum(['closed', 'open', 'half_open'], {
  description:
    'The worst state any live worker reports for the model: open (skipped), half_open (next call is a trial), closed.',
});

export const ModelStatsView = Type.Object({
  provider: Type.String(),
  model: Type.String(),
  calls: Count('Calls that reached the provider.'),
  successes: Count('Calls with a usable answer.'),
  validationFailures: Count('Answers that failed validation.'),
  errors: Count('Calls that failed after their retries.'),
  escalations: Count("Tasks moved to the provider's next model after this model's unusable answer."),
  fallbacks: Count("Tasks that went to the offline fallback after this (the provider's last) model."),
  skips: Count('Times the model was not called (open circuit, budget).'),
  circuit: CircuitStateSchema,
  latencyP50Ms: Nullable(Type.Number({ description: 'Median call latency, retries included.' })),
  latencyP95Ms: Nullable(Type.Number({ description: '95th percentile call latency.' })),
  units: Type.Record(Type.String(), Type.Number(), {
    description: 'Billed units by unit: tokens, characters, images.',
  }),
  costUsd: Type.Number({ description: 'Spend on this model in US dollars.' }),
  cacheHits: Count('Requests served from the response cache with an answer this model wrote.'),
});

const CostWindow = Type.Object({
  videos: Count('Videos completed in the window.'),
  averageCostUsd: Nullable(Type.Number({ description: 'Their average recorded cost; null without videos.' })),
});

export const DelegationStatsView = Type.Object({
  since: Type.String({
    format: 'date-time',
    description: 'Start of the figures: records are kept for PROVIDER_CALL_RETENTION_HOURS.',
  }),
  models: Type.Array(ModelStatsView),
  cache: Type.Record(
    Type.String({ description: 'The task: script.' }),
    Type.Object({
      hits: Count('Lookups that reused an answer at no cost.'),
      misses: Count('Lookups that found nothing.'),
      hitRate: Nullable(Type.Number({ minimum: 0, maximum: 1 })),
    }),
  ),
  costPerCompletedVideo: Type.Object({ lastHour: CostWindow, lastDay: CostWindow }),
});

export const PatternView = Type.Object({
  style: Type.Enum([...STYLES]),
  durationBand: Type.Enum([...DURATION_BANDS], { description: 'short ≤ 90 s, medium ≤ 300 s, long above.' }),
  topicClass: Type.Enum([...TOPIC_CLASSES], { description: "The topic's class, from its words." }),
  choice: Type.Enum(['cheap', 'premium'], { description: 'Where delegation starts the next write.' }),
  writes: Count('Scripts written for the pattern (cache hits not counted).'),
  cheapAttempts: Count('Answers from the cheap model.'),
  cheapSuccesses: Count('Usable answers from the cheap model.'),
  premiumAttempts: Count('Answers from the premium model.'),
  premiumSuccesses: Count('Usable answers from the premium model.'),
  validationFailures: Count('Answers that failed validation.'),
  escalations: Count('Writes escalated from the cheap model to the premium one.'),
  fallbacks: Count('Writes that ended at the offline writer.'),
  writers: Type.Record(Type.String(), Type.Integer(), { description: 'Scripts made, by writer.' }),
  lastWriter: Nullable(Type.String()),
  costUsd: Type.Number({ description: 'Total spend of the writes.' }),
  averageCostUsd: Type.Number(),
  averageLatencyMs: Type.Number(),
  lastUsedAt: Type.String({ format: 'date-time' }),
});

export const PatternList = Type.Object({
  policy: Type.Object({
    minAttempts: Type.Integer({ description: 'PATTERN_MIN_ATTEMPTS' }),
    minCheapSuccessRate: Type.Number({ description: 'PATTERN_MIN_CHEAP_SUCCESS_RATE' }),
    probeEvery: Type.Integer({
      description: 'A premium pattern tries the cheap model again after this many writes.',
    }),
  }),
  retentionHours: Type.Integer({
    description: 'PATTERN_RETENTION_HOURS: unused patterns are forgotten after this.',
  }),
  items: Type.Array(PatternView),
});
