import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FIELDS, KINDS, REQUIRED_ONE_OF, fieldNames, type FieldSpec } from './kinds.ts';
import { DeviceId, DeviceInput, FloodMeta, PAYLOAD_SCHEMAS, StreetlightMeta } from './schemas.ts';

describe('payload schemas', () => {
  it('accept every field of every kind at its range limits', () => {
    for (const kind of KINDS) {
      for (const [name, spec] of Object.entries<FieldSpec>(FIELDS[kind])) {
        const values = spec.type === 'boolean' ? [true, false] : [spec.min, spec.max];
        // The first required field, given a valid value, so that only the field under test varies.
        const required = REQUIRED_ONE_OF[kind][0]!;
        const reqSpec = (FIELDS[kind] as Record<string, FieldSpec>)[required]!;
        for (const v of values) {
          const body = { [required]: reqSpec.type === 'boolean' ? true : reqSpec.min, [name]: v };
          expect(PAYLOAD_SCHEMAS[kind].safeParse(body).success, `${kind}.${name}=${String(v)}`).toBe(true);
        }
      }
    }
  });

  it('reject values just outside the range', () => {
    expect(PAYLOAD_SCHEMAS.air_quality.safeParse({ pm25: -0.001 }).success).toBe(false);
    expect(PAYLOAD_SCHEMAS.streetlight.safeParse({ dim_pct: 100.5 }).success).toBe(false);
  });

  it('reject unknown keys (strict) and wrong types', () => {
    expect(PAYLOAD_SCHEMAS.flood.safeParse({ rain_mm: 1, colour: 'blue' }).success).toBe(false);
    expect(PAYLOAD_SCHEMAS.streetlight.safeParse({ lamp_on: 1 }).success).toBe(false);
  });

  it('require one of the kind’s required fields', () => {
    expect(PAYLOAD_SCHEMAS.air_quality.safeParse({ temperature: 30 }).success).toBe(false);
    expect(PAYLOAD_SCHEMAS.flood.safeParse({ battery_v: 3.7 }).success).toBe(false);
    expect(PAYLOAD_SCHEMAS.flood.safeParse({ distance_m: 2 }).success).toBe(true);
  });

  it('accept ts as RFC 3339 with offset or epoch ms, nothing else', () => {
    const s = PAYLOAD_SCHEMAS.air_quality;
    expect(s.safeParse({ pm25: 1, ts: '2025-10-27T07:00:00+07:00' }).success).toBe(true);
    expect(s.safeParse({ pm25: 1, ts: '2025-10-27T00:00:00.123Z' }).success).toBe(true);
    expect(s.safeParse({ pm25: 1, ts: 1761523200000 }).success).toBe(true);
    expect(s.safeParse({ pm25: 1, ts: '2025-10-27 00:00' }).success).toBe(false);
    expect(s.safeParse({ pm25: 1, ts: '2025-10-27T00:00:00' }).success).toBe(false);
    expect(s.safeParse({ pm25: 1, ts: -1 }).success).toBe(false);
  });

  it('every kind has a schema covering exactly its fields', () => {
    for (const kind of KINDS) {
      const body = Object.fromEntries(fieldNames(kind).map((f) => [f, 'x']));
      const result = PAYLOAD_SCHEMAS[kind].safeParse(body);
      expect(result.success).toBe(false);
      const paths = result.error!.issues.map((i) => i.path[0]);
      expect(new Set(paths)).toEqual(new Set(fieldNames(kind)));
    }
  });
});

describe('DeviceId', () => {
  it('matches the id pattern', () => {
    expect(DeviceId.safeParse('sl-le-loi-01').success).toBe(true);
    expect(DeviceId.safeParse('a'.repeat(64)).success).toBe(true);
    for (const bad of ['', '-x', 'a'.repeat(65), 'a/b', 'a+b', 'a#', 'á']) {
      expect(DeviceId.safeParse(bad).success, bad).toBe(false);
    }
  });

  it('never admits MQTT topic separators or wildcards', () => {
    fc.assert(
      fc.property(fc.string(), (s) => {
        if (DeviceId.safeParse(s).success) expect(/[/+#]/.test(s)).toBe(false);
      }),
    );
  });
});

describe('registry metadata', () => {
  it('flood alarm levels must ascend', () => {
    expect(FloodMeta.safeParse({ type: 'river', alarm_levels_m: [1, 2, 3.5] }).success).toBe(true);
    expect(FloodMeta.safeParse({ type: 'river', alarm_levels_m: [2, 1, 3.5] }).success).toBe(false);
    expect(FloodMeta.safeParse({ type: 'lake' }).success).toBe(false);
  });

  it('streetlight tolerance defaults to 10 %', () => {
    expect(StreetlightMeta.parse({ street: 'Lê Lợi', rated_w: 150 }).tolerance_pct).toBe(10);
  });

  it('device input checks meta against the kind', () => {
    const common = { id: 'd1', name: 'n', district: 'Phú Xuân', location: { lat: 16.47, lon: 107.58 } };
    expect(DeviceInput.safeParse({ ...common, kind: 'air_quality' }).success).toBe(true);
    expect(DeviceInput.safeParse({ ...common, kind: 'flood' }).success).toBe(false);
    expect(DeviceInput.safeParse({ ...common, kind: 'flood', meta: { type: 'rain' } }).success).toBe(true);
    expect(DeviceInput.safeParse({ ...common, kind: 'streetlight', meta: { type: 'rain' } }).success).toBe(
      false,
    );
    expect(
      DeviceInput.safeParse({ ...common, kind: 'air_quality', location: { lat: 91, lon: 0 } }).success,
    ).toBe(false);
  });
});
