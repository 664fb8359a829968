/**
 * The response cache for model-written scripts: an identical request (same normalised topic,
 * style, duration, voice and seed) reuses the script a model already wrote, at no cost. Only
 * model scripts are cached: the offline writer is free and deterministic, so caching it would
 * spend Redis memory to save nothing.
 */
import { createHash } from 'node:crypto';
import type { VideoSpec } from '../../pipeline/stage.js';
import type { ScriptDocument } from './document.js';

/** Where cached scripts live (Redis in the worker); a failing store is the caller's to tolerate. */
export interface ScriptCache {
  get(key: string): Promise<ScriptDocument | undefined>;
  put(key: string, doc: ScriptDocument): Promise<void>;
}

/** Trimmed, whitespace collapsed, lower case: "  Morning   Calm" and "morning calm" are one topic. */
export function normaliseTopic(topic: string): string {
  return topic.trim().replace(/\s+/g, ' ').toLowerCase();
}

/**
 * The cache key of a request: a hash of what shapes the script (aspect, resolution and captions
 * do not). Versioned, so a change to the prompt or the document shape can retire old entries.
 */
export function scriptCacheKey(spec: VideoSpec): string {
  const request = JSON.stringify([
    'script-v1',
    normaliseTopic(spec.topic),
    spec.style,
    spec.durationSeconds,
    spec.voice,
    spec.seed,
  ]);
  return createHash('sha256').update(request).digest('hex');
}

/** A cached document with the request's own topic (the key ignores case and spacing). */
export function fromCache(doc: ScriptDocument, spec: VideoSpec): ScriptDocument {
  return { ...doc, topic: spec.topic };
}
