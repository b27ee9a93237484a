// The hourly index per station: one `aqi` point per completed hour, stamped at the start of the next, from
// the same calculation as aqi/; hourly means that survive a restart through their saved state.
import { describe, expect, it } from 'vitest';
import type { Reading } from '../../devices/index.ts';
import { stationFields, stationIndex, stationInit, stationReading } from '../../aqi/index.ts';
import type { RuleDevice } from './rule-device.ts';
import { createAqiWriter, STATION_STATE_KEY } from './aqi-writer.ts';

const STATION: RuleDevice = {
  id: 'aq-hung-vuong',
  kind: 'air_quality',
  name: '83 Hùng Vương',
  district: 'Thuận Hóa',
  tags: [],
  meta: {},
};
const H = 3_600_000;
const T0 = Date.UTC(2025, 0, 15, 0);
const pm = (time: number, pm25: number): Reading => ({
  kind: 'air_quality',
  device: STATION.id,
  time,
  fields: { pm25, pm10: pm25 * 1.8 },
});

describe('createAqiWriter', () => {
  it('writes one point per completed hour once the NowCast has its 2 of 3 hours, equal to the station index', () => {
    const lines: string[] = [];
    const writer = createAqiWriter((l) => lines.push(l));
    let state = stationInit();
    for (let h = 0; h < 4; h++)
      for (const m of [5, 25, 45]) {
        const r = pm(T0 + h * H + m * 60_000, 20 + 10 * h);
        writer.onReading(r, STATION);
        if (h < 3) state = stationReading(state, r);
      }
    // After hour 0 alone the NowCast has one hour of the 2 of 3 it needs (docs/domain.md): no point yet.
    expect(lines).toHaveLength(2);
    expect(lines.every((l) => l.startsWith('aqi,device=aq-hung-vuong,district=Thuận\\ Hóa '))).toBe(true);
    const last = lines[1]!;
    expect(last.endsWith(` ${T0 + 3 * H}\n`)).toBe(true);
    const fields = stationFields(stationIndex(state, T0 + 3 * H)!);
    expect(last).toContain(`vn_aqi=${fields.vn_aqi}`);
    expect(last).toContain(`us_aqi=${fields.us_aqi}`);
  });

  it('ignores other kinds, and its saved hourly means restore into a new writer', () => {
    const lines: string[] = [];
    const first = createAqiWriter((l) => lines.push(l));
    first.onReading({ kind: 'flood', device: 'rg', time: T0, fields: { rain_mm: 1 } }, STATION);
    expect(first.takeDirty()).toEqual([]);
    first.onReading(pm(T0 + 10 * 60_000, 35), STATION);
    first.onReading(pm(T0 + H + 10 * 60_000, 35), STATION);
    expect(lines).toEqual([]);
    const saved = first.takeDirty();
    expect(saved.map((s) => [s.rule, s.device])).toEqual([[STATION_STATE_KEY, STATION.id]]);

    const second = createAqiWriter((l) => lines.push(l));
    second.restore(JSON.parse(JSON.stringify(saved)) as typeof saved);
    second.onReading(pm(T0 + 2 * H + 60_000, 35), STATION);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/vn_aqi=\d+/);
  });
});
