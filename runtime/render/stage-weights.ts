import type { StageName } from '../pipeline/stage.js';

/** Rough share of a render's time per stage, for one overall percentage (assembly dominates). */
export const STAGE_WEIGHTS: Record<StageName, number> = {
  script: 1,
  narration: 10,
  visuals: 4,
  captions: 1,
  ambient: 2,
  assemble: 80,
  publish: 2,
};

export function overallPercent(stages: readonly StageName[], current: StageName, fraction: number): number {
  const total = stages.reduce((sum, s) => sum + STAGE_WEIGHTS[s], 0);
  const before = stages.slice(0, stages.indexOf(current)).reduce((sum, s) => sum + STAGE_WEIGHTS[s], 0);
  return (100 * (before + STAGE_WEIGHTS[current] * fraction)) / total;
}
