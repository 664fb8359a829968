import type { Tier } from '../tiers.js';

export interface BackupRule {
  readonly name: 'daily' | 'weekly' | 'monthly';
  /** AWS Backup cron (UTC). */
  readonly schedule: string;
  readonly deleteAfterDays: number;
  readonly copyToDrRegion: boolean;
}

export function backupRules(tier: Tier): BackupRule[] {
  const b = tier.backups;
  if (!b.enabled) return [];
  const rules: BackupRule[] = [
    {
      name: 'daily',
      schedule: 'cron(0 2 * * ? *)',
      deleteAfterDays: b.dailyRetentionDays,
      copyToDrRegion: b.copyToDrRegion,
    },
    {
      name: 'weekly',
      schedule: 'cron(0 3 ? * SUN *)',
      deleteAfterDays: b.weeklyRetentionDays,
      copyToDrRegion: b.copyToDrRegion,
    },
    {
      name: 'monthly',
      schedule: 'cron(0 4 1 * ? *)',
      deleteAfterDays: b.monthlyRetentionDays,
      copyToDrRegion: b.copyToDrRegion,
    },
  ];
  for (let i = 1; i < rules.length; i++) {
    const [prev, cur] = [rules[i - 1] as BackupRule, rules[i] as BackupRule];
    if (cur.deleteAfterDays < prev.deleteAfterDays) {
      throw new Error(
        `tier ${tier.name}: ${cur.name} backups must be kept at least as long as ${prev.name} ones`,
      );
    }
  }
  return rules;
}
