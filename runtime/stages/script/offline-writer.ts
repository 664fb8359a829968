/**
 * The offline script writer: lines from a style's own pools (offline-lines.ts), chosen by a
 * seeded random source, so the same spec and seed always give the same script and different
 * seeds give different ones.
 *
 * Every script opens and closes with a line that names the topic, as the listener would say it
 * (`spokenTopic`), or, when the topic cannot be said inside a sentence, the style's fallback
 * phrase. Pools are drawn without replacement and reshuffled only when used up, so lines recur
 * only in long scripts, and never one straight after itself. Breathing instructions come in
 * small fixed groups (in, hold, out) and may recur; the lines of a group are all different.
 */
import type { Style, VideoSpec } from '../../pipeline/stage.js';
import { seededRandom, type SeededRandom } from '../seeded-random.js';
import type { ScriptDocument, ScriptSection, SectionKind } from './document.js';
import { countWords as countWordsOf, estimatedSpeechSeconds, speechFits, wordBudget } from './document.js';
import { BODY_PARTS, STYLE_LINES, type StyleLines } from './offline-lines.js';
import type { ScriptWriter } from './writer.js';

/** A script of this many seconds or more says at least `MIN_DISTINCT_LINES` different lines. */
export const DISTINCT_LINES_FROM_SECONDS = 60;
export const MIN_DISTINCT_LINES = 12;

type Plan = ReadonlyArray<readonly [SectionKind, number]>;

/**
 * The sections of each style and the share of the words each gets. Calm and sleep are built on a
 * body scan, focus and gratitude on their theme; short scripts keep only one middle section,
 * long focus and gratitude scripts add a short body scan of their own, and scripts of about
 * three and a half minutes or more go round the breath and middle sections twice.
 */
function planFor(style: Style, targetWords: number): Plan {
  const base = basePlan(style, targetWords);
  if (targetWords < TWO_ROUNDS_FROM_WORDS) return base;
  // A long script goes round twice: breathing, then the middle sections, and again.
  const round = base.slice(1, -1).map(([kind, share]) => [kind, share / 2] as const);
  return [...base.slice(0, 1), ...round, ...round, ...base.slice(-1)];
}

/** From about three and a half minutes. */
const TWO_ROUNDS_FROM_WORDS = 300;

/**
 * Words at most for the lines a section draws (besides the opening and closing): settling in,
 * a run of breathing and leading out stay short in a long script, which gives the rest to the
 * body scan and the theme.
 */
const MAX_SECTION_WORDS: Partial<Record<SectionKind, number>> = { settle: 55, breath: 45, close: 30 };

function basePlan(style: Style, targetWords: number): Plan {
  const short = targetWords < 45;
  const long = targetWords >= 150;
  switch (style) {
    case 'calm':
      return short
        ? [
            ['settle', 0.2],
            ['breath', 0.25],
            ['body', 0.45],
            ['close', 0.1],
          ]
        : [
            ['settle', 0.18],
            ['breath', 0.2],
            ['body', 0.3],
            ['theme', 0.22],
            ['close', 0.1],
          ];
    case 'sleep':
      return short
        ? [
            ['settle', 0.2],
            ['breath', 0.25],
            ['body', 0.45],
            ['close', 0.1],
          ]
        : [
            ['settle', 0.15],
            ['breath', 0.2],
            ['body', 0.35],
            ['theme', 0.2],
            ['close', 0.1],
          ];
    case 'focus':
    case 'gratitude':
      return long
        ? [
            ['settle', 0.15],
            ['breath', 0.18],
            ['body', 0.17],
            ['theme', 0.4],
            ['close', 0.1],
          ]
        : [
            ['settle', 0.18],
            ['breath', 0.22],
            ['theme', 0.5],
            ['close', 0.1],
          ];
  }
}

/** The pause wanted after a line, by section; sleep slows down as it goes, focus keeps a brisk pace. */
const PAUSE: Record<SectionKind, number> = { settle: 1.5, breath: 2.5, body: 2, theme: 2, close: 1.5 };
function pauseFor(style: Style, kind: SectionKind, sectionIndex: number): number {
  const factor = style === 'sleep' ? 1.2 + 0.15 * sectionIndex : style === 'focus' ? 0.85 : 1;
  return Math.round(PAUSE[kind] * factor * 100) / 100;
}

/** A breath section shorter than this (in a 15 s video) says one short reminder, not a group. */
const SHORT_BREATH_WORDS = 8;

/** Long body and theme sections breathe: a short reminder every few lines. */
const REMINDERS_FROM_WORDS = 50;

export class OfflineScriptWriter implements ScriptWriter {
  readonly name = 'offline-template';

  async write(spec: VideoSpec, _signal?: AbortSignal): Promise<ScriptDocument> {
    const random = seededRandom('script', spec.seed, spec.topic, spec.style);
    const budget = wordBudget(spec.durationSeconds);
    const topic = spokenTopic(spec.topic, spec.style, spec.durationSeconds);
    const plan = planFor(spec.style, budget.target);
    const wantDistinct = spec.durationSeconds >= DISTINCT_LINES_FROM_SECONDS ? MIN_DISTINCT_LINES : 0;

    // Draw again (deterministically, from the same seed) until the lines fit the word budget and
    // the time the voice needs, and are varied enough; the later draws pick the shortest opening
    // and closing. If no draw is right, the one with the fewest problems is kept.
    let best: { script: Composed; problems: number } | undefined;
    for (let draw = 0; draw < MAX_DRAWS; draw++) {
      const script = compose(plan, spec.style, topic, budget.target, random, draw >= MAX_DRAWS / 2);
      const lines = script.sections.flatMap((section) => section.segments.map((seg) => seg.text));
      const speech = lines.reduce((sum, line) => sum + estimatedSpeechSeconds(line), 0);
      const problems =
        (speechFits(lines, spec.durationSeconds) ? 0 : 1000 + speech) +
        (script.written < budget.min ? budget.min - script.written : 0) +
        (script.written > budget.max ? script.written - budget.max : 0) +
        Math.max(0, wantDistinct - new Set(lines).size) * 0.5;
      if (!best || problems < best.problems) best = { script, problems };
      if (problems === 0) break;
    }
    const { sections, written } = (best as { script: Composed }).script;
    const last = sections.at(-1)?.segments.at(-1);
    if (last) last.pauseAfterSeconds = 0;

    return {
      title: titleCase(spec.topic),
      topic: spec.topic,
      style: spec.style,
      durationSeconds: spec.durationSeconds,
      sections,
      wordCount: written,
      writer: this.name,
    };
  }
}

const MAX_DRAWS = 16;

/** Word counts of lines, remembered: the pools are small and every draw counts them again. */
const wordCounts = new Map<string, number>();
function countWords(line: string): number {
  let count = wordCounts.get(line);
  if (count === undefined) {
    if (wordCounts.size > 20_000) wordCounts.clear();
    count = countWordsOf(line);
    wordCounts.set(line, count);
  }
  return count;
}

interface Composed {
  sections: ScriptSection[];
  written: number;
}

/** A stream of units (a line, or a breathing group) that never starts with the line just said. */
type Stream = (previous: string | undefined) => readonly string[];

function compose(
  plan: Plan,
  style: Style,
  { phrase, fromTopic }: SpokenTopic,
  targetWords: number,
  random: SeededRandom,
  tight: boolean,
): Composed {
  const pools = STYLE_LINES[style];
  const frameCap = (lines: string[]) => {
    const shortest = Math.min(...lines.map(countWords));
    return tight ? shortest : Math.max(shortest + 2, Math.round(targetWords * 0.15));
  };
  const opens = pools.open.map((t) => withTopic(t, phrase));
  const closes = pools.close.map((t) => withTopic(t, phrase));
  const opening = random.pick(opens.filter((line) => countWords(line) <= frameCap(opens)));
  const closing = random.pick(closes.filter((line) => countWords(line) <= frameCap(closes)));

  let previous: string | undefined;
  let written = 0;
  const streams = new Map<SectionKind, Stream>();
  const sections: ScriptSection[] = plan.map(([kind, share], index) => {
    // Each section aims at its share of what is still unwritten, so rounding never accumulates;
    // the closing line is always said, so it is set aside first.
    const remainingShare = plan.slice(index).reduce((sum, [, s]) => sum + s, 0);
    const unwritten = targetWords - written - (kind === 'close' ? 0 : countWords(closing));
    const target = Math.max(1, Math.round((unwritten * share) / remainingShare));
    const lines: string[] = [];
    const say = (more: readonly string[]) => {
      lines.push(...more);
      previous = more.at(-1) ?? previous;
    };
    if (kind === 'settle') say([opening]);
    // One stream per kind for the whole script, so that a second round goes on through the pools.
    const stream =
      streams.get(kind) ?? streamFor(kind, pools, fromTopic ? phrase : undefined, target, random);
    streams.set(kind, stream);
    const said = lines.reduce((sum, line) => sum + countWords(line), 0);
    // The opening and closing lines already give their sections a line; others need at least one.
    const needed = kind === 'settle' || kind === 'close' ? 0 : 1;
    const reserved = kind === 'close' ? countWords(closing) : 0;
    const wanted = Math.min(target - said - reserved, MAX_SECTION_WORDS[kind] ?? Infinity);
    const drawn = fill(stream, wanted, needed, () => previous);
    // Settling in and leading out follow their pool's order (eyes close before the breath, the
    // breath comes back before the eyes open), unless a long section says a line twice.
    const order = kind === 'settle' ? pools.settle : kind === 'close' ? pools.closing : undefined;
    if (order && new Set(drawn).size === drawn.length) {
      drawn.sort((a, b) => order.indexOf(a) - order.indexOf(b));
    }
    say(drawn);
    if (kind === 'close') say([closing]);
    written += lines.reduce((sum, line) => sum + countWords(line), 0);
    const pauseAfterSeconds = pauseFor(style, kind, index);
    return { kind, segments: lines.map((text) => ({ text, pauseAfterSeconds })) };
  });
  return { sections, written };
}

/**
 * Units from the stream until the word target is met. A unit that would overshoot is skipped
 * for a shorter one; if none fits and the section must say something, the shortest one seen.
 */
function fill(stream: Stream, target: number, needed: number, previous: () => string | undefined): string[] {
  const slack = Math.max(1, Math.floor(target * 0.08));
  const lines: string[] = [];
  let words = 0;
  let misses = 0;
  let shortest: { unit: readonly string[]; words: number } | undefined;
  while (words < target && misses < 12) {
    const last = lines.at(-1) ?? previous();
    const unit = stream(last);
    const size = unit.reduce((sum, line) => sum + countWords(line), 0);
    if (unit[0] === last) {
      // Possible after skipped units (a body scan coming round to the same part and wording).
      misses++;
      continue;
    }
    if (words + size - target > slack) {
      misses++;
      if (!shortest || size < shortest.words) shortest = { unit, words: size };
      continue;
    }
    misses = 0;
    lines.push(...unit);
    words += size;
  }
  if (lines.length < needed && shortest) lines.push(...shortest.unit);
  return lines;
}

function streamFor(
  kind: SectionKind,
  pools: StyleLines,
  topic: string | undefined,
  target: number,
  random: SeededRandom,
): Stream {
  switch (kind) {
    case 'settle':
      return deck(
        pools.settle.map((line) => [line]),
        random,
      );
    case 'breath':
      return target < SHORT_BREATH_WORDS
        ? deck(
            pools.reminder.map((line) => [line]),
            random,
          )
        : deck(pools.breath, random);
    case 'close':
      return deck(
        pools.closing.map((line) => [line]),
        random,
      );
    case 'body':
      return withReminders(bodyScan(pools, target, random), pools, target, random);
    case 'theme': {
      // Theme lines that name the topic are left out when the topic cannot be said.
      const lines = pools.theme.filter((line) => topic !== undefined || !line.includes('{topic}'));
      return withReminders(
        deck(
          lines.map((line) => [withTopic(line, topic ?? '')]),
          random,
        ),
        pools,
        target,
        random,
      );
    }
  }
}

/**
 * The items in a shuffled order, shuffled again when used up; an item that would start with the
 * line just said is put back for later.
 */
function deck(items: ReadonlyArray<readonly string[]>, random: SeededRandom): Stream {
  let order: Array<readonly string[]> = [];
  return (previous) => {
    if (order.length === 0) order = random.shuffle(items);
    let index = order.findIndex((unit) => unit[0] !== previous);
    if (index < 0) {
      // Only the line just said is left: it waits for the next round.
      order.push(...random.shuffle(items));
      index = order.findIndex((unit) => unit[0] !== previous);
    }
    const [unit] = order.splice(Math.max(0, index), 1);
    return unit as readonly string[];
  };
}

/**
 * A body scan, head to feet: a short section visits a few parts in order, a long one all of them,
 * again and again, each time with other wording.
 */
function bodyScan(pools: StyleLines, target: number, random: SeededRandom): Stream {
  const wording = deck(
    pools.body.map((line) => [line]),
    random,
  );
  const perPass = Math.min(BODY_PARTS.length, Math.max(3, Math.ceil(target / 5) + 2));
  let parts: string[] = [];
  return () => {
    if (parts.length === 0) {
      const chosen = new Set(random.shuffle(BODY_PARTS).slice(0, perPass));
      parts = BODY_PARTS.filter((part) => chosen.has(part));
    }
    const part = parts.shift() as string;
    return [(wording(undefined)[0] as string).replaceAll('{part}', part)];
  };
}

function withReminders(stream: Stream, pools: StyleLines, target: number, random: SeededRandom): Stream {
  if (target < REMINDERS_FROM_WORDS) return stream;
  const reminders = deck(
    pools.reminder.map((line) => [line]),
    random,
  );
  let until = 3 + random.int(3);
  return (previous) => {
    if (until-- > 0) return stream(previous);
    until = 3 + random.int(3);
    return reminders(previous);
  };
}

/**
 * A template with the topic in it. A topic with a comma of its own ("rest, tea, and quiet", "the
 * question, how do I rest") is closed with a comma when the sentence goes on after it.
 */
function withTopic(template: string, topic: string): string {
  const line = template
    .replaceAll('{topic}', topic.includes(',') ? `${topic},` : topic)
    .replace(/,(?=[.,:?])/g, '');
  return line.charAt(0).toUpperCase() + line.slice(1);
}

export interface SpokenTopic {
  /** What the script says where it names the topic. */
  phrase: string;
  /** Whether that is the listener's topic, or the style's fallback phrase. */
  fromTopic: boolean;
}

/**
 * What a script of this style and length says where it names the topic: the topic as a phrase
 * (`topicPhrase`) when it can be said inside a sentence and is short enough to say twice in the
 * video (a 15 s video has room for about four words of topic), else the style's fallback phrase.
 */
export function spokenTopic(topic: string, style: Style, durationSeconds: number): SpokenTopic {
  const pools = STYLE_LINES[style];
  const phrase = topicPhrase(topic);
  if (phrase !== undefined) {
    const shortest = (templates: readonly string[]) =>
      Math.min(...templates.map((t) => countWords(t.replaceAll('{topic}', '').replaceAll('{part}', 'jaw'))));
    // The shortest script: the opening and closing, a breath reminder and one middle line.
    const least =
      shortest(pools.open) +
      shortest(pools.close) +
      2 * countWords(phrase) +
      shortest(pools.reminder) +
      shortest([...pools.body, ...pools.theme.filter((line) => !line.includes('{topic}'))]);
    if (least + TOPIC_MARGIN_WORDS <= wordBudget(durationSeconds).target) return { phrase, fromTopic: true };
  }
  return { phrase: pools.fallbackTopic, fromTopic: false };
}

/** Room left in the shortest script once the topic is said twice, so the draws can fit it. */
const TOPIC_MARGIN_WORDS = 2;
const MAX_TOPIC_WORDS = 8;
const MAX_TOPIC_CHARACTERS = 60;
const MAX_WORD_CHARACTERS = 20;

/**
 * The topic as it can be said inside a sentence, or undefined when it cannot:
 * - Whitespace, line breaks and control characters become single spaces. Letters, digits,
 *   commas, and apostrophes and hyphens inside words are kept; "&" is said "and"; everything
 *   else (quotes, brackets, emoji, markup, "?" and "!") is dropped, so nothing reaches the
 *   captions' markup and nothing makes flite spell out symbols.
 * - It cannot be used when it is a web or mail address, has no more than one letter, has
 *   letters flite cannot say (it speaks English: only the Latin script), was mostly symbols or emoji,
 *   is longer than eight words or 60 characters, or has a word over 20 characters or a number
 *   of five digits or more.
 * - A question ("how do I rest?") becomes "the question, how do I rest", and a sentence ("I
 *   can't sleep") "the thought, I can't sleep".
 * - Case, as inside a sentence: a shouted topic ("MORNING CALM") and a title ("Morning Calm")
 *   are lowercased, and so is a first word written as at the start of a sentence ("Morning
 *   calm"); "I" stays "I", and other capitals (names, acronyms: "walk in Paris", "ADHD") stay.
 */
export function topicPhrase(topic: string): string | undefined {
  const text = topic
    .normalize('NFC')
    .replace(/[\p{Cc}\p{Cf}\p{Z}\s]+/gu, ' ')
    .trim();
  if (/https?:|www\.|:\/\/|@|\.(?:com|org|net|io|dev|app|co|uk)\b/i.test(text)) return undefined;
  const cleaned = text
    .replace(/[\u2018\u2019\u02bc`´]/g, "'")
    .replace(/&/g, ' and ')
    .replace(/[\uFE00-\uFE0F]|[\u{E0100}-\u{E01EF}]/gu, ' ')
    .replace(/[^\p{L}\p{M}\p{N}' ,-]/gu, ' ')
    .replace(/(?<![\p{L}\p{M}])\p{M}+/gu, ' ')
    .replace(/-{2,}/g, '-')
    .replace(/'{2,}/g, "'")
    .replace(/(?<![\p{L}\p{M}\p{N}])['-]+|['-]+(?![\p{L}\p{N}])/gu, ' ')
    .replace(/\s*,[\s,]*/g, ', ')
    .replace(/\s+/g, ' ')
    .replace(/^[\s,]+|[\s,]+$/g, '');
  const letters = cleaned.match(/\p{L}/gu) ?? [];
  const kept = (cleaned.match(/[\p{L}\p{N}]/gu) ?? []).length;
  // Punctuation is dropped freely ("calm!!!"); symbols, emoji and marks count as things said.
  const given = Array.from(text.replace(/[\s\p{P}]/gu, '')).length;
  const words = cleaned.split(' ');
  if (
    letters.length < 2 ||
    /(?!\p{Script=Latin})\p{L}/u.test(cleaned) ||
    kept < given / 2 ||
    words.length > MAX_TOPIC_WORDS ||
    cleaned.length > MAX_TOPIC_CHARACTERS ||
    words.some((word) => word.length > MAX_WORD_CHARACTERS) ||
    /\p{N}{5}/u.test(cleaned)
  ) {
    return undefined;
  }
  const phrase = inSentenceCase(words).join(' ');
  // A question or a sentence is framed, so that "Carry {topic} with you" still reads.
  const first = (words[0] as string).toLowerCase().replace(/,$/, '');
  const asked = /\?[\s\p{P}]*$/u.test(text);
  if (QUESTION_WORDS.has(first) || (asked && AUXILIARY_WORDS.has(first))) return `the question, ${phrase}`;
  if (SENTENCE_WORDS.has(first)) return `the thought, ${phrase}`;
  return phrase;
}

const QUESTION_WORDS = new Set('how what why when where who which'.split(' '));
/** A question only when asked with a question mark: "do nothing" is not one, "do I rest?" is. */
const AUXILIARY_WORDS = new Set('can could should would will do does did is are am'.split(' '));
const SENTENCE_WORDS = new Set(
  "i i'm i've i'll i'd you you're we we're they they're it's there's".split(' '),
);

const SMALL_WORDS = new Set([
  'a',
  'an',
  'the',
  'and',
  'or',
  'of',
  'to',
  'in',
  'on',
  'at',
  'for',
  'with',
  'by',
]);

function inSentenceCase(words: string[]): string[] {
  const isI = (word: string) => /^i(?:'[a-z]+)?,?$/i.test(word);
  // One capital letter alone is an initial ("Q and A"), except the article "A".
  const capitalised = (word: string) => /^(?:\p{Lu}[\p{Ll}\p{M}'-]+|A),?$/u.test(word);
  const lettered = words.filter((word) => /\p{L}/u.test(word));
  const shouting =
    !/\p{Ll}/u.test(words.join('')) && (lettered.length > 1 || (lettered[0]?.length ?? 0) >= 5);
  const title =
    lettered.length > 1 &&
    lettered.every((word) => capitalised(word) || isI(word) || SMALL_WORDS.has(word.replace(/,$/, '')));
  return words.map((word, i) => {
    if (isI(word)) return 'I' + word.slice(1).toLowerCase();
    if (shouting || (title && capitalised(word))) return word.toLowerCase();
    const next = words[i + 1];
    if (i === 0 && capitalised(word) && (next === undefined || !/^\p{Lu}/u.test(next)))
      return word.toLowerCase();
    return word;
  });
}

export function titleCase(topic: string): string {
  const words = topic.replace(/\s+/g, ' ').trim().split(' ');
  return words
    .map((w, i) => (w.length > 3 || i === 0 ? w.charAt(0).toUpperCase() + w.slice(1) : w))
    .join(' ');
}
