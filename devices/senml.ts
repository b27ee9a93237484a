// SenML (RFC 8428) resolution: turns a parsed JSON pack into self-contained records. Pure: no I/O, the
// receive time comes in as `now`. Clauses cited are RFC 8428's.
//
// Left out on purpose: the CBOR/XML/EXI representations (§6–§8; we receive JSON only), the `ut` update
// time and `bs` base sum are type-checked but not used by the platform (their meaning is kept).

/** §4.5.3: times below 2^28 seconds are relative to the time of the receiver. */
export const SENML_RELATIVE_TIME_LIMIT_S = 2 ** 28;
/** §4.4: the version this resolver implements; packs declaring a newer one must not be used. */
export const SENML_VERSION = 10;

export interface SenmlRecord {
  /** bn + n, checked against §4.5.1's character set. */
  readonly name: string;
  /** u, or bu when the record has none. */
  readonly unit?: string;
  /** Milliseconds since the Unix epoch (bt + t, relative times resolved against `now`). */
  readonly time: number;
  /** bv + v, or vs, or vb; absent only on a record that carries a sum (s) or data (vd) alone. */
  readonly value?: number | boolean | string;
  /** vd: base64url data value (§4.3), kept apart so it is never mistaken for a vs string. */
  readonly data?: string;
  /** bs + s. */
  readonly sum?: number;
}

export type SenmlResult =
  { readonly ok: true; readonly records: SenmlRecord[] } | { readonly ok: false; readonly reason: string };

// §4.5.1: names start with a letter or digit and use only these characters.
const NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9\-:./_]*$/;

const NUMBER_KEYS = ['bt', 'bv', 'bs', 'bver', 't', 'v', 's', 'ut'] as const;
const STRING_KEYS = ['bn', 'bu', 'n', 'u', 'vs', 'vd'] as const;

interface Base {
  name: string;
  time: number;
  unit: string | undefined;
  value: number;
  sum: number;
}

function fail(reason: string): SenmlResult {
  return { ok: false, reason };
}

function isRecordObject(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

/** Type-checks one record's known keys; returns a reason or undefined. */
function checkTypes(r: Record<string, unknown>, i: number): string | undefined {
  for (const k of NUMBER_KEYS) {
    const v = r[k];
    if (v !== undefined && (typeof v !== 'number' || !Number.isFinite(v)))
      return `record ${i}: ${k} must be a number`;
  }
  for (const k of STRING_KEYS) {
    if (r[k] !== undefined && typeof r[k] !== 'string') return `record ${i}: ${k} must be a string`;
  }
  if (r.vb !== undefined && typeof r.vb !== 'boolean') return `record ${i}: vb must be a boolean`;
  for (const k in r) {
    // §4.4: a field whose label ends in "_" must be understood; we understand none of them.
    if (k.endsWith('_')) return `record ${i}: unsupported must-understand field ${k}`;
  }
  return undefined;
}

function resolveValue(
  r: Record<string, unknown>,
  base: Base,
  i: number,
): string | Pick<SenmlRecord, 'value' | 'data'> {
  const present =
    +(r.v !== undefined) + +(r.vs !== undefined) + +(r.vb !== undefined) + +(r.vd !== undefined);
  // §4.2: exactly one value field, unless the record carries a sum.
  if (present > 1) return `record ${i}: more than one of v, vs, vb, vd`;
  if (typeof r.v === 'number') return { value: base.value + r.v };
  if (typeof r.vs === 'string') return { value: r.vs };
  if (typeof r.vb === 'boolean') return { value: r.vb };
  if (typeof r.vd === 'string') return { data: r.vd };
  if (r.s === undefined) return `record ${i}: no value (v, vs, vb, vd) and no sum`;
  return {};
}

function resolveRecord(r: Record<string, unknown>, base: Base, i: number, now: number): SenmlRecord | string {
  const name = base.name + (typeof r.n === 'string' ? r.n : '');
  if (name === '') return `record ${i}: empty name`;
  if (!NAME_PATTERN.test(name)) return `record ${i}: invalid name ${JSON.stringify(name)}`;
  const value = resolveValue(r, base, i);
  if (typeof value === 'string') return value;
  const seconds = base.time + (typeof r.t === 'number' ? r.t : 0);
  const ms = Math.round(seconds * 1000);
  const unit = typeof r.u === 'string' ? r.u : base.unit;
  const rec: { -readonly [K in keyof SenmlRecord]: SenmlRecord[K] } = {
    name,
    time: seconds < SENML_RELATIVE_TIME_LIMIT_S ? now + ms : ms,
    ...value,
  };
  if (unit !== undefined) rec.unit = unit;
  if (typeof r.s === 'number') rec.sum = base.sum + r.s;
  return rec;
}

/** Updates the base fields a record carries; they apply to it and to every later record (§4.1). */
function applyBase(r: Record<string, unknown>, base: Base, i: number): string | undefined {
  if (typeof r.bver === 'number' && (!Number.isInteger(r.bver) || r.bver < 1 || r.bver > SENML_VERSION)) {
    return `record ${i}: unsupported SenML version ${r.bver}`;
  }
  if (typeof r.bn === 'string') base.name = r.bn;
  if (typeof r.bt === 'number') base.time = r.bt;
  if (typeof r.bu === 'string') base.unit = r.bu;
  if (typeof r.bv === 'number') base.value = r.bv;
  if (typeof r.bs === 'number') base.sum = r.bs;
  return undefined;
}

/**
 * Resolves a SenML pack (§4.6) into records with every base field applied.
 * @param pack the JSON-parsed payload
 * @param now receive time in ms since the epoch, for relative times
 */
export function resolveSenml(pack: unknown, now: number): SenmlResult {
  if (!Array.isArray(pack)) return fail('a SenML pack is a JSON array');
  if (pack.length === 0) return fail('empty SenML pack');
  const base: Base = { name: '', time: 0, unit: undefined, value: 0, sum: 0 };
  const records: SenmlRecord[] = [];
  for (let i = 0; i < pack.length; i++) {
    const r: unknown = pack[i];
    if (!isRecordObject(r)) return fail(`record ${i}: not an object`);
    const problem = checkTypes(r, i) ?? applyBase(r, base, i);
    if (problem !== undefined) return fail(problem);
    const rec = resolveRecord(r, base, i, now);
    if (typeof rec === 'string') return fail(rec);
    records.push(rec);
  }
  return { ok: true, records };
}
