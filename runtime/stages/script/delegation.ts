/**
 * Delegation by pattern: requests that look alike (style, duration band, topic class) tend to
 * succeed or fail on the cheap model alike, so what happened to earlier ones decides where the
 * next one starts. The memory itself lives elsewhere (Postgres, in the worker); this module is
 * the shape of a pattern, the decision rule, and the writer's view of the memory.
 */
import type { Style, VideoSpec } from '../../pipeline/stage.js';
import { normaliseTopic } from './script-cache.js';

export type StartModel = 'cheap' | 'premium';

/** Coarse topic classes: enough to separate requests that write differently, few enough to learn fast. */
export const TOPIC_CLASSES = ['sleep', 'stress', 'focus', 'gratitude', 'body', 'other'] as const;
export type TopicClass = (typeof TOPIC_CLASSES)[number];

// Checked in this order: "stress before sleep" is about sleep, "focus on the breath" about focus.
const TOPIC_WORDS: ReadonlyArray<readonly [TopicClass, RegExp]> = [
  ['sleep', /\b(sleep\w*|bed\w*|night\w*|insomnia|drows\w*|dream\w*|rest(ful)?)\b/],
  ['stress', /\b(stress\w*|anxi\w*|worr\w*|calm\w*|tension|overwhelm\w*|panic\w*|let(ting)? go|relax\w*)\b/],
  [
    'focus',
    /\b(focus\w*|concentrat\w*|clarity|clear|study\w*|work\w*|productiv\w*|attention|mind(ful\w*)?)\b/,
  ],
  ['gratitude', /\b(gratitude|grateful|thank\w*|appreciat\w*|kindness|compassion|love\w*|joy\w*)\b/],
  ['body', /\b(body|bodies|breath\w*|muscle\w*|pain|heal\w*|back|shoulder\w*|posture|stretch\w*)\b/],
];

/** The topic's class, from its words; topics matching none are "other". */
export function topicClass(topic: string): TopicClass {
  const words = normaliseTopic(topic);
  for (const [cls, pattern] of TOPIC_WORDS) if (pattern.test(words)) return cls;
  return 'other';
}

/** Duration bands: word budgets (and so how often a model misses them) grow with the length. */
export const DURATION_BANDS = ['short', 'medium', 'long'] as const;
export type DurationBand = (typeof DURATION_BANDS)[number];

export function durationBand(seconds: number): DurationBand {
  if (seconds <= 90) return 'short';
  if (seconds <= 300) return 'medium';
  return 'long';
}

export interface Pattern {
  style: Style;
  durationBand: DurationBand;
  topicClass: TopicClass;
}

export function patternOf(spec: VideoSpec): Pattern {
  return {
    style: spec.style,
    durationBand: durationBand(spec.durationSeconds),
    topicClass: topicClass(spec.topic),
  };
}

export interface DelegationPolicy {
  /** Cheap attempts a pattern needs before its success rate counts. */
  minAttempts: number;
  /** Below this cheap success rate (0..1), a pattern starts at the premium model. */
  minCheapSuccessRate: number;
  /** A premium-start pattern tries the cheap model again after this many premium starts. */
  probeEvery: number;
}

export const DEFAULT_POLICY: DelegationPolicy = { minAttempts: 5, minCheapSuccessRate: 0.5, probeEvery: 20 };

/** What the rule reads from a pattern's memory. */
export interface PatternRecord {
  cheapAttempts: number;
  cheapSuccesses: number;
  /** Writes started at premium since the cheap model was last tried. */
  premiumStreak: number;
}

/**
 * Cheap unless the cheap model has had its chances and mostly failed them. A premium pattern
 * probes the cheap model now and then, so a model that got better wins the pattern back.
 */
export function chooseStart(record: PatternRecord | undefined, policy: DelegationPolicy): StartModel {
  if (!record || record.cheapAttempts < policy.minAttempts) return 'cheap';
  if (record.cheapSuccesses / record.cheapAttempts >= policy.minCheapSuccessRate) return 'cheap';
  return record.premiumStreak >= policy.probeEvery ? 'cheap' : 'premium';
}

/** How one model fared in a write: not tried, skipped (circuit or budget), or its call's outcome. */
export type ModelResult = 'not_tried' | 'skipped' | 'ok' | 'invalid' | 'error';

/** One write, as pattern memory records it. */
export interface WriteReport {
  start: StartModel;
  /** Who made the script: `anthropic:<model>` or the offline writer's name. */
  writer: string;
  cheap: ModelResult;
  premium: ModelResult;
  validationFailures: number;
  escalated: boolean;
  fellBack: boolean;
  costUsd: number;
  latencyMs: number;
}

/** The writer's view of pattern memory (Postgres in the worker). */
export interface ScriptDelegation {
  startModel(spec: VideoSpec): Promise<StartModel>;
  record(spec: VideoSpec, report: WriteReport): Promise<void>;
}
