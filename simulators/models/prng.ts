// Deterministic randomness for the models. Every random draw is a pure function of a seed and a key
// (a time bucket, a day number), never of call order, so a reading at a given instant is the same
// whether it was produced live, by a backfill or by a test, and the same seed gives the same series.

/** 32-bit mix (the finaliser of MurmurHash3): spreads every input bit over the output. */
function mix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** Hashes strings and numbers into one 32-bit seed (FNV-1a over the parts, then mixed). */
export function hashSeed(...parts: ReadonlyArray<string | number>): number {
  let h = 0x811c9dc5;
  for (const part of parts) {
    const text = typeof part === 'number' ? `#${part}` : part;
    for (let i = 0; i < text.length; i++) {
      h ^= text.charCodeAt(i);
      h = Math.imul(h, 0x01000193);
    }
    h ^= 0xff;
    h = Math.imul(h, 0x01000193);
  }
  return mix32(h);
}

/** A uniform number in [0, 1) determined by `seed` and the integer `key`. */
export function uniformAt(seed: number, key: number): number {
  const lo = key | 0;
  const hi = Math.floor(key / 4_294_967_296) | 0;
  return mix32(mix32(seed ^ lo) + Math.imul(hi, 0x9e3779b9)) / 4_294_967_296;
}

/** A standard normal number determined by `seed` and `key` (Box–Muller). */
export function gaussAt(seed: number, key: number): number {
  const u1 = uniformAt(seed, key * 2) || Number.MIN_VALUE;
  const u2 = uniformAt(seed ^ 0x5bd1e995, key * 2 + 1);
  return Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
}

/**
 * Smooth noise in [-1, 1] over time: values drawn at knots `periodMs` apart, joined by a cosine curve,
 * so a reading drifts instead of jumping between reports.
 */
export function smoothNoise(seed: number, t: number, periodMs: number): number {
  const x = t / periodMs;
  const k = Math.floor(x);
  const f = x - k;
  const a = uniformAt(seed, k) * 2 - 1;
  const b = uniformAt(seed, k + 1) * 2 - 1;
  const w = (1 - Math.cos(Math.PI * f)) / 2;
  return a * (1 - w) + b * w;
}

/** Mulberry32: a small sequential generator, for code that wants a stream of draws from one seed. */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

export function clamp(x: number, lo: number, hi: number): number {
  return Math.min(hi, Math.max(lo, x));
}

/** Rounds to `digits` decimals, as a sensor's resolution would. */
export function round(x: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

/** Measurement noise changes every 10 s: two reports closer than that read the same sample. */
export function noiseSlot(t: number): number {
  return Math.floor(t / 10_000);
}
