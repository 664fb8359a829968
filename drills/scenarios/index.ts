import type { DrillResult, DrillRun } from '../support/run.js';
import { failoverDrill } from './failover.js';
import { pitrDrill } from './pitr.js';
import { redisLossDrill } from './redis-loss.js';
import { videosLostDrill } from './videos-lost.js';
import { workerLossDrill } from './worker-loss.js';

export type Scenario = (run: DrillRun) => Promise<Omit<DrillResult, 'ranAt' | 'durationSeconds'>>;

/** Every drill, in the order `all` runs them. */
export const SCENARIOS: Record<string, Scenario> = {
  pitr: pitrDrill,
  failover: failoverDrill,
  'redis-loss': redisLossDrill,
  'videos-lost': videosLostDrill,
  'worker-loss': workerLossDrill,
};
