/**
 * How a video's time is shared between speech and silence. The script writer sizes the script
 * with it and the narration lays the clips out with it, so the two cannot disagree.
 */

/** Silence before the first line and after the last one, as a share of the video (bounded). */
export function narrationMargins(videoSeconds: number): { leadIn: number; tail: number } {
  const clamp = (v: number, lo: number, hi: number) => Math.min(hi, Math.max(lo, v));
  return { leadIn: clamp(videoSeconds * 0.04, 1, 4), tail: clamp(videoSeconds * 0.06, 1.5, 6) };
}

/** The shortest pause between two lines. */
export const MIN_GAP_SECONDS = 0.35;

/** What a short video falls back to when its speech does not fit the usual margins. */
export const TIGHT_MARGINS = { leadIn: 0.5, tail: 0.8, minGap: 0.15 } as const;

/** Seconds between the lead-in and the tail: speech and pauses share them. */
export function narrationWindow(videoSeconds: number): number {
  const { leadIn, tail } = narrationMargins(videoSeconds);
  return videoSeconds - leadIn - tail;
}
