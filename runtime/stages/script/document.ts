/**
 * The script as a typed document, and the rules every script writer's output must pass before
 * it is narrated: the right sections in order, no empty section or line, and a word count that
 * fits the requested duration.
 */
import type { Style, VideoSpec } from '../../pipeline/stage.js';
import { narrationWindow, TIGHT_MARGINS } from '../timing.js';

export const SECTION_KINDS = ['settle', 'breath', 'body', 'theme', 'close'] as const;
export type SectionKind = (typeof SECTION_KINDS)[number];

export interface ScriptSegment {
  /** One spoken line: one narration clip and one caption cue. */
  text: string;
  /** The pause wanted after this line, before the narration stretches pauses to fill the video. */
  pauseAfterSeconds: number;
}

export interface ScriptSection {
  kind: SectionKind;
  segments: ScriptSegment[];
}

export interface ScriptDocument {
  title: string;
  topic: string;
  style: Style;
  durationSeconds: number;
  sections: ScriptSection[];
  wordCount: number;
  /** Which writer produced it: `offline-template`, or `anthropic:<model>` for a Claude script. */
  writer: string;
}

/**
 * The offline voices speak about 2.5 words a second counting each clip's own edges; a meditation
 * spends about half of its narrated time in pauses, so the script aims at 1.5 words per second
 * of the time between the lead-in and the closing silence.
 */
export const WORDS_PER_SECOND = 1.5;

export function wordBudget(durationSeconds: number): { target: number; min: number; max: number } {
  const target = Math.round(narrationWindow(durationSeconds) * WORDS_PER_SECOND);
  return { target, min: Math.floor(target * 0.75), max: Math.ceil(target * 1.15) };
}

/**
 * How long the offline voice takes to say a line, clip edges included (flite, measured: about
 * 0.75 s per clip plus 0.27 s per word, slightly over for one-word lines). Many short lines cost
 * more than their words suggest, so a writer checks its lines with this, not the word count alone.
 */
export function estimatedSpeechSeconds(text: string): number {
  return 0.75 + 0.27 * countWords(text);
}

/**
 * Whether lines estimated this long can be narrated in the video at all: the narration stage's
 * tightest plan (short lead-in and tail, shortest pauses) is the hard limit.
 */
export function speechFits(lines: readonly string[], durationSeconds: number): boolean {
  const speech = lines.reduce((sum, line) => sum + estimatedSpeechSeconds(line), 0);
  const { leadIn, tail, minGap } = TIGHT_MARGINS;
  return speech + Math.max(0, lines.length - 1) * minGap <= durationSeconds - leadIn - tail;
}

export function countWords(text: string): number {
  return text.split(/\s+/).filter((word) => /[\p{L}\p{N}]/u.test(word)).length;
}

/** Every problem with a script, in words an operator understands; empty when it is fit to narrate. */
export function validateScript(doc: ScriptDocument, spec: Pick<VideoSpec, 'durationSeconds'>): string[] {
  const problems: string[] = [];
  if (doc.sections.length === 0) return ['the script has no sections'];
  const kinds = doc.sections.map((s) => s.kind);
  if (kinds[0] !== 'settle') problems.push(`the script must open with a settle section, not ${kinds[0]}`);
  if (kinds.at(-1) !== 'close')
    problems.push(`the script must end with a close section, not ${kinds.at(-1)}`);
  if (!kinds.includes('breath')) problems.push('the script has no breath section');
  if (!kinds.includes('body') && !kinds.includes('theme'))
    problems.push('the script has neither a body nor a theme section');
  doc.sections.forEach((section, i) => {
    if (section.segments.length === 0) problems.push(`section ${i + 1} (${section.kind}) is empty`);
    section.segments.forEach((segment, j) => {
      if (countWords(segment.text) === 0)
        problems.push(`line ${j + 1} of section ${i + 1} (${section.kind}) has no words`);
      if (!(segment.pauseAfterSeconds >= 0))
        problems.push(`line ${j + 1} of section ${i + 1} has a negative pause`);
    });
  });
  const words = doc.sections.flatMap((s) => s.segments).reduce((sum, s) => sum + countWords(s.text), 0);
  if (words !== doc.wordCount)
    problems.push(`the script says it has ${doc.wordCount} words but has ${words}`);
  const budget = wordBudget(spec.durationSeconds);
  if (words < budget.min || words > budget.max) {
    problems.push(
      `the script has ${words} words; a ${spec.durationSeconds} s video needs ${budget.min}-${budget.max}`,
    );
  }
  return problems;
}
