// The rule core: rules matched to devices, states per (rule, device), transitions rendered, states
// checkpointed and restored, and a reload that keeps the states of unchanged rules.
import { describe, expect, it } from 'vitest';
import type { Reading } from '../../devices/index.ts';
import { parseRuleFile } from '../loader.ts';
import type { Rule } from '../schema.ts';
import { createRuleCore } from './core.ts';
import type { RuleDevice } from './rule-device.ts';

const RULES = `
rules:
  - id: river-alarm
    title: River above alarm level
    severity: warning
    owner: flood control
    message: '{{device.name}}: {{value}} {{unit}}, past alarm level {{level}} ({{threshold}} m)'
    select: { kind: flood, tags: [river] }
    condition:
      type: threshold
      field: water_level_m
      op: '>='
      value: $meta.alarm_levels_m[0]
      escalate:
        - { value: '$meta.alarm_levels_m[2]', severity: critical }
  - id: silent
    title: Gauge silent
    severity: warning
    owner: flood control
    message: '{{device.name}}: no reading for {{silent_for}}'
    select: { kind: flood }
    condition: { type: absence, for: 30m }
`;

function rules(text = RULES): Rule[] {
  const parsed = parseRuleFile(text, 'core.yaml');
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.problems));
  return parsed.rules;
}

const KIM_LONG: RuleDevice = {
  id: 'rg-kim-long',
  kind: 'flood',
  name: 'Kim Long',
  district: 'Kim Long',
  tags: ['river'],
  meta: { type: 'river', alarm_levels_m: [1.0, 2.0, 3.5] },
};
const STREET: RuleDevice = { ...KIM_LONG, id: 'sf-le-loi', name: 'Lê Lợi', tags: ['street-flood'], meta: {} };
const T0 = Date.UTC(2025, 9, 27);
const MIN = 60_000;
const level = (time: number, water_level_m: number): Reading => ({
  kind: 'flood',
  device: 'rg-kim-long',
  time,
  fields: { water_level_m },
});

describe('createRuleCore', () => {
  it('raises, escalates and clears with rendered messages, for the devices a rule selects only', () => {
    const core = createRuleCore(rules());
    core.watch(KIM_LONG, T0);
    core.watch(STREET, T0);
    const got = [
      ...core.reading(level(T0, 0.8), KIM_LONG),
      ...core.reading(level(T0 + MIN, 1.2), KIM_LONG),
      ...core.reading(level(T0 + 2 * MIN, 3.6), KIM_LONG),
      ...core.reading(level(T0 + 3 * MIN, 0.9), KIM_LONG),
      ...core.reading({ ...level(T0 + 3 * MIN, 5), device: 'sf-le-loi' }, STREET),
    ];
    expect(got.map((f) => [f.rule.id, f.device.id, f.transition.type, f.transition.severity])).toEqual([
      ['river-alarm', 'rg-kim-long', 'raise', 'warning'],
      ['river-alarm', 'rg-kim-long', 'escalate', 'critical'],
      ['river-alarm', 'rg-kim-long', 'clear', 'critical'],
    ]);
    expect(got[0]!.message).toBe('Kim Long: 1.2 m, past alarm level 1 (1 m)');
    expect(got[1]!.message).toBe('Kim Long: 3.6 m, past alarm level 2 (3.5 m)');
    // No clear_message in this rule: the clear says it cleared, not "past alarm level" again.
    expect(got[2]!.message).toBe('Kim Long: cleared (River above alarm level)');
  });

  it('a watched device that never reports goes silent on a tick', () => {
    const core = createRuleCore(rules());
    core.watch(STREET, T0);
    expect(core.tick(T0 + 29 * MIN)).toEqual([]);
    const fired = core.tick(T0 + 30 * MIN);
    expect(fired.map((f) => [f.rule.id, f.device.id, f.transition.type])).toEqual([
      ['silent', 'sf-le-loi', 'raise'],
    ]);
    expect(fired[0]!.message).toBe('Lê Lợi: no reading for 30m');
  });

  it('checkpointed states restore into a new core: an open alert stays open, nothing is raised twice', () => {
    const first = createRuleCore(rules());
    first.watch(KIM_LONG, T0);
    expect(first.reading(level(T0, 1.5), KIM_LONG)).toHaveLength(1);
    const saved = first.takeDirty();
    expect(saved.map((s) => s.rule).sort()).toEqual(['river-alarm', 'silent']);
    expect(first.takeDirty()).toEqual([]);

    const second = createRuleCore(rules());
    second.watch(KIM_LONG, T0 + MIN);
    expect(second.restore(JSON.parse(JSON.stringify(saved)) as typeof saved, T0 + MIN)).toEqual({
      restored: 2,
      discarded: 0,
    });
    expect(second.reading(level(T0 + 2 * MIN, 1.6), KIM_LONG)).toEqual([]);
    expect(second.reading(level(T0 + 3 * MIN, 0.5), KIM_LONG).map((f) => f.transition.type)).toEqual([
      'clear',
    ]);
  });

  it('a state that does not validate is discarded, not trusted', () => {
    const core = createRuleCore(rules());
    core.watch(KIM_LONG, T0);
    const result = core.restore(
      [
        { rule: 'river-alarm', device: 'rg-kim-long', state: { type: 'threshold', v: 1, levels: 'x' } },
        { rule: 'gone', device: 'rg-kim-long', state: {} },
      ],
      T0,
    );
    expect(result).toEqual({ restored: 0, discarded: 2 });
  });

  it('a reload keeps the states of unchanged rules and starts changed ones afresh', () => {
    const core = createRuleCore(rules());
    core.watch(KIM_LONG, T0);
    expect(core.reading(level(T0, 1.5), KIM_LONG)).toHaveLength(1);
    core.setRules(rules(), T0 + MIN);
    expect(core.reading(level(T0 + MIN, 1.6), KIM_LONG)).toEqual([]); // still open: no second raise

    core.setRules(rules(RULES.replace('value: $meta.alarm_levels_m[0]', 'value: 1.4')), T0 + 2 * MIN);
    const again = core.reading(level(T0 + 2 * MIN, 1.6), KIM_LONG);
    expect(again.map((f) => [f.transition.type, f.transition.threshold])).toEqual([['raise', 1.4]]);
  });

  it('reset starts one (rule, device) afresh, so a condition that still holds raises again', () => {
    const core = createRuleCore(rules());
    core.watch(KIM_LONG, T0);
    expect(core.reading(level(T0, 1.5), KIM_LONG)).toHaveLength(1);
    expect(core.reset('river-alarm', 'rg-kim-long', T0 + MIN)?.state).toMatchObject({ type: 'threshold' });
    expect(core.reading(level(T0 + 2 * MIN, 1.5), KIM_LONG).map((f) => f.transition.type)).toEqual(['raise']);
  });

  it('reset keeps what a window has gathered: only the levels of the alert start afresh', () => {
    const core = createRuleCore(
      rules(`
rules:
  - id: heavy-rain
    title: Heavy rain
    severity: warning
    owner: flood control
    message: '{{value}} mm'
    select: { kind: flood }
    condition: { type: window, field: rain_mm, aggregate: sum, over: 1h, op: '>', value: 50 }
`),
    );
    const rain = (time: number, rain_mm: number): Reading => ({ ...level(time, 0), fields: { rain_mm } });
    core.watch(STREET, T0);
    expect(core.reading(rain(T0, 30), STREET)).toEqual([]);
    expect(core.reading(rain(T0 + 10 * MIN, 30), STREET).map((f) => f.transition.type)).toEqual(['raise']);
    expect(core.firing('heavy-rain', STREET.id)).toBe(true);
    core.reset('heavy-rain', STREET.id, T0 + 11 * MIN);
    expect(core.firing('heavy-rain', STREET.id)).toBe(false);
    // 60 mm are still in the last hour: the next reading raises again at once.
    expect(core.reading(rain(T0 + 20 * MIN, 1), STREET).map((f) => f.transition.type)).toEqual(['raise']);
  });

  it('a rule that throws is skipped and reported; the other rules still run', () => {
    const errors: string[] = [];
    const core = createRuleCore(rules(), {
      onError: (_err, rule, device) => errors.push(`${rule}/${device}`),
    });
    core.watch(KIM_LONG, T0);
    expect(core.tick(T0 + 31 * MIN).map((f) => f.rule.id)).toEqual(['silent']);
    const unreadable: Reading = {
      ...level(T0 + 32 * MIN, 0),
      fields: {
        get water_level_m(): number {
          throw new Error('unreadable');
        },
      },
    };
    expect(core.reading(unreadable, KIM_LONG).map((f) => [f.rule.id, f.transition.type])).toEqual([
      ['silent', 'clear'],
    ]);
    expect(errors).toEqual(['river-alarm/rg-kim-long']);
    const strict = createRuleCore(rules());
    expect(() => strict.reading(unreadable, KIM_LONG)).toThrow('unreadable');
  });
});
