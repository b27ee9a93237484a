// Bounded sliding windows. A window of length W is kept as K time buckets (its resolution: 60 unless the
// rule says fewer) of width w = ⌈W / K⌉ ms, aligned to multiples of w; each holds the count, sum, min and max of its samples. At time
// `now` the window is the K buckets ending with the one `now` falls in, so it reaches back between
// W − w and W (exactly W when samples and `now` fall on bucket edges). Memory per (rule, device) is then
// at most K small records whatever the reporting rate: a station every 10 s over 24 h would otherwise
// keep 8 640 samples. The price is the edge: a sample leaves the window up to w early.
import { z } from 'zod';

export const BUCKETS_PER_WINDOW = 60;

export const Bucket = z.strictObject({
  /** Start of the bucket, ms since the epoch, a multiple of the width. */
  t: z.number(),
  n: z.number().int().positive(),
  sum: z.number(),
  min: z.number(),
  max: z.number(),
});
export type Bucket = z.infer<typeof Bucket>;
/** Oldest first, at most one per start. Read-only: states share bucket arrays, so none is ever changed. */
export const Buckets = z.array(Bucket).max(BUCKETS_PER_WINDOW).readonly();

/** A window: its length, and how many buckets it is kept in (at most BUCKETS_PER_WINDOW). */
export interface Span {
  readonly over: number;
  readonly resolution: number;
}

export const bucketWidth = (span: Span): number => Math.max(1, Math.ceil(span.over / span.resolution));
/** How many buckets the window spans (K, at most its resolution). */
export const bucketCount = (span: Span): number => Math.ceil(span.over / bucketWidth(span));

/** Start of the oldest bucket still inside the window at `now`. */
export function windowStart(now: number, span: Span): number {
  const w = bucketWidth(span);
  return Math.floor(now / w) * w - (bucketCount(span) - 1) * w;
}

/** Whether every bucket lies in [from, now] (they are oldest first). */
function allWithin(buckets: readonly Bucket[], from: number, now: number): boolean {
  const first = buckets[0];
  const last = buckets[buckets.length - 1];
  return first === undefined || last === undefined || (first.t >= from && last.t <= now);
}

const within = (buckets: readonly Bucket[], from: number, now: number): Bucket[] =>
  buckets.filter((b) => b.t >= from && b.t <= now);

/** Buckets inside the window at `now`: the array given when every bucket is, else a new one. Bucket
 * arrays are never changed once made (states share them), so neither is the input. */
export function evict(buckets: readonly Bucket[], now: number, span: Span): readonly Bucket[] {
  const from = windowStart(now, span);
  return allWithin(buckets, from, now) ? buckets : within(buckets, from, now);
}

/**
 * Adds a sample at `t`, evicting at `now` (≥ t); a sample already outside the window is not added. A
 * new array, unless nothing was added or evicted (then the one given). The common case, a sample in the
 * newest bucket, copies the array once and makes one bucket.
 */
export function addSample(
  buckets: readonly Bucket[],
  t: number,
  x: number,
  span: Span,
  now: number,
): readonly Bucket[] {
  const from = windowStart(now, span);
  if (t < from || t > now) return evict(buckets, now, span);
  const w = bucketWidth(span);
  const start = Math.floor(t / w) * w;
  const out = allWithin(buckets, from, now) ? buckets.slice() : within(buckets, from, now);
  let i = out.length - 1;
  while (i >= 0 && out[i]!.t > start) i--;
  const at = out[i];
  if (at !== undefined && at.t === start) {
    out[i] = { t: start, n: at.n + 1, sum: at.sum + x, min: Math.min(at.min, x), max: Math.max(at.max, x) };
  } else {
    out.splice(i + 1, 0, { t: start, n: 1, sum: x, min: x, max: x });
  }
  return out;
}

export interface Summary {
  readonly n: number;
  readonly sum: number;
  readonly min: number;
  readonly max: number;
  /** Buckets holding at least one sample. */
  readonly filled: number;
}

export function summarize(buckets: readonly Bucket[]): Summary {
  let n = 0;
  let sum = 0;
  let min = Infinity;
  let max = -Infinity;
  for (const b of buckets) {
    n += b.n;
    sum += b.sum;
    min = Math.min(min, b.min);
    max = Math.max(max, b.max);
  }
  return { n, sum, min, max, filled: buckets.length };
}
