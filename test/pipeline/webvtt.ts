/** A small WebVTT reader for checking caption files in tests. */
export interface ParsedCue {
  start: number;
  end: number;
  text: string;
}

export function parseWebVtt(source: string): ParsedCue[] {
  if (!source.startsWith('WEBVTT')) throw new Error('not a WebVTT file');
  const time = (t: string) => {
    const [h, m, s] = t.split(':');
    return Number(h) * 3600 + Number(m) * 60 + Number(s);
  };
  const cues: ParsedCue[] = [];
  for (const block of source.split(/\n\n+/).slice(1)) {
    const lines = block.split('\n').filter(Boolean);
    const timing = lines.findIndex((l) => l.includes('-->'));
    if (timing < 0) continue;
    const [start, end] = (lines[timing] as string).split('-->').map((s) => s.trim());
    cues.push({
      start: time(start as string),
      end: time(end as string),
      text: lines.slice(timing + 1).join('\n'),
    });
  }
  return cues;
}
