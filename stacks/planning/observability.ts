import type { Tier } from '../tiers.js';

/** Jaeger's Badger store per span, compressed, with its index (upstream measures 0.5–1.5 KB). */
const BYTES_PER_SPAN = 1024;
/** Loki's chunks compress JSON logs about 10:1; the TSDB index and WAL come on top. */
const LOG_COMPRESSION = 10;
/** Compaction head room, the WAL and bursts over the expected rate. */
const HEADROOM = 1.5;
const MIN_VOLUME_GIB = 5;

function volumeGiB(bytes: number): number {
  return Math.max(MIN_VOLUME_GIB, Math.ceil((bytes * HEADROOM) / 1024 ** 3 / 5) * 5);
}

/**
 * The standard OTEL_TRACES_SAMPLER pair for the tier: parent-based always so a trace is kept or
 * dropped whole (the worker follows the decision the API made at the POST), and a trace-id ratio
 * for the roots where full sampling would cost more than it tells.
 */
export function traceSampler(tier: Tier): { sampler: string; arg?: string } {
  const ratio = tier.tracing.sampleRatio;
  if (!(ratio > 0 && ratio <= 1)) throw new Error(`${tier.name}: sampleRatio ${ratio} is not in (0, 1]`);
  return ratio === 1
    ? { sampler: 'parentbased_always_on' }
    : { sampler: 'parentbased_traceidratio', arg: String(ratio) };
}

/** Jaeger's volume: the sampled spans of the retention window. */
export function traceStorageGiB(tier: Tier): number {
  const { spansPerSecond, sampleRatio, retentionHours } = tier.tracing;
  return volumeGiB(spansPerSecond * sampleRatio * 3600 * retentionHours * BYTES_PER_SPAN);
}

/** Loki's volume: the compressed logs of the retention window. */
export function logStorageGiB(tier: Tier): number {
  const { bytesPerSecond, retentionDays } = tier.logs;
  return volumeGiB((bytesPerSecond * 86_400 * retentionDays) / LOG_COMPRESSION);
}

/**
 * The Badger TTL: spans older than the retention go at compaction; the volume (traceStorageGiB)
 * is sized for exactly that window.
 */
export function traceRetention(tier: Tier): string {
  return `${tier.tracing.retentionHours}h`;
}

/** Loki's retention_period (the compactor deletes older chunks). */
export function logRetention(tier: Tier): string {
  return `${tier.logs.retentionDays * 24}h`;
}
