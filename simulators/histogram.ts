// A latency histogram with logarithmic buckets (1 % wide): constant memory however many messages a
// benchmark sends, quantiles within 1 % of the exact value.

const GROWTH = 1.01;
const LOG_GROWTH = Math.log(GROWTH);
/** Smallest distinguished latency: 1 µs. */
const FLOOR_MS = 0.001;

export interface LatencySummary {
  readonly count: number;
  /** Milliseconds; NaN when nothing was recorded. */
  readonly p50: number;
  readonly p99: number;
  readonly max: number;
}

export interface LatencyHistogram {
  record(ms: number): void;
  quantile(q: number): number;
  summary(): LatencySummary;
}

export function createLatencyHistogram(): LatencyHistogram {
  const buckets = new Map<number, number>();
  let count = 0;
  let max = Number.NaN;

  const index = (ms: number): number =>
    ms <= FLOOR_MS ? 0 : Math.ceil(Math.log(ms / FLOOR_MS) / LOG_GROWTH);
  // The bucket's upper bound, so a reported quantile is never below the true one by more than 1 %.
  const value = (i: number): number => FLOOR_MS * GROWTH ** i;

  function quantile(q: number): number {
    if (count === 0) return Number.NaN;
    const rank = Math.max(1, Math.ceil(q * count));
    let seen = 0;
    for (const i of [...buckets.keys()].sort((a, b) => a - b)) {
      seen += buckets.get(i) ?? 0;
      if (seen >= rank) return Math.min(value(i), max);
    }
    return max;
  }

  return {
    record(ms) {
      if (!Number.isFinite(ms) || ms < 0) return;
      const i = index(ms);
      buckets.set(i, (buckets.get(i) ?? 0) + 1);
      count++;
      max = Number.isNaN(max) ? ms : Math.max(max, ms);
    },
    quantile,
    summary: () => ({ count, p50: quantile(0.5), p99: quantile(0.99), max }),
  };
}
