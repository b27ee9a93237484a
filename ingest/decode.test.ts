import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  FIELDS,
  KINDS,
  PAYLOAD_SCHEMAS,
  REQUIRED_ONE_OF,
  type FieldSpec,
  type Kind,
} from '../devices/index.ts';
import { decodeDevicePayload, decodeGatewayPayload, type DecodeResult } from './decode.ts';
import { INGEST_ERRORS, MAX_AGE_MS, MAX_FUTURE_MS, type IngestErrorCode } from './errors.ts';

const NOW = Date.parse('2025-10-27T03:00:00Z');
const json = (x: unknown): Buffer => Buffer.from(typeof x === 'string' ? x : JSON.stringify(x));
const device = (kind: Kind, body: unknown, id = 'd1'): DecodeResult =>
  decodeDevicePayload(kind, id, json(body), NOW);
const children: Record<string, Kind> = { 'sl-01': 'streetlight', 'sl-02': 'streetlight', 'rain-1': 'flood' };
const lookup = (id: string) => (Object.hasOwn(children, id) ? { kind: children[id]! } : undefined);
const gateway = (body: unknown): DecodeResult => decodeGatewayPayload('gw-1', json(body), NOW, lookup);

function codeOf(r: DecodeResult): IngestErrorCode | 'ok' {
  return r.ok ? 'ok' : r.code;
}

describe('JSON object payloads', () => {
  it('decode to one reading at the receive time', () => {
    expect(device('air_quality', { pm25: 12.5, humidity: 80 })).toEqual({
      ok: true,
      readings: [{ kind: 'air_quality', device: 'd1', time: NOW, fields: { pm25: 12.5, humidity: 80 } }],
    });
  });

  it('take ts as RFC 3339 or epoch ms', () => {
    const r1 = device('flood', { water_level_m: 3.6, ts: '2025-10-27T09:55:00+07:00' });
    const r2 = device('flood', { water_level_m: 3.6, ts: NOW - 60_000 });
    expect(r1.ok && r1.readings[0]!.time).toBe(NOW - 5 * 60_000);
    expect(r2.ok && r2.readings[0]!.time).toBe(NOW - 60_000);
    expect(r1.ok && r1.readings[0]!.fields).toEqual({ water_level_m: 3.6 });
  });

  it.each<[string, Kind, unknown, IngestErrorCode]>([
    ['malformed JSON', 'flood', '{"rain_mm":', 'INGEST_ERR_JSON'],
    ['not an object', 'flood', '42', 'INGEST_ERR_SCHEMA'],
    ['null', 'flood', 'null', 'INGEST_ERR_SCHEMA'],
    ['wrong type', 'streetlight', { lamp_on: 'yes' }, 'INGEST_ERR_SCHEMA'],
    ['none of the required fields', 'air_quality', { temperature: 31 }, 'INGEST_ERR_SCHEMA'],
    ['out of range', 'streetlight', { dim_pct: 101 }, 'INGEST_ERR_RANGE'],
    ['negative concentration', 'air_quality', { pm10: -1 }, 'INGEST_ERR_RANGE'],
    ['unknown field', 'flood', { rain_mm: 1, pressure: 1000 }, 'INGEST_ERR_UNKNOWN_FIELD'],
    ['unparseable ts', 'flood', { rain_mm: 1, ts: 'yesterday' }, 'INGEST_ERR_TIME'],
    ['ts in the future', 'flood', { rain_mm: 1, ts: NOW + MAX_FUTURE_MS + 1 }, 'INGEST_ERR_TIME'],
    ['ts too old', 'flood', { rain_mm: 1, ts: NOW - MAX_AGE_MS - 1 }, 'INGEST_ERR_TIME'],
    ['ts in epoch seconds', 'flood', { rain_mm: 1, ts: Math.floor(NOW / 1000) }, 'INGEST_ERR_TIME'],
  ])('refuse %s', (_what, kind, body, code) => {
    expect(codeOf(device(kind, body))).toBe(code);
  });

  it('refuse invalid UTF-8', () => {
    const r = decodeDevicePayload('flood', 'd1', Buffer.from([0x7b, 0xff, 0x7d]), NOW);
    expect(codeOf(r)).toBe('INGEST_ERR_JSON');
  });

  it('name the fields the kind takes when refusing an unknown one, in JSON and in SenML', () => {
    const object = device('flood', { rain_mm: 1, depth_m: 0.3 });
    expect(object.ok ? '' : object.detail).toBe(
      'Unrecognized key: "depth_m"; flood takes water_level_m, distance_m, rain_mm, battery_v, ts',
    );
    const senml = decodeDevicePayload('flood', 'd1', json([{ n: 'depth_m', v: 0.3 }]), NOW);
    expect(senml.ok ? '' : senml.detail).toContain('flood has no field depth_m; it takes water_level_m,');
  });

  it('treat a __proto__ key as an unknown field', () => {
    expect(codeOf(device('flood', '{"rain_mm":1,"__proto__":{"x":1}}'))).toBe('INGEST_ERR_UNKNOWN_FIELD');
  });

  it('accept the time window edges', () => {
    expect(codeOf(device('flood', { rain_mm: 1, ts: NOW + MAX_FUTURE_MS }))).toBe('ok');
    expect(codeOf(device('flood', { rain_mm: 1, ts: NOW - MAX_AGE_MS }))).toBe('ok');
  });
});

describe('SenML payloads from a device', () => {
  it('accept bare field names and <deviceId>/ base names, converting units', () => {
    const r = device('flood', [
      { bn: 'd1/', n: 'rain_mm', u: 'm', v: 0.0002 },
      { n: 'battery_v', u: 'V', v: 3.7 },
      { n: 'water_level_m', v: 1.2 },
    ]);
    expect(r).toEqual({
      ok: true,
      readings: [
        {
          kind: 'flood',
          device: 'd1',
          time: NOW,
          fields: { rain_mm: 0.2, battery_v: 3.7, water_level_m: 1.2 },
        },
      ],
    });
  });

  it('split records at different times into different readings', () => {
    const r = device('air_quality', [
      { bt: NOW / 1000 - 120, n: 'pm25', u: 'ug/m3', v: 10 },
      { n: 'pm10', u: 'ug/m3', v: 20 },
      { t: 60, n: 'pm25', u: 'ug/m3', v: 11 },
    ]);
    expect(r.ok && r.readings.map((x) => [x.time, x.fields])).toEqual([
      [NOW - 120_000, { pm25: 10, pm10: 20 }],
      [NOW - 60_000, { pm25: 11 }],
    ]);
  });

  it('take booleans from vb and convert joules to kWh exactly', () => {
    const r = device('streetlight', [
      { n: 'lamp_on', vb: true },
      { n: 'energy_kwh', u: 'J', v: 7.2e6 },
    ]);
    expect(r.ok && r.readings[0]!.fields).toEqual({ lamp_on: true, energy_kwh: 2 });
  });

  it.each<[string, Kind, unknown, IngestErrorCode]>([
    ['invalid SenML', 'flood', [{ n: 'rain_mm' }], 'INGEST_ERR_SENML'],
    ['an empty pack', 'flood', [], 'INGEST_ERR_SENML'],
    [
      'a field twice at one time',
      'flood',
      [
        { n: 'rain_mm', v: 1 },
        { n: 'rain_mm', v: 2 },
      ],
      'INGEST_ERR_SENML',
    ],
    ['an unknown field', 'flood', [{ n: 'pressure', v: 1 }], 'INGEST_ERR_UNKNOWN_FIELD'],
    ['a unit not accepted', 'flood', [{ n: 'rain_mm', u: 'in', v: 1 }], 'INGEST_ERR_UNIT'],
    ['a number as vb', 'streetlight', [{ n: 'lamp_on', v: 1 }], 'INGEST_ERR_SCHEMA'],
    ['a string value', 'flood', [{ n: 'rain_mm', vs: '1' }], 'INGEST_ERR_SCHEMA'],
    [
      'a reading without required fields',
      'air_quality',
      [{ n: 'temperature', u: 'Cel', v: 30 }],
      'INGEST_ERR_SCHEMA',
    ],
    [
      'a value out of range after conversion',
      'flood',
      [{ n: 'rain_mm', u: 'm', v: 0.6 }],
      'INGEST_ERR_RANGE',
    ],
    ['a time in the future', 'flood', [{ n: 'rain_mm', t: 301, v: 1 }], 'INGEST_ERR_TIME'],
    ['another device', 'flood', [{ n: 'd2/rain_mm', v: 1 }], 'INGEST_ERR_WRONG_DEVICE'],
  ])('refuse %s', (_what, kind, body, code) => {
    expect(codeOf(device(kind, body))).toBe(code);
  });
});

describe('gateway payloads', () => {
  it('decode records for several children', () => {
    const r = gateway([
      { bn: 'sl-01/', n: 'lamp_on', vb: true },
      { n: 'power_w', u: 'W', v: 151 },
      { bn: 'rain-1/', n: 'rain_mm', u: 'mm', v: 0.2 },
    ]);
    expect(r).toEqual({
      ok: true,
      readings: [
        { kind: 'streetlight', device: 'sl-01', time: NOW, fields: { lamp_on: true, power_w: 151 } },
        { kind: 'flood', device: 'rain-1', time: NOW, fields: { rain_mm: 0.2 } },
      ],
    });
  });

  it('refuse the whole pack when one record is for a device that is not a child', () => {
    const r = gateway([
      { n: 'sl-01/lamp_on', vb: true },
      { n: 'sl-99/lamp_on', vb: true },
    ]);
    expect(codeOf(r)).toBe('INGEST_ERR_NOT_CHILD');
  });

  it.each<[string, unknown, IngestErrorCode]>([
    ['a JSON object', { lamp_on: true }, 'INGEST_ERR_SENML'],
    ['a name without a device', [{ n: 'lamp_on', vb: true }], 'INGEST_ERR_SENML'],
    ['malformed JSON', '[{', 'INGEST_ERR_JSON'],
    ['a field of another kind', [{ n: 'rain-1/lamp_on', vb: true }], 'INGEST_ERR_UNKNOWN_FIELD'],
  ])('refuse %s', (_what, body, code) => {
    expect(codeOf(gateway(body))).toBe(code);
  });
});

// ---- properties ----

function fieldArb(spec: FieldSpec): fc.Arbitrary<number | boolean> {
  if (spec.type === 'boolean') return fc.boolean();
  return fc
    .double({ min: spec.min ?? -1e9, max: spec.max ?? 1e9, noNaN: true, noDefaultInfinity: true })
    .map((v) => (Object.is(v, -0) ? 0 : v));
}

/** A random valid field set of a kind: any subset of its fields that holds a required one. */
function fieldsArb(kind: Kind): fc.Arbitrary<Record<string, number | boolean>> {
  const specs = Object.entries<FieldSpec>(FIELDS[kind]);
  const model = Object.fromEntries(specs.map(([name, spec]) => [name, fieldArb(spec)]));
  return fc
    .record(model, { requiredKeys: [] })
    .filter((f) => REQUIRED_ONE_OF[kind].some((name) => f[name] !== undefined))
    .map((f) => {
      const out: Record<string, number | boolean> = {};
      for (const [name, v] of Object.entries(f)) if (v !== undefined) out[name] = v;
      return out;
    });
}

const kindAndFields = fc.constantFrom(...KINDS).chain((kind) => fc.tuple(fc.constant(kind), fieldsArb(kind)));

describe('properties', () => {
  it('a random valid JSON object decodes to exactly its fields', () => {
    fc.assert(
      fc.property(
        kindAndFields,
        fc.integer({ min: -MAX_AGE_MS, max: MAX_FUTURE_MS }),
        ([kind, fields], dt) => {
          const r = device(kind, { ...fields, ts: NOW + dt });
          expect(r).toEqual({ ok: true, readings: [{ kind, device: 'd1', time: NOW + dt, fields }] });
        },
      ),
    );
  });

  it('a random valid SenML pack decodes to exactly its fields', () => {
    fc.assert(
      fc.property(kindAndFields, fc.boolean(), ([kind, fields], prefixed) => {
        const pack = Object.entries(fields).map(([name, v]) =>
          typeof v === 'boolean'
            ? { n: prefixed ? `d1/${name}` : name, vb: v }
            : { n: prefixed ? `d1/${name}` : name, v },
        );
        expect(device(kind, pack)).toEqual({
          ok: true,
          readings: [{ kind, device: 'd1', time: NOW, fields }],
        });
      }),
    );
  });

  it('random bytes and random JSON never throw and always give a known code', () => {
    const garbage = fc.oneof(
      fc.uint8Array({ maxLength: 200 }).map((b) => Buffer.from(b)),
      fc.jsonValue().map((v) => json(JSON.stringify(v))),
      fc
        .array(
          fc.dictionary(fc.constantFrom('n', 'bn', 'v', 'vb', 'u', 't', 'bt', 'bv', 'vs'), fc.jsonValue()),
        )
        .map(json),
    );
    fc.assert(
      fc.property(fc.constantFrom(...KINDS), garbage, (kind, payload) => {
        for (const r of [
          decodeDevicePayload(kind, 'd1', payload, NOW),
          decodeGatewayPayload('gw-1', payload, NOW, lookup),
        ]) {
          if (!r.ok) expect(Object.keys(INGEST_ERRORS)).toContain(r.code);
        }
      }),
    );
  });
});

describe('the fast check and the zod schema', () => {
  // decode.ts accepts the common payload without zod; whatever it does not accept goes through the schema.
  // For any object of known and unknown keys with values of any type, in or out of range, decoding
  // succeeds exactly when the kind's zod schema accepts the object.
  const value = fc.oneof(
    fc.double({ noNaN: true, noDefaultInfinity: true, min: -1e7, max: 1e7 }),
    fc.integer({ min: -10, max: 2000 }),
    fc.boolean(),
    fc.string({ maxLength: 3 }),
    fc.constant(null),
  );
  it('agrees with PAYLOAD_SCHEMAS on every object', () => {
    const now = Date.UTC(2026, 10, 28);
    fc.assert(
      fc.property(fc.constantFrom(...KINDS), fc.constantFrom(...KINDS), (kind, other) => {
        const keys = [...Object.keys(FIELDS[kind]), ...Object.keys(FIELDS[other]), 'unknown'];
        return fc.assert(
          fc.property(fc.dictionary(fc.constantFrom(...keys), value, { maxKeys: 6 }), (body) => {
            const result = decodeDevicePayload(kind, 'd1', Buffer.from(JSON.stringify(body)), now);
            expect(result.ok).toBe(PAYLOAD_SCHEMAS[kind].safeParse(body).success);
          }),
          { numRuns: 200 },
        );
      }),
      { numRuns: 9 },
    );
  });
});
