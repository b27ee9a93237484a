import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { PAYLOAD_SCHEMAS, resolveSenml } from '../devices/index.ts';
import { createDeviceModel, type ModelTarget } from './models/index.ts';
import { devicePayload, gatewayPack } from './payloads.ts';

const HUE = { lat: 16.46, lon: 107.59 };
const targets: ModelTarget[] = [
  { id: 'aq-1', kind: 'air_quality', location: HUE },
  { id: 'fl-1', kind: 'flood', location: HUE, meta: { type: 'river', datum_m: 9 } },
  { id: 'fl-2', kind: 'flood', location: HUE, meta: { type: 'street' } },
  {
    id: 'sl-1',
    kind: 'streetlight',
    location: HUE,
    meta: { street: 'Lê Lợi', rated_w: 180, tolerance_pct: 10 },
  },
];

function readingsAt(t: number, scenarioMs: number) {
  return targets.map((d) => {
    const model = createDeviceModel(d, { seed: 2, scenario: 'flood', faultsPerDay: 0.5 });
    const at = { t, scenarioMs };
    return {
      id: d.id,
      kind: d.kind,
      fields: model.step(model.initial({ t: t - 600_000, scenarioMs }), at).fields,
    };
  });
}

const instant = fc.record({
  t: fc.integer({ min: Date.UTC(2024, 0, 1), max: Date.UTC(2030, 0, 1) }),
  scenarioMs: fc.integer({ min: -86_400_000, max: 3 * 86_400_000 }),
});

describe('payloads', () => {
  it('makes device payloads that pass the kind schema, with ts in epoch ms', () => {
    fc.assert(
      fc.property(instant, ({ t, scenarioMs }) => {
        for (const r of readingsAt(t, scenarioMs)) {
          const body: unknown = JSON.parse(devicePayload(r.fields, t + 0.4));
          expect(PAYLOAD_SCHEMAS[r.kind].safeParse(body).success).toBe(true);
          expect(body).toMatchObject({ ts: Math.round(t + 0.4) });
        }
      }),
      { numRuns: 50 },
    );
  });

  it('makes a SenML pack that resolves to every child field at the reading time', () => {
    fc.assert(
      fc.property(instant, ({ t, scenarioMs }) => {
        const readings = readingsAt(t, scenarioMs);
        const resolved = resolveSenml(JSON.parse(gatewayPack(readings, t)), t + 5000);
        if (!resolved.ok) throw new Error(resolved.reason);
        const expected = readings.flatMap((r) =>
          Object.entries(r.fields).map(([f, v]) => [`${r.id}/${f}`, v]),
        );
        expect(resolved.records.map((r) => [r.name, r.value])).toEqual(expected);
        for (const r of resolved.records) expect(r.time).toBe(t);
      }),
      { numRuns: 50 },
    );
  });

  it('sends an empty pack for no children', () => {
    expect(gatewayPack([], 0)).toBe('[]');
  });
});
