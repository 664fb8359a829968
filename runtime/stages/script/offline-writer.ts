/**
 * The offline script writer: a small grammar of meditation lines per section and style, filled
 * with the topic and chosen by a seeded random source, so the same topic, style and seed always
 * give the same script and different seeds give different ones.
 */
import type { Style, VideoSpec } from '../../pipeline/stage.js';
import { seededRandom, type SeededRandom } from '../seeded-random.js';
import type { ScriptDocument, ScriptSection, SectionKind } from './document.js';
import { countWords, estimatedSpeechSeconds, speechFits, wordBudget } from './document.js';
import type { ScriptWriter } from './writer.js';

type Bank = readonly string[];

const SETTLE: Bank = [
  'Welcome.',
  'Find a comfortable position, and let your eyes gently close.',
  'Let your hands rest wherever they feel easy.',
  'There is nothing you need to do right now.',
  'Let this be a few minutes just for you.',
  'Allow the day to pause around you.',
  'Notice where your body meets the surface beneath you.',
  'Let yourself arrive here, exactly as you are.',
  'Today we turn our attention to {topic}.',
  'Let {topic} be the thread you return to.',
  'Settle in, and let the noise of the world grow quiet.',
  'Feel the ground holding you, steady and patient.',
];

const BREATH: Bank = [
  'Breathe in.',
  'And slowly out.',
  'Breathe in slowly through your nose.',
  'And let the breath go, long and soft.',
  'Breathe in, counting gently to four.',
  'Hold for a moment at the top.',
  'And release, slowly, all the way out.',
  'Let each breath be a little slower than the last.',
  'Notice the cool air as it comes in.',
  'Notice the warm air as it leaves.',
  'Feel your belly rise, and fall.',
  'There is no right way to breathe. Simply notice.',
  'With each breath out, let a little more tension go.',
  'Breathe in calm, and breathe out what you no longer need.',
  'Let the breath find its own gentle rhythm.',
  'If your mind wanders, simply return to the breath.',
];

const BODY: Bank = [
  'Soften your {part}.',
  'Release your {part}.',
  'Bring your attention to your {part}.',
  'Let your {part} soften and grow heavy.',
  'Notice any tightness in your {part}, and let it melt away.',
  'Imagine warm light resting on your {part}.',
  'Breathe into your {part}, and feel it release.',
  'Your {part} can let go now.',
  'Let the softness spread from your {part} outward.',
  'Feel a gentle warmth in your {part}.',
];

const BODY_PARTS: Bank = [
  'forehead',
  'jaw',
  'shoulders',
  'neck',
  'arms',
  'hands',
  'chest',
  'belly',
  'lower back',
  'hips',
  'legs',
  'feet',
];

const THEME: Record<Style, Bank> = {
  calm: [
    'Let {topic} settle over you like still water.',
    'Picture {topic} as a quiet place you can return to.',
    'Nothing needs fixing right now.',
    'Let your thoughts drift past like slow clouds.',
    'In this moment, you are safe and at ease.',
    'Let {topic} fill the space around you.',
    'Each breath makes the quiet a little deeper.',
    'Rest in the calm that is already here.',
  ],
  sleep: [
    'Let {topic} carry you gently toward rest.',
    'Your body is heavy, warm and ready for sleep.',
    'Let the edges of the day blur and fade.',
    'There is nowhere to go, and nothing left to do.',
    'Sink a little deeper with every breath.',
    'Let {topic} wrap around you like a soft blanket.',
    'Thoughts may come and go. Let them drift away.',
    'Allow yourself to float, supported and safe.',
  ],
  focus: [
    'Let {topic} become a single clear point of attention.',
    'Notice how the mind grows still when it has one thing to hold.',
    'When a thought pulls you away, note it, and return.',
    'Picture your attention as a steady, bright light.',
    'Let {topic} sharpen, and everything else soften.',
    'You have all the time you need for this one thing.',
    'Feel the quiet strength of a settled mind.',
    'Return, again and again, to {topic}.',
  ],
  gratitude: [
    'Bring to mind one thing you are thankful for today.',
    'Let {topic} remind you of what is already good.',
    'Notice the people who have helped you along the way.',
    'Let a quiet thank you rise from within.',
    'Feel how gratitude softens the heart.',
    'Hold {topic} gently, and appreciate it.',
    'Even small things can be gifts.',
    'Let thankfulness fill your chest with warmth.',
  ],
};

const CLOSE: Bank = [
  'Gently return.',
  'Open your eyes when ready.',
  'Slowly begin to bring your awareness back.',
  'Take one more deep breath in, and let it go.',
  'Carry {topic} with you into the rest of your day.',
  'When you are ready, gently open your eyes.',
  'Thank yourself for taking this time.',
  'Move your fingers and toes, and return.',
  'This calm is always here for you to come back to.',
];

const SLEEP_CLOSE: Bank = [
  'Let yourself drift now, there is nothing more to do.',
  'Rest in {topic} as sleep comes gently.',
  'You can let go completely now.',
  'Sleep well.',
];

const SHARE: Record<SectionKind, number> = { settle: 0.2, breath: 0.25, body: 0.4, theme: 0.4, close: 0.15 };
const PAUSE: Record<SectionKind, number> = { settle: 1.5, breath: 2.5, body: 2, theme: 2, close: 1.5 };

export class OfflineScriptWriter implements ScriptWriter {
  readonly name = 'offline-template';

  async write(spec: VideoSpec, _signal?: AbortSignal): Promise<ScriptDocument> {
    const random = seededRandom('script', spec.seed, spec.topic, spec.style);
    const topic = speakableTopic(spec.topic);
    const middle: SectionKind = spec.style === 'calm' || spec.style === 'sleep' ? 'body' : 'theme';
    const kinds: SectionKind[] = ['settle', 'breath', middle, 'close'];
    const budget = wordBudget(spec.durationSeconds);

    // Short scripts of many tiny lines can take longer to say than their words suggest: draw
    // again (deterministically, from the same seed) until the lines fit, keeping the shortest.
    let best: { sections: ScriptSection[]; written: number; speech: number } | undefined;
    for (let draw = 0; draw < MAX_DRAWS; draw++) {
      const candidate = composeSections(kinds, budget.target, spec.style, topic, random);
      const lines = candidate.sections.flatMap((section) => section.segments.map((seg) => seg.text));
      if (speechFits(lines, spec.durationSeconds)) {
        best = { ...candidate, speech: 0 };
        break;
      }
      const speech = lines.reduce((sum, line) => sum + estimatedSpeechSeconds(line), 0);
      if (!best || speech < best.speech) best = { ...candidate, speech };
    }
    const { sections, written } = best as { sections: ScriptSection[]; written: number };
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

const MAX_DRAWS = 12;

function composeSections(
  kinds: SectionKind[],
  targetWords: number,
  style: Style,
  topic: string,
  random: SeededRandom,
): { sections: ScriptSection[]; written: number } {
  let written = 0;
  const sections: ScriptSection[] = kinds.map((kind, index) => {
    // Each section aims at its share of what is still unwritten, so rounding never accumulates.
    const remainingShare = kinds.slice(index).reduce((sum, k) => sum + SHARE[k], 0);
    const target = Math.max(1, Math.round(((targetWords - written) * SHARE[kind]) / remainingShare));
    const lines = writeSection(linesFor(kind, style, random), target, topic, random);
    written += lines.reduce((sum, line) => sum + countWords(line), 0);
    return { kind, segments: lines.map((text) => ({ text, pauseAfterSeconds: PAUSE[kind] })) };
  });
  return { sections, written };
}

function linesFor(kind: SectionKind, style: Style, random: SeededRandom): string[] {
  switch (kind) {
    case 'settle':
      return random.shuffle(SETTLE);
    case 'breath':
      return [...BREATH]; // breathing instructions keep their order: in, hold, out
    case 'body':
      return random.shuffle(BODY_PARTS).map((part) => random.pick(BODY).replaceAll('{part}', part));
    case 'theme':
      return random.shuffle(THEME[style]);
    case 'close':
      return style === 'sleep' ? random.shuffle(SLEEP_CLOSE) : random.shuffle(CLOSE);
  }
}

/**
 * Lines in the bank's (shuffled) order until the section's word target is met; a long video
 * goes round the bank again. A line that would overshoot is skipped for a shorter one.
 */
function writeSection(bank: string[], target: number, topic: string, random: SeededRandom): string[] {
  const slack = Math.max(1, Math.floor(target * 0.08));
  const lines: string[] = [];
  let words = 0;
  let misses = 0;
  for (let i = 0; words < target && misses < bank.length; i++) {
    const line = fill(bank[i % bank.length] as string, topic);
    const size = countWords(line);
    if (words + size - target > slack) {
      misses++;
      continue;
    }
    misses = 0;
    lines.push(line);
    words += size;
    // Going round a short bank again: vary the order so that a long script does not repeat in step.
    if ((i + 1) % bank.length === 0) bank.splice(0, bank.length, ...random.shuffle(bank));
  }
  if (lines.length === 0) {
    // Every line is longer than a very short section wants: say the shortest one.
    const shortest = bank.map((t) => fill(t, topic)).sort((a, b) => countWords(a) - countWords(b))[0];
    if (shortest) lines.push(shortest);
  }
  return lines;
}

function fill(template: string, topic: string): string {
  const line = template.replaceAll('{topic}', topic);
  return line.charAt(0).toUpperCase() + line.slice(1);
}

/** The topic as it is spoken inside a sentence: one line, no markup characters. */
export function speakableTopic(topic: string): string {
  const cleaned = topic
    .replace(/[<>{}[\]\\|`~^*_#]/g, ' ')
    .replace(/\s+/g, ' ')
    .trim()
    .replace(/[.!?;:,]+$/, '');
  return cleaned.length > 0 ? cleaned : 'this moment';
}

export function titleCase(topic: string): string {
  const words = topic.replace(/\s+/g, ' ').trim().split(' ');
  return words
    .map((w, i) => (w.length > 3 || i === 0 ? w.charAt(0).toUpperCase() + w.slice(1) : w))
    .join(' ');
}
