import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fieldNames, KINDS } from '../devices/index.ts';
import { resolveFields, seriesPoints, splitFields } from './readings.ts';

describe('resolveFields', () => {
  it('gives every field of the kind by default, only numeric ones for means', () => {
    expect(resolveFields('streetlight', undefined, false)).toEqual(fieldNames('streetlight'));
    expect(resolveFields('streetlight', undefined, true)).not.toContain('lamp_on');
    expect(resolveFields('air_quality', ['pm25', 'pm25', 'pm10'], true)).toEqual(['pm25', 'pm10']);
  });

  it('refuses a field of another kind and a boolean field when means are asked for', () => {
    expect(() => resolveFields('flood', ['pm25'], false)).toThrow(/not a field of flood/);
    expect(() => resolveFields('streetlight', ['lamp_on'], true)).toThrow(/no mean/);
    expect(resolveFields('streetlight', ['lamp_on'], false)).toEqual(['lamp_on']);
  });

  it('accepts exactly the names of the kind, whatever else is asked for', () => {
    fc.assert(
      fc.property(fc.constantFrom(...KINDS), fc.string({ maxLength: 20 }), (kind, name) => {
        const known = fieldNames(kind).includes(name);
        let accepted = true;
        try {
          resolveFields(kind, [name], false);
        } catch {
          accepted = false;
        }
        expect(accepted).toBe(known);
      }),
    );
  });
});

describe('splitFields', () => {
  it('splits on commas and drops blanks', () => {
    expect(splitFields('pm25, pm10,,')).toEqual(['pm25', 'pm10']);
    expect(splitFields(' , ')).toBeUndefined();
    expect(splitFields(undefined)).toBeUndefined();
  });
});

describe('seriesPoints', () => {
  it('turns rows into points with ISO times, null for missing or non-field values', () => {
    const series = {
      name: 'air_quality',
      columns: ['time', 'pm25', 'note'],
      values: [
        [1_761_566_400_000, 17, 'x'],
        [1_761_566_460_000, null, 'y'],
        ['not a time', 1, 'z'],
      ],
    };
    expect(seriesPoints(series, ['pm25', 'pm10'])).toEqual([
      { time: '2025-10-27T12:00:00.000Z', values: { pm25: 17, pm10: null } },
      { time: '2025-10-27T12:01:00.000Z', values: { pm25: null, pm10: null } },
    ]);
  });
});
