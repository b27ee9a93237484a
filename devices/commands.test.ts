// The commands' contract: each type's parameters checked with their field, and a schedule's level at any
// time of a Huế December night (sunset about 17:20, sunrise about 06:10, docs/hue-places.md).
import { describe, expect, it } from 'vitest';
import { COMMAND_KINDS, COMMAND_PARAMS, CommandSpec, expectedReading, scheduleLevel } from './commands.ts';

const HOUR = 3_600_000;
const HUE = { lat: 16.4637, lon: 107.5909 };
/** Huế's midnight before `t` (UTC+7, no daylight saving). */
const dayStart = (t: number) => Math.floor((t + 7 * HOUR) / (24 * HOUR)) * 24 * HOUR - 7 * HOUR;
/** 5 December 2026 at hh:mm in Huế. */
const at = (hh: number, mm = 0, day = 5) => Date.UTC(2026, 11, day, hh - 7, mm);

describe('command parameters', () => {
  it('takes what each type says, and refuses the rest with its field', () => {
    expect(CommandSpec.parse({ type: 'set_dim', params: { level_pct: 40 } })).toEqual({
      type: 'set_dim',
      params: { level_pct: 40 },
    });
    expect(CommandSpec.parse({ type: 'ping' })).toEqual({ type: 'ping', params: {} });
    const bad = COMMAND_PARAMS.set_dim.safeParse({ level_pct: 140 });
    expect(bad.success ? [] : bad.error.issues.map((i) => i.path.join('.'))).toEqual(['level_pct']);
    const step = COMMAND_PARAMS.schedule.safeParse({ steps: [{ from: '25:00', level_pct: 50 }] });
    expect(step.success ? [] : step.error.issues.map((i) => i.path.join('.'))).toEqual(['steps.0.from']);
    expect(COMMAND_KINDS.set_interval).toEqual(['flood']);
  });

  it('says which reading shows a command carried out', () => {
    expect(expectedReading({ type: 'set_dim', params: { level_pct: 40 } })).toEqual({
      field: 'dim_pct',
      value: 40,
      when: { field: 'lamp_on', value: true },
    });
    expect(expectedReading({ type: 'switch', params: { state: 'off' } })).toEqual({
      field: 'lamp_on',
      value: false,
    });
    expect(expectedReading({ type: 'switch', params: { state: 'auto' } })).toBeUndefined();
    expect(expectedReading({ type: 'reboot', params: {} })).toBeUndefined();
  });
});

describe('a schedule', () => {
  // Full light from sunset, half from 22:00, off at sunrise: the region's practice (docs/hue-places.md).
  const steps = [
    { from: { sun_altitude_deg: -0.833, direction: 'setting' as const }, level_pct: 100 },
    { from: '22:00', level_pct: 50 },
    { from: { sun_altitude_deg: -0.833, direction: 'rising' as const }, level_pct: 0 },
  ];
  it.each([
    ['before sunset', at(17, 0), 0],
    ['after sunset', at(17, 40), 100],
    ['in the evening', at(21, 59), 100],
    ['after 22:00', at(22, 1), 50],
    ['after midnight: yesterday’s 22:00 step', at(3, 0, 6), 50],
    ['after sunrise', at(6, 30, 6), 0],
  ])('gives the level %s', (_when, t, level) => {
    expect(scheduleLevel(steps, t, HUE, dayStart)).toBe(level);
  });
});
