// The city story (CITY_STORY), played by the Huế fleet's models as the demo plays it: the backfilled day
// at real speed up to going live, then an hour of scenario time a minute. The models alone, no I/O.
import { beforeAll, describe, expect, it } from 'vitest';
import { FloodMeta, loadFleet, StreetlightMeta, type Fleet } from '../../devices/index.ts';
import { num } from '../../test/kits/sim-models.ts';
import {
  CITY_STORY,
  createDeviceModel,
  episodeLevel,
  faultAt,
  type Model,
  type SimFields,
  type SimInstant,
} from './index.ts';

const LIVE = Date.UTC(2026, 11, 4, 2); // 09:00 in Huế
const MINUTE_MS = 60_000;
const SPEEDUP = 60;
const SEED = 1;

/** The instant `minutes` of real time from going live (negative: the backfill, at real speed). */
function instant(minutes: number): SimInstant {
  const ms = minutes * MINUTE_MS;
  return { t: LIVE + ms, scenarioMs: CITY_STORY.liveAtMs + (ms < 0 ? ms : ms * SPEEDUP) };
}

let fleet: Fleet;
beforeAll(async () => {
  fleet = await loadFleet();
});

/** Every device's readings at the given minutes, by device id. */
function play(minutes: readonly number[]): Map<string, SimFields[]> {
  const failed = fleet.devices.find((d) => d.kind === 'streetlight')?.id;
  const out = new Map<string, SimFields[]>();
  for (const d of fleet.devices) {
    const model: Model<unknown> = createDeviceModel(d, {
      seed: SEED,
      scenario: 'city',
      storyRole: d.id === failed ? 'failed-lamp' : undefined,
    });
    let state = model.initial(instant(minutes[0]!));
    out.set(
      d.id,
      minutes.map((m) => {
        const step = model.step(state, instant(m));
        state = step.state;
        return step.fields;
      }),
    );
  }
  return out;
}

const range = (from: number, to: number, step: number) =>
  Array.from({ length: Math.floor((to - from) / step) + 1 }, (_, i) => from + i * step);

describe('the city story', () => {
  it('fills the backfilled day with a flood past alarm 3, flooded streets and a pollution episode', () => {
    const minutes = range(-24 * 60, 0, 5);
    const played = play(minutes);
    for (const d of fleet.devices.filter((x) => x.kind === 'flood')) {
      const meta = FloodMeta.parse(d.meta);
      if (meta.type === 'river') {
        const levels = played.get(d.id)!.map((r) => num(r, 'water_level_m'));
        // Past alarm 3 at going live, and below alarm 1 when the day began.
        const [a1, , a3] = meta.alarm_levels_m!;
        expect(levels[0], d.id).toBeLessThan(a1);
        expect(levels.at(-1), d.id).toBeGreaterThan(a3);
      }
    }
    const streets = fleet.devices.filter((x) => x.kind === 'flood' && x.meta.type === 'street');
    // Still under water when the demo goes live: well past street-flooded's 0.2 m, whatever the showers.
    const flooded = streets.filter((d) => num(played.get(d.id)!.at(-1)!, 'water_level_m') > 0.3);
    expect(flooded.length).toBeGreaterThanOrEqual(3);
    // The episode is at its peak when the demo goes live.
    const station = { seed: SEED, deviceId: 'aq', scenario: 'city' as const };
    expect(episodeLevel(station, instant(0))).toBeGreaterThan(0.9 * CITY_STORY.episode.amplitude);
    expect(episodeLevel(station, instant(-24 * 60))).toBe(0);
  });

  it('has the fleet’s first lamp failed all through the backfilled day, and other lamps failing', () => {
    const lamps = fleet.devices.filter((d) => d.kind === 'streetlight');
    const faults = (id: string, failed: boolean) =>
      range(-24 * 60, 0, 15).map((m) =>
        faultAt(
          {
            seed: SEED,
            deviceId: id,
            location: lamps[0]!.location,
            meta: StreetlightMeta.parse(lamps[0]!.meta),
            scenario: 'city',
            storyRole: failed ? ('failed-lamp' as const) : undefined,
          },
          instant(m),
        ),
      );
    expect(new Set(faults(lamps[0]!.id, true))).toEqual(new Set(['lamp_failure']));
    const others = lamps.slice(1).filter((l) => faults(l.id, false).some((f) => f !== undefined));
    expect(others.length).toBeGreaterThanOrEqual(2);
  });

  it('has the second lamp stuck on above its rating all through the backfilled day, day and night', () => {
    const lamp = fleet.devices.filter((d) => d.kind === 'streetlight')[1]!;
    const { rated_w, tolerance_pct } = StreetlightMeta.parse(lamp.meta);
    const model = createDeviceModel(lamp, { seed: SEED, scenario: 'city', storyRole: 'overdriven-lamp' });
    let state = model.initial(instant(-24 * 60));
    for (const m of range(-24 * 60, 15, 15)) {
      const step = model.step(state, instant(m));
      state = step.state;
      // lamp-power-too-high holds for as long: on, and above the rating and its tolerance.
      expect(step.fields.lamp_on, `minute ${m}`).toBe(true);
      expect(num(step.fields, 'power_w'), `minute ${m}`).toBeGreaterThan(rated_w * (1 + tolerance_pct / 100));
    }
  });

  it('gives an operator something new every few minutes once live', () => {
    const minutes = range(0, 180, 1);
    const played = play(minutes);
    const events: number[] = [];
    /** Minutes at which `value` crosses `limit`, either way. */
    const crossings = (values: readonly number[], limit: number) => {
      for (let i = 1; i < values.length; i++)
        if (values[i - 1]! > limit !== values[i]! > limit) events.push(minutes[i]!);
    };
    for (const d of fleet.devices) {
      const readings = played.get(d.id)!;
      if (d.kind === 'flood' && d.meta.type === 'river') {
        const levels = readings.map((r) => num(r, 'water_level_m'));
        for (const a of d.meta.alarm_levels_m ?? []) crossings(levels, a);
      }
      if (d.kind === 'flood' && d.meta.type === 'street')
        crossings(
          readings.map((r) => num(r, 'water_level_m')),
          0.2,
        );
      if (d.kind === 'streetlight') {
        const options = {
          seed: SEED,
          deviceId: d.id,
          location: d.location,
          meta: StreetlightMeta.parse(d.meta),
          scenario: 'city' as const,
        };
        const faults = minutes.map((m) => faultAt(options, instant(m)) ?? 'none');
        for (let i = 1; i < faults.length; i++) if (faults[i] !== faults[i - 1]) events.push(minutes[i]!);
      }
    }
    const station = { seed: SEED, deviceId: 'aq', scenario: 'city' as const };
    crossings(
      minutes.map((m) => episodeLevel(station, instant(m))),
      1,
    );
    const sorted = [...new Set(events)].sort((a, b) => a - b);
    const gaps = sorted.slice(1).map((m, i) => m - sorted[i]!);
    expect(sorted.length).toBeGreaterThan(20);
    expect(sorted[0]).toBeLessThanOrEqual(10);
    expect(Math.max(...gaps)).toBeLessThanOrEqual(10);
  });
});
