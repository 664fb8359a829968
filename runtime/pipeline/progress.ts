/**
 * One overall percentage for a run of stages, the same in the worker, `archibald render` and the
 * tests. The weights are the worker's (what API clients have always been shown); they are the
 * rough share of a render's time, assembly dominating.
 */
import type { StageName } from './stage.js';

export const STAGE_WEIGHTS: Record<StageName, number> = {
  script: 5,
  narration: 20,
  visuals: 15,
  captions: 3,
  ambient: 5,
  assemble: 45,
  publish: 7,
};

/**
 * Overall progress 0..100 of `stages` (in run order) while `current` is `fraction` (clamped to
 * 0..1) done: the stages before it count in full, whether they ran or were reused.
 */
export function overallPercent(stages: readonly StageName[], current: StageName, fraction: number): number {
  const index = stages.indexOf(current);
  if (index < 0) throw new Error(`stage "${current}" is not in this run`);
  const weigh = (names: readonly StageName[]) => names.reduce((sum, s) => sum + STAGE_WEIGHTS[s], 0);
  const total = weigh(stages) || 1;
  const share = STAGE_WEIGHTS[current] * Math.max(0, Math.min(1, fraction));
  return ((weigh(stages.slice(0, index)) + share) / total) * 100;
}
