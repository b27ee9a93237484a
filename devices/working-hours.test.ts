// Working hours are read in the city's time zone: Huế is UTC+7 all year, so 07:30 there is 00:30 UTC;
// a shift that ends before it starts runs past midnight and belongs to the day it started.
import { describe, expect, it } from 'vitest';
import { withinWorkingHours, type WorkingHours } from './agencies.ts';

const HUE = 'Asia/Ho_Chi_Minh';
/** 2026-12-07 is a Monday. */
const at = (utc: string) => Date.parse(`2026-12-${utc}Z`);
const office: WorkingHours = { days: [1, 2, 3, 4, 5], from: '07:30', to: '17:00' };
const night: WorkingHours = { days: [5], from: '22:00', to: '06:00' };

describe('working hours', () => {
  it.each([
    ['07T00:29', false], // Monday 07:29 in Huế
    ['07T00:30', true], // 07:30
    ['07T09:59', true], // 16:59
    ['07T10:00', false], // 17:00: the end is not in
    ['05T03:00', false], // Saturday 10:00
    ['06T23:45', false], // Sunday 23:45 UTC: Monday 06:45 in Huế, before the office opens
    ['07T01:00', true], // Monday 08:00 in Huế
  ])('office hours at %s UTC: %s', (utc, inside) => {
    expect(withinWorkingHours(office, at(utc), HUE)).toBe(inside);
  });

  it('counts a night shift on the day it starts, past midnight', () => {
    expect(withinWorkingHours(night, at('11T15:00'), HUE)).toBe(true); // Friday 22:00 in Huế
    expect(withinWorkingHours(night, at('11T22:59'), HUE)).toBe(true); // Saturday 05:59
    expect(withinWorkingHours(night, at('11T23:00'), HUE)).toBe(false); // Saturday 06:00
    expect(withinWorkingHours(night, at('12T15:00'), HUE)).toBe(false); // Saturday 22:00: not a shift day
  });

  it('reads the hours in the zone given', () => {
    expect(withinWorkingHours(office, at('07T08:00'), HUE)).toBe(true); // 15:00 in Huế
    expect(withinWorkingHours(office, at('07T08:00'), 'America/New_York')).toBe(false); // 03:00 there
  });
});
