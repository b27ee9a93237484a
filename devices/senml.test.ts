import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SENML_RELATIVE_TIME_LIMIT_S, resolveSenml, type SenmlRecord } from './senml.ts';

const NOW = Date.parse('2025-10-27T03:00:00Z');

function records(pack: unknown): SenmlRecord[] {
  const r = resolveSenml(pack, NOW);
  if (!r.ok) throw new Error(r.reason);
  return r.records;
}

function reason(pack: unknown): string {
  const r = resolveSenml(pack, NOW);
  if (r.ok) throw new Error('expected a failure');
  return r.reason;
}

describe('resolveSenml: RFC 8428 examples', () => {
  it('§5.1.2 multiple data points: base name and absolute times', () => {
    const pack = [
      { bn: 'urn:dev:ow:10e2073a01080063:', u: 'Cel', t: 1.276020076e9, v: 23.5 },
      { u: 'Cel', t: 1.276020091e9, v: 23.6 },
    ];
    expect(records(pack)).toEqual([
      { name: 'urn:dev:ow:10e2073a01080063:', unit: 'Cel', time: 1276020076000, value: 23.5 },
      { name: 'urn:dev:ow:10e2073a01080063:', unit: 'Cel', time: 1276020091000, value: 23.6 },
    ]);
  });

  it('§5.1.4 base time, base unit and offsets', () => {
    const pack = [
      { bn: 'urn:dev:ow:10e2073a01080063', bt: 1.320067464e9, bu: '%RH', v: 20 },
      { u: 'lon', v: 24.30621 },
      { t: 60, v: 20.3 },
    ];
    expect(records(pack)).toEqual([
      { name: 'urn:dev:ow:10e2073a01080063', unit: '%RH', time: 1320067464000, value: 20 },
      { name: 'urn:dev:ow:10e2073a01080063', unit: 'lon', time: 1320067464000, value: 24.30621 },
      { name: 'urn:dev:ow:10e2073a01080063', unit: '%RH', time: 1320067524000, value: 20.3 },
    ]);
  });

  it('the domain example: voltage and current at t=0 (relative to now)', () => {
    const pack = [
      { bn: 'urn:dev:ow:10e2073a01080063:', n: 'voltage', t: 0, u: 'V', v: 120.1 },
      { n: 'current', t: 0, u: 'A', v: 1.2 },
    ];
    expect(records(pack)).toEqual([
      { name: 'urn:dev:ow:10e2073a01080063:voltage', unit: 'V', time: NOW, value: 120.1 },
      { name: 'urn:dev:ow:10e2073a01080063:current', unit: 'A', time: NOW, value: 1.2 },
    ]);
  });
});

describe('resolveSenml: rules', () => {
  it('adds the base value to v, not to vs or vb', () => {
    expect(
      records([
        { n: 'a', bv: 10, v: 1.5 },
        { n: 'b', vb: true },
        { n: 'c', vs: 'x' },
      ]).map((r) => r.value),
    ).toEqual([11.5, true, 'x']);
  });

  it('times below 2^28 s are relative to now, fractional seconds included', () => {
    expect(records([{ n: 'a', t: -1.5, v: 1 }])[0]!.time).toBe(NOW - 1500);
    expect(records([{ n: 'a', t: SENML_RELATIVE_TIME_LIMIT_S, v: 1 }])[0]!.time).toBe(
      SENML_RELATIVE_TIME_LIMIT_S * 1000,
    );
  });

  it('keeps vd and sums apart from values', () => {
    expect(
      records([
        { n: 'a', vd: 'AQI' },
        { n: 'b', bs: 1, s: 2 },
      ]),
    ).toEqual([
      { name: 'a', time: NOW, data: 'AQI' },
      { name: 'b', time: NOW, sum: 3 },
    ]);
  });

  it.each([
    ['not an array', { n: 'a', v: 1 }],
    ['empty pack', []],
    ['record not an object', [1]],
    ['two values', [{ n: 'a', v: 1, vb: true }]],
    ['no value', [{ n: 'a' }]],
    ['empty name', [{ v: 1 }]],
    ['bad first character', [{ n: '-a', v: 1 }]],
    ['bad character', [{ n: 'a b', v: 1 }]],
    ['wrong type of v', [{ n: 'a', v: '1' }]],
    ['wrong type of vb', [{ n: 'a', vb: 1 }]],
    ['wrong type of bt', [{ bt: '0', n: 'a', v: 1 }]],
    ['newer version', [{ bver: 11, n: 'a', v: 1 }]],
    ['must-understand field', [{ n: 'a', v: 1, xyz_: 1 }]],
  ])('fails on %s', (_what, pack) => {
    expect(reason(pack)).toEqual(expect.any(String));
  });

  it('ignores unknown fields that are not must-understand (§4.4)', () => {
    expect(records([{ n: 'a', v: 1, extra: { x: 1 } }])).toEqual([{ name: 'a', time: NOW, value: 1 }]);
  });
});

// Property: compressing fully resolved records into a pack with base fields, in any way the RFC allows,
// and resolving it gives back exactly the records (the reference expansion is the input itself).
const NAME = /^[A-Za-z0-9][A-Za-z0-9\-:./_]{0,20}$/;
const resolvedRecord = fc.record({
  name: fc.stringMatching(NAME),
  unit: fc.option(fc.constantFrom('m', 'V', 'W', 'Cel', '%RH'), { nil: undefined }),
  time: fc.integer({ min: SENML_RELATIVE_TIME_LIMIT_S * 1000, max: 4_000_000_000_000 }),
  value: fc.oneof(fc.integer({ min: -1e6, max: 1e6 }), fc.string(), fc.boolean()),
});
const step = fc.record({
  rec: resolvedRecord,
  rebase: fc.boolean(),
  cut: fc.nat(),
  bv: fc.integer({ min: -999, max: 999 }),
});

interface Resolved {
  name: string;
  unit: string | undefined;
  time: number;
  value: number | string | boolean;
}

function compress(
  steps: { rec: Resolved; rebase: boolean; cut: number; bv: number }[],
): Record<string, unknown>[] {
  const useBu = steps.every((s) => s.rec.unit !== undefined);
  let bn = '';
  let bt = 0;
  let bv = 0;
  let bu: string | undefined;
  return steps.map(({ rec, rebase, cut, bv: newBv }) => {
    const out: Record<string, unknown> = {};
    if (rebase || !rec.name.startsWith(bn) || rec.name === bn) {
      bn = rec.name.slice(0, cut % rec.name.length);
      out.bn = bn;
      bt = Math.floor(rec.time / 1000) - (cut % 1000);
      out.bt = bt;
      bv = newBv;
      out.bv = bv;
      if (useBu) bu = out.bu = rec.unit;
    }
    out.n = rec.name.slice(bn.length);
    out.t = rec.time / 1000 - bt;
    if (rec.unit !== bu) out.u = rec.unit;
    if (typeof rec.value === 'number') out.v = rec.value - bv;
    else if (typeof rec.value === 'string') out.vs = rec.value;
    else out.vb = rec.value;
    return out;
  });
}

describe('resolveSenml: property', () => {
  it('resolves any base-field compression back to the records', () => {
    fc.assert(
      fc.property(fc.array(step, { minLength: 1, maxLength: 20 }), (steps) => {
        const expected = steps.map(({ rec }) =>
          rec.unit === undefined ? { name: rec.name, time: rec.time, value: rec.value } : rec,
        );
        expect(records(compress(steps))).toEqual(expected);
      }),
    );
  });

  it('never throws on arbitrary JSON', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (v) => {
        expect(typeof resolveSenml(v, NOW).ok).toBe('boolean');
      }),
    );
  });
});
