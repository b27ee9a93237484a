// The shipped example flows: what they are wired to, and their two functions run in Node-RED's test
// runtime on readings (the corroboration of rain and river, the daily air-quality summary).
import { readFileSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { loadFleet, type Fleet } from '../../devices/index.ts';
import { loadRuleFiles, type LoadedRule } from '../../rules/index.ts';
import { EXAMPLE_FLOWS } from './server.ts';
import { TAB, helper, nextInput, nodes } from '../../test/kits/node-red.ts';

type FlowNode = Record<string, unknown> & { id: string; type: string };
const flows = JSON.parse(readFileSync(EXAMPLE_FLOWS, 'utf8')) as FlowNode[];
const byType = (type: string) => flows.filter((n) => n.type === type);
const functionNamed = (name: string) => {
  const f = flows.find((n) => n.type === 'function' && n.name === name);
  if (!f) throw new Error(`no function node ${name}`);
  return f;
};

let fleet: Fleet;
let fileRules: LoadedRule[];

beforeAll(async () => {
  fleet = await loadFleet();
  const dir = path.resolve('rules/hue');
  const names = (await readdir(dir)).filter((f) => f.endsWith('.yaml') && !f.endsWith('.test.yaml'));
  const loaded = loadRuleFiles(
    await Promise.all(
      names.map(async (name) => ({ name, text: await readFile(path.join(dir, name), 'utf8') })),
    ),
  );
  if (!loaded.ok) throw new Error('the Huế rule files do not load');
  fileRules = loaded.rules;
});

afterEach(() => helper.unload());

describe('the example flows file', () => {
  it('uses only core nodes and the project’s', () => {
    const known = new Set([
      ...['city-platform', 'city-telemetry', 'city-raise-alert', 'city-clear-alert', 'city-device-info'],
      'city-send-command',
      ...['tab', 'comment', 'function', 'inject', 'catch', 'debug'],
    ]);
    expect(flows.filter((n) => !known.has(n.type))).toEqual([]);
  });

  it('holds no secret: the config node takes everything from the start command', () => {
    const [platform, ...more] = byType('city-platform');
    expect(more).toEqual([]);
    expect(platform).toMatchObject({ mqttUrl: '', account: '', prefix: '', apiUrl: '' });
    expect(flows.some((n) => 'credentials' in n)).toBe(false);
  });

  it("raises rules of their own, owned as the Huế rule files' alerts of the same field", () => {
    const requests = [...byType('city-raise-alert'), ...byType('city-clear-alert')];
    const ids = new Set(requests.map((n) => n.rule));
    expect(ids).toEqual(new Set(['street-flood-likely', 'air-daily-summary']));
    const fileIds = new Set(fileRules.map((r) => r.rule.id));
    for (const id of ids) expect(fileIds.has(id as string)).toBe(false);
    const ownersOf = (kind: string) =>
      new Set(fileRules.filter((r) => r.rule.select.kind === kind).map((r) => r.rule.owner));
    const raise = (rule: string) => byType('city-raise-alert').find((n) => n.rule === rule);
    expect(ownersOf('flood')).toEqual(new Set([raise('street-flood-likely')?.owner]));
    expect(ownersOf('air_quality')).toContain(raise('air-daily-summary')?.owner);
  });

  it('listens to devices of the fleet', () => {
    const ids = new Set(fleet.devices.map((d) => d.id));
    const listened = byType('city-telemetry').flatMap((t) => String(t.devices).split(','));
    const named = listened.map((d) => d.trim()).filter((d) => d !== '');
    expect(named).toEqual(['rain-kim-long', 'rg-kim-long']);
    for (const d of named) expect(ids).toContain(d);
  });
});

/**
 * Loads one function node of the flows, wired to two helper nodes, with a Complete node that tells when
 * the function has handled a message (its outputs are delivered before that).
 */
async function loadFunction(name: string) {
  const f = functionNamed(name);
  await helper.load(nodes.function, [
    TAB,
    { ...f, z: 'tab', wires: [['o1'], ['o2']] },
    { id: 'o1', z: 'tab', type: 'helper' },
    { id: 'o2', z: 'tab', type: 'helper' },
    { id: 'handled', z: 'tab', type: 'complete', scope: [f.id], uncaught: false, wires: [['h']] },
    { id: 'h', z: 'tab', type: 'helper' },
  ]);
  const out: [Array<Record<string, unknown>>, Array<Record<string, unknown>>] = [[], []];
  const keep = (port: 0 | 1) => (m: Record<string, unknown>) => {
    const { _msgid, ...rest } = m;
    out[port].push(rest);
  };
  helper.getNode('o1').on('input', keep(0));
  helper.getNode('o2').on('input', keep(1));
  const fn = helper.getNode(f.id);
  const send = async (msg: Record<string, unknown>) => {
    const handled = nextInput(helper.getNode('h'));
    fn.receive(msg);
    await handled;
  };
  return { out, send };
}

const T0 = Date.parse('2026-11-02T03:00:00Z'); // 10:00 in Huế
const min = (m: number) => T0 + m * 60_000;
const flood = (device: string, at: number, fields: Record<string, number>) => ({
  reading: { device, kind: 'flood', district: 'Kim Long', time: new Date(at).toISOString(), fields },
});

describe('street flood likely (rain and river at Kim Long)', () => {
  const streetGauges = () =>
    fleet.devices.filter((d) => d.kind === 'flood' && d.tags?.includes('street-flood')).map((d) => d.id);

  it('raises on every street gauge when both rain and rise hold, once', async () => {
    const { out, send } = await loadFunction('rain and rise in the last hour');
    await send(flood('rg-kim-long', min(0), { water_level_m: 0.5 }));
    for (const m of [10, 30, 50]) await send(flood('rain-kim-long', min(m), { rain_mm: 1.5 })); // 4.5 mm > 4.17
    expect(out[0]).toEqual([]); // rain alone
    await send(flood('rg-kim-long', min(55), { water_level_m: 0.59 })); // +0.09 m >= 0.084
    expect(out[0].map((m) => m.device).sort()).toEqual(streetGauges().sort());
    expect(out[0][0]).toMatchObject({
      kind: 'flood',
      message: expect.stringContaining('4.5 mm of rain') as string,
    });
    await send(flood('rg-kim-long', min(58), { water_level_m: 0.62 }));
    expect(out[0]).toHaveLength(streetGauges().length); // still both: no second raise
    expect(out[1]).toEqual([]);
  });

  it('does not raise on a rising river without the rain, nor on rain falling short', async () => {
    const { out, send } = await loadFunction('rain and rise in the last hour');
    await send(flood('rg-kim-long', min(0), { water_level_m: 0.5 }));
    await send(flood('rg-kim-long', min(50), { water_level_m: 0.7 }));
    await send(flood('rain-kim-long', min(55), { rain_mm: 4 })); // 4 mm, not more than 4.17
    expect(out).toEqual([[], []]);
  });

  it('keeps the warning while one still holds and clears it when neither does', async () => {
    const { out, send } = await loadFunction('rain and rise in the last hour');
    await send(flood('rg-kim-long', min(0), { water_level_m: 0.5 }));
    await send(flood('rain-kim-long', min(30), { rain_mm: 6 }));
    await send(flood('rg-kim-long', min(40), { water_level_m: 0.6 }));
    expect(out[0]).toHaveLength(streetGauges().length);
    // An hour on: no rain in the hour, the river still up 0.1 m within it: the warning stays.
    await send(flood('rg-kim-long', min(70), { water_level_m: 0.6 }));
    await send(flood('rg-kim-long', min(95), { water_level_m: 0.7 }));
    await send(flood('rain-kim-long', min(100), { rain_mm: 0 }));
    expect(out[1]).toEqual([]);
    // Then the river levels off.
    await send(flood('rg-kim-long', min(160), { water_level_m: 0.7 }));
    await send(flood('rg-kim-long', min(170), { water_level_m: 0.69 }));
    expect(out[1].map((m) => m.device).sort()).toEqual(streetGauges().sort());
    expect(out[1][0]).toMatchObject({
      kind: 'flood',
      message: expect.stringContaining('no longer likely') as string,
    });
  });

  it('ignores other devices, other fields and readings older than the hour kept', async () => {
    const { out, send } = await loadFunction('rain and rise in the last hour');
    await send(flood('rain-thuy-xuan', min(0), { rain_mm: 50 }));
    await send(flood('rg-kim-long', min(0), { battery_v: 3.6 }));
    await send(flood('rg-kim-long', min(120), { water_level_m: 0.5 }));
    await send(flood('rain-kim-long', min(30), { rain_mm: 50 })); // 90 minutes late
    await send(flood('rg-kim-long', min(130), { water_level_m: 0.9 }));
    expect(out).toEqual([[], []]);
  });
});

describe('daily air-quality summary', () => {
  const air = (device: string, district: string, at: string, fields: Record<string, number>) => ({
    reading: { device, kind: 'air_quality', district, time: at, fields },
  });
  const tick = (at: string) => ({ topic: 'tick', payload: Date.parse(at) });

  it("raises each district's summary on its first station once the city's day is over", async () => {
    const { out, send } = await loadFunction("the city's day per district");
    // 2 November in Huế (UTC+7) runs from 1 Nov 17:00 to 2 Nov 17:00 UTC.
    await send(air('aq-dong-ba', 'Phú Xuân', '2026-11-01T17:30:00Z', { pm25: 10, pm10: 30 }));
    await send(air('aq-dai-noi', 'Phú Xuân', '2026-11-02T05:00:00Z', { pm25: 20, pm10: 50 }));
    await send(air('aq-hung-vuong-83', 'Thuận Hóa', '2026-11-02T16:50:00Z', { pm10: 40 }));
    await send(tick('2026-11-02T16:55:00Z')); // 23:55 in Huế: not yet
    expect(out).toEqual([[], []]);
    await send(tick('2026-11-02T17:05:00Z'));
    expect(out[0]).toEqual([]); // nothing from the day before to clear
    expect(out[1]).toEqual([
      {
        device: 'aq-dai-noi',
        kind: 'air_quality',
        payload: 15,
        message:
          'Phú Xuân, 2026-11-02: PM2.5 mean 15 µg/m³, max 20; PM10 mean 40 µg/m³, max 50 (2 readings, 2 stations)',
      },
      {
        device: 'aq-hung-vuong-83',
        kind: 'air_quality',
        message: 'Thuận Hóa, 2026-11-02: PM10 mean 40 µg/m³, max 40 (1 reading, 1 station)',
      },
    ]);
  });

  it('clears the day before’s summaries when the next day closes, and ignores late readings', async () => {
    const { out, send } = await loadFunction("the city's day per district");
    await send(air('aq-dai-noi', 'Phú Xuân', '2026-11-02T05:00:00Z', { pm25: 20 }));
    await send(air('aq-hung-vuong-83', 'Thuận Hóa', '2026-11-02T05:00:00Z', { pm25: 30 }));
    // The first reading of the next day closes the day without waiting for a tick.
    await send(air('aq-dai-noi', 'Phú Xuân', '2026-11-03T01:00:00Z', { pm25: 12 }));
    expect(out[1].map((m) => m.device)).toEqual(['aq-dai-noi', 'aq-hung-vuong-83']);
    await send(air('aq-hung-vuong-83', 'Thuận Hóa', '2026-11-02T06:00:00Z', { pm25: 300 })); // late: ignored
    await send(tick('2026-11-03T17:01:00Z'));
    expect(out[0]).toEqual([
      {
        device: 'aq-dai-noi',
        kind: 'air_quality',
        message: 'Phú Xuân: replaced by the summary of 2026-11-03',
      },
      {
        device: 'aq-hung-vuong-83',
        kind: 'air_quality',
        message: 'Thuận Hóa: no readings on 2026-11-03',
      },
    ]);
    expect(out[1].slice(2)).toMatchObject([{ device: 'aq-dai-noi', payload: 12 }]);
  });
});

describe('the catch nodes', () => {
  it('send every problem of their tab to the debug sidebar', () => {
    for (const c of byType('catch')) {
      const debug = (c.wires as string[][])[0]?.[0];
      expect(flows.find((n) => n.id === debug)).toMatchObject({ type: 'debug', z: c.z, active: true });
    }
    expect(byType('catch')).toHaveLength(byType('tab').length);
  });
});
