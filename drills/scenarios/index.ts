import type { DrillResult, DrillRun } from '../support/run.js';
import { pitrDrill } from './pitr.js';
import { redisLossDrill } from './redis-loss.js';
import { workerLossDrill } from './worker-loss.js';

export type Scenario = (run: DrillRun) => Promise<Omit<DrillResult, 'ranAt' | 'durationSeconds'>>;

/** Every drill, in the order `all` runs them. */
export const SCENARIOS: Record<string, Scenario> = {
  pitr: pitrDrill,
  'redis-loss': redisLossDrill,
  'worker-loss': workerLossDrill,
};
