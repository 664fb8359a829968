import type { Tier } from '../tiers.js';

/** Prometheus TSDB bytes per sample after compression (upstream's planning figure is 1–2). */
const BYTES_PER_SAMPLE = 2;
/** WAL, compaction head room and series churn on top of the retained blocks. */
const HEADROOM = 1.5;
const MIN_VOLUME_GIB = 5;

export function prometheusStorageGiB(tier: Tier): number {
  const { activeSeries, scrapeIntervalSeconds, prometheusRetentionDays } = tier.monitoring;
  const samplesPerDay = (activeSeries * 86_400) / scrapeIntervalSeconds;
  const bytes = samplesPerDay * prometheusRetentionDays * BYTES_PER_SAMPLE * HEADROOM;
  const gib = Math.ceil(bytes / 1024 ** 3 / 5) * 5;
  return Math.max(MIN_VOLUME_GIB, gib);
}

/** retentionSize keeps the TSDB below its volume (90%) even when series grow past the estimate. */
export function prometheusRetentionSize(tier: Tier): string {
  return `${Math.floor(prometheusStorageGiB(tier) * 0.9)}GB`;
}
