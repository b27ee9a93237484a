// Micro-benchmark of the rule core's per-reading path: the Huế rule set (rules/hue/*.yaml) in
// `createRuleCore`, fed a generated stream of readings, and the station AQI writer beside it as the live
// engine runs them. Reports ns per reading (garbage collection included, and also shown apart) for the
// whole set and for each rule alone, so a change to an evaluator can be measured before and after. Also
// shown: the mean time of a tick (once a second of device time, kept out of the per-reading figure as in
// BENCHMARKS.md), and how many states a 5 s checkpoint would save per 1 000 readings (a state is saved
// when its evaluator returned a new object). A dev tool, not a test: timing belongs in benchmarks.
//
//   npm run bench:evaluators -- [options]
//   (node --max-semi-space-size=64 --import tsx bench/evaluators.ts: the flag is the one `npm start` uses)
//
//   --readings N   readings measured (default 200000), after as many again to warm up
//   --stream S     `fleet` (default): the Huế fleet's air stations (pm25, pm10, no2, o3, so2, co,
//                  temperature, humidity every 5 s of device time) and flood gauges (river level, street
//                  depth or rain, battery, every 10 s), about 24 hours of device time;
//                  `bench`: 100 stations sending pm25, pm10, temperature, humidity 150 times a second of
//                  device time, as `npm run bench -- --rules` does (bench/workload.ts)
//   --per-rule     also time each rule alone
import path from 'node:path';
import { PerformanceObserver } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { readCommandLine } from '../cli/index.ts';
import { loadFleet, type Reading } from '../devices/index.ts';
import {
  createAqiWriter,
  createRuleCore,
  loadRuleFiles,
  readRuleFolder,
  type Rule,
  type RuleDevice,
} from '../rules/index.ts';

interface Fed {
  readonly reading: Reading;
  readonly device: RuleDevice;
}

const HUE_DIR = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'rules', 'hue');
/** 2026-01-01T00:00:00+07:00: a whole hour, so the stream starts at the top of one. */
const START = Date.UTC(2025, 11, 31, 17);
const HOUR = 3_600_000;

const USAGE = `usage: npm run bench:evaluators -- [options]
  the rule core's time per reading, for the Huế rule set (bench/evaluators.ts says how)
  --readings <n>   readings measured (default 200000), after as many again to warm up
  --stream <s>     fleet (default: the Huế fleet's stations and gauges) or bench (as npm run bench -- --rules)
  --per-rule       also time each rule alone
  --help           this text`;

const { values: options } = readCommandLine({
  usage: USAGE,
  options: {
    readings: { type: 'string' },
    stream: { type: 'string' },
    'per-rule': { type: 'boolean', default: false },
  },
});

function arg(name: 'readings' | 'stream'): string | undefined {
  return options[name];
}

async function loadRules(): Promise<Rule[]> {
  const loaded = loadRuleFiles(await readRuleFolder(HUE_DIR));
  if (!loaded.ok) throw new Error(loaded.problems.map((p) => `${p.file}:${p.line} ${p.message}`).join('\n'));
  return loaded.rules.map((r) => r.rule);
}

async function fleetDevices(): Promise<RuleDevice[]> {
  const fleet = await loadFleet();
  return fleet.devices.filter((d) => d.kind !== 'streetlight');
}

/** A smooth daily swing in [0, 1], peaking `peak` hours into the stream. */
const swing = (t: number, peak: number): number =>
  0.5 + 0.5 * Math.cos((2 * Math.PI * ((t - START) / HOUR - peak)) / 24);
const round = (x: number, digits: number): number => Math.round(x * 10 ** digits) / 10 ** digits;

/** Air: a smoke episode around hour 8 takes PM2.5 to 150 µg/m³ and the VN_AQI to `bad`. */
function airFields(t: number, i: number): Reading['fields'] {
  const pm25 = 15 + 10 * swing(t, 20) + 135 * swing(t, 8) ** 8 + ((i * 7 + t / 5000) % 5);
  return {
    pm25: round(pm25, 1),
    pm10: round(pm25 * 1.7, 1),
    no2: round(20 + 25 * swing(t, 18), 1),
    o3: round(15 + 75 * swing(t, 14) ** 2, 1),
    so2: round(6 + 4 * swing(t, 3), 1),
    co: Math.round(500 + 700 * swing(t, 18)),
    temperature: round(24 + 6 * swing(t, 14), 1),
    humidity: round(70 + 25 * swing(t, 2), 1),
  };
}

/** Flood: a rain event around hour 12 lifts the rivers past alarm 1–2 and wets the streets. */
function floodFields(t: number, device: RuleDevice): Reading['fields'] {
  const storm = swing(t, 12) ** 6;
  const battery_v = round(3.6 + 0.4 * swing(t, 13), 2);
  const type = device.meta['type'];
  if (type === 'river') return { water_level_m: round(0.4 + 2.4 * storm, 3), battery_v };
  if (type === 'street') return { water_level_m: round(0.3 * storm, 2), battery_v };
  return { rain_mm: round(2 * storm, 1), battery_v };
}

function fleetStream(devices: readonly RuleDevice[], count: number): Fed[] {
  const out: Fed[] = [];
  for (let s = 0; out.length < count; s++) {
    const t = START + s * 1000;
    devices.forEach((device, i) => {
      const period = device.kind === 'air_quality' ? 5 : 10;
      if ((s + i) % period !== 0 || out.length >= count) return;
      const fields = device.kind === 'air_quality' ? airFields(t, i) : floodFields(t, device);
      out.push({ reading: { kind: device.kind, device: device.id, time: t, fields }, device });
    });
  }
  return out;
}

/** bench/workload.ts's stations and fields, 150 readings a second each, in device time. */
function benchStream(count: number): Fed[] {
  const devices: RuleDevice[] = Array.from({ length: 100 }, (_, i) => ({
    id: `bench-aq-${String(i + 1).padStart(4, '0')}`,
    kind: 'air_quality',
    name: `bench ${i + 1}`,
    district: 'Thuận Hóa',
    tags: [],
    meta: {},
  }));
  return Array.from({ length: count }, (_, seq) => {
    const device = devices[seq % devices.length]!;
    const pm25 = 9 + (seq % 131) / 10;
    const fields = {
      pm25,
      pm10: Math.round(pm25 * 18) / 10,
      temperature: 24 + (seq % 81) / 10,
      humidity: 70 + (seq % 251) / 10,
    };
    const time = START + Math.floor(seq / 15); // 100 stations × 150/s = 15 readings per ms
    return { reading: { kind: device.kind, device: device.id, time, fields }, device };
  });
}

let gcMs = 0;
new PerformanceObserver((list) => {
  for (const e of list.getEntries()) gcMs += e.duration;
}).observe({ entryTypes: ['gc'] });
/** Lets the observer deliver the entries of collections that have happened. */
const settle = () => new Promise((resolve) => setTimeout(resolve, 20));

interface Timing {
  readonly ns: number;
  readonly gcNs: number;
  readonly firings: number;
  /** Mean time of a tick (all devices), µs. */
  readonly tickUs: number;
  /** States a 5 s checkpoint (device time) would have saved, per 1 000 readings. */
  readonly savedPerK: number;
}

/** Feeds `warm` then `measured` to a fresh core (and writer), ticking once a second of device time. */
async function run(
  rules: readonly Rule[],
  warm: readonly Fed[],
  measured: readonly Fed[],
  writer: boolean,
): Promise<Timing> {
  const core = createRuleCore(rules);
  const stations = writer ? createAqiWriter(() => {}) : undefined;
  const c = { firings: 0, lastTick: 0, lastSave: 0, ticks: 0, tickMs: 0, saved: 0, otherMs: 0 };
  // The engine's timers, outside the per-reading figure as in the pipeline benchmark: a tick every
  // second and a checkpoint every 5 s (of device time here).
  const timers = (now: number) => {
    const t0 = process.hrtime.bigint();
    c.firings += core.tick(now).length;
    const t1 = process.hrtime.bigint();
    c.ticks++;
    c.tickMs += Number(t1 - t0) / 1e6;
    if (now - c.lastSave >= 5000) {
      c.lastSave = now;
      c.saved += core.takeDirty().length + (stations?.takeDirty().length ?? 0);
    }
    c.otherMs += Number(process.hrtime.bigint() - t0) / 1e6;
  };
  const feed = (list: readonly Fed[]) => {
    for (const { reading, device } of list) {
      stations?.onReading(reading, device);
      c.firings += core.reading(reading, device).length;
      if (reading.time - c.lastTick >= 1000) {
        c.lastTick = reading.time;
        timers(reading.time);
      }
    }
  };
  feed(warm);
  await settle();
  Object.assign(c, { firings: 0, ticks: 0, tickMs: 0, saved: 0, otherMs: 0 });
  const gc0 = gcMs;
  const t0 = process.hrtime.bigint();
  feed(measured);
  const wallMs = Number(process.hrtime.bigint() - t0) / 1e6 - c.otherMs;
  await settle();
  const n = measured.length;
  return {
    ns: (wallMs * 1e6) / n,
    gcNs: ((gcMs - gc0) * 1e6) / n,
    firings: c.firings,
    tickUs: (c.tickMs * 1000) / Math.max(1, c.ticks),
    savedPerK: (c.saved * 1000) / n,
  };
}

const fmt = (t: Timing) =>
  `${t.ns.toFixed(0).padStart(6)} ns/reading (gc ${t.gcNs.toFixed(0).padStart(5)}), ` +
  `tick ${t.tickUs.toFixed(1).padStart(6)} µs, ${t.savedPerK.toFixed(0).padStart(4)} saves/1k readings`;

async function main(): Promise<void> {
  const n = Number(arg('readings') ?? 200_000);
  const stream = arg('stream') ?? 'fleet';
  const rules = await loadRules();
  const all = stream === 'bench' ? benchStream(2 * n) : fleetStream(await fleetDevices(), 2 * n);
  const warm = all.slice(0, n);
  const measured = all.slice(n);
  const hours = (measured.at(-1)!.reading.time - measured[0]!.reading.time) / HOUR;
  console.log(`${rules.length} rules, ${n} readings over ${hours.toFixed(1)} h of device time (${stream})`);
  const best = async (rs: readonly Rule[], writer: boolean) => {
    let top: Timing | undefined;
    for (let i = 0; i < 3; i++) {
      const t = await run(rs, warm, measured, writer);
      if (top === undefined || t.ns < top.ns) top = t;
    }
    return top!;
  };
  const whole = await best(rules, false);
  console.log(`rule core, all rules:     ${fmt(whole)}, ${whole.firings} firings`);
  const none = await best([], true);
  console.log(`AQI writer alone:         ${fmt(none)}`);
  const both = await best(rules, true);
  console.log(`rule core + AQI writer:   ${fmt(both)}`);
  if (!options['per-rule']) return;
  for (const rule of rules) {
    const t = await best([rule], false);
    console.log(`  ${rule.id.padEnd(22)} ${fmt(t)}, ${t.firings} firings`);
  }
}

await main();
