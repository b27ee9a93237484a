import { describe, expect, it } from 'vitest';
import { Select } from '../schema.ts';
import { Rule } from '../rule-file.ts';
import { selects, whyNotApplicable, type SelectableDevice } from './select.ts';

const KIM_LONG: SelectableDevice = {
  id: 'rg-kim-long',
  kind: 'flood',
  district: 'Kim Long',
  tags: ['river'],
};
const STREET: SelectableDevice = {
  id: 'sf-le-loi',
  kind: 'flood',
  district: 'Thuận Hóa',
  tags: ['street-flood'],
};

const rule = (select: Record<string, unknown>, value: unknown = 1) =>
  Rule.parse({
    id: 'r',
    title: 'r',
    severity: 'info',
    owner: 'flood control',
    message: 'm',
    select,
    condition: { type: 'threshold', field: 'water_level_m', op: '>=', value },
  });

describe('selection', () => {
  it('matches every criterion given: kind, district, ids, all tags', () => {
    expect(selects(rule({ kind: 'flood' }).select, STREET)).toBe(true);
    expect(selects(Select.parse({ kind: 'air_quality' }), STREET)).toBe(false);
    expect(selects(rule({ kind: 'flood', tags: ['river'] }).select, KIM_LONG)).toBe(true);
    expect(selects(rule({ kind: 'flood', tags: ['river', 'x'] }).select, KIM_LONG)).toBe(false);
    expect(selects(rule({ kind: 'flood', district: ['Kim Long', 'Phú Xuân'] }).select, KIM_LONG)).toBe(true);
    expect(selects(rule({ kind: 'flood', district: 'Phú Xuân' }).select, KIM_LONG)).toBe(false);
    expect(selects(rule({ devices: ['rg-kim-long'] }).select, KIM_LONG)).toBe(true);
    expect(selects(rule({ devices: ['rg-kim-long'] }).select, STREET)).toBe(false);
  });

  it('says when a device lacks the metadata a rule compares with', () => {
    const r = rule({ kind: 'flood' }, '$meta.alarm_levels_m[2]');
    expect(whyNotApplicable(r, { meta: { type: 'river', alarm_levels_m: [1, 2, 3.5] } })).toBeUndefined();
    expect(whyNotApplicable(r, { meta: { type: 'street' } })).toMatch(/lacks 1 value/);
    expect(whyNotApplicable(r, { meta: { type: 'river', alarm_levels_m: [1, 2] } })).toMatch(/lacks/);
  });
});
