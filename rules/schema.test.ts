import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MAX_DURATION_MS, parseDuration } from './schema.ts';
import { Rule, RuleFile } from './rule-file.ts';

const base = {
  id: 'r-1',
  title: 'T',
  severity: 'warning',
  owner: 'flood control',
  message: '{{device.name}}: {{value}}',
  select: { kind: 'flood' },
  condition: { type: 'threshold', field: 'water_level_m', op: '>=', value: 1 },
};
const withCondition = (condition: Record<string, unknown>, extra: Record<string, unknown> = {}) => ({
  ...base,
  ...extra,
  condition: { ...base.condition, ...condition },
});
const messages = (input: unknown): string[] => {
  const r = Rule.safeParse(input);
  return r.success ? [] : r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
};

describe('durations', () => {
  it('reads s, m, h, d and combinations', () => {
    expect(parseDuration('90s')).toBe(90_000);
    expect(parseDuration('10m')).toBe(600_000);
    expect(parseDuration('1h30m')).toBe(5_400_000);
    expect(parseDuration('7d')).toBe(604_800_000);
    for (const bad of ['', '10', 'm', '1.5h', '10 m', '-1h', '1w'])
      expect(parseDuration(bad)).toBeUndefined();
  });

  it('property: a number with a unit reads back as that many of the unit', () => {
    const units = { s: 1e3, m: 6e4, h: 3.6e6, d: 8.64e7 } as const;
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 999_999 }), fc.constantFrom('s', 'm', 'h', 'd'), (n, u) => {
        expect(parseDuration(`${n}${u}`)).toBe(n * units[u]);
      }),
    );
  });

  it('refuses zero and more than 30 days in a rule', () => {
    expect(messages(withCondition({ for: '0s' }))).toEqual([
      expect.stringMatching(/^condition.for: a duration/),
    ]);
    expect(messages(withCondition({ for: '31d' }))).toHaveLength(1);
    expect(Rule.parse(withCondition({ for: '30d' })).condition).toMatchObject({ for: MAX_DURATION_MS });
  });
});

describe('values', () => {
  it('reads $meta references, indexed or not, and scaled ones', () => {
    const c = Rule.parse(
      withCondition({
        value: '$meta.alarm_levels_m[0]',
        escalate: [{ value: '$meta.alarm_levels_m[2]', severity: 'critical' }],
        clear: { op: '<', value: { of: '$meta.alarm_levels_m[0]', minus_pct: 5 } },
      }),
    ).condition;
    expect(c).toMatchObject({
      value: { meta: 'alarm_levels_m', index: 0 },
      escalate: [{ value: { meta: 'alarm_levels_m', index: 2 }, severity: 'critical' }],
      clear: { op: '<', value: { of: { meta: 'alarm_levels_m', index: 0 }, minus_pct: 5 } },
    });
  });

  it("refuses a $meta name the selected kind's registry record does not have, and malformed ones", () => {
    expect(messages(withCondition({ value: '$meta.rated_w' }))).toEqual([
      'condition.value: no registry metadata rated_w for flood',
    ]);
    expect(messages(withCondition({ value: '$meta.' }))).toHaveLength(1);
    expect(messages(withCondition({ value: { of: 1, plus_pct: 2, minus_pct: 3 } }))).toHaveLength(1);
  });
});

describe('threshold checks', () => {
  it('refuses a clear facing the same way as the raise, or overlapping it', () => {
    expect(messages(withCondition({ clear: { op: '>', value: 0.5 } }))).toEqual([
      expect.stringMatching(/^condition.clear.op: a clear must face the other way/),
    ]);
    expect(messages(withCondition({ clear: { op: '<', value: 1.2 } }))).toEqual([
      expect.stringMatching(/^condition.clear.value: the clear overlaps the raise/),
    ]);
    expect(messages(withCondition({ clear: { op: '<=', value: 1 } }))).toHaveLength(1);
    expect(messages(withCondition({ clear: { op: '<', value: 1 } }))).toEqual([]);
  });

  it('refuses levels that do not go up, or get less severe', () => {
    const escalate = [
      { value: 2, severity: 'critical' },
      { value: 1.5, severity: 'info' },
    ];
    expect(messages(withCondition({ escalate }))).toEqual([
      'condition.escalate.1.severity: a level may not be less severe than the one before',
      'condition.escalate.1.value: levels must go up',
    ]);
  });

  it('refuses a field the selected kind does not have, or that is not a number', () => {
    expect(messages(withCondition({ field: 'pm25' }))).toEqual([
      'condition.field: not a numeric field of flood',
    ]);
    expect(messages(withCondition({ field: 'lamp_on' }, { select: { kind: 'streetlight' } }))).toEqual([
      'condition.field: not a numeric field of streetlight',
    ]);
    // Without a kind, any kind's field will do.
    expect(messages(withCondition({ field: 'pm25' }, { select: { devices: ['aq-dai-noi'] } }))).toEqual([]);
  });

  it('compares a guard on a true/false field only for equality', () => {
    const when = (op: string) => ({
      when: [{ field: 'lamp_on', op, value: true }],
      field: 'power_w',
      value: 5,
    });
    const light = { select: { kind: 'streetlight' } };
    expect(messages(withCondition(when('=='), light))).toEqual([]);
    expect(messages(withCondition(when('>'), light))).toEqual([
      'condition.when.0.op: a true/false value is compared with == or != only',
    ]);
    expect(
      messages(withCondition({ ...when('=='), when: [{ field: 'lamp_of', op: '==', value: true }] }, light)),
    ).toEqual(['condition.when.0.field: not a field of streetlight']);
  });

  it('refuses unknown keys, so a misspelt `for` is not silently ignored', () => {
    expect(messages(withCondition({ fro: '10m' }))).toEqual(['condition: Unrecognized key: "fro"']);
  });
});

describe('other conditions', () => {
  it('rate needs exactly one of rise or fall', () => {
    const rate = { type: 'rate', field: 'water_level_m', within: '1h' };
    expect(messages({ ...base, condition: { ...rate, rise: 0.3 } })).toEqual([]);
    expect(messages({ ...base, condition: rate })).toHaveLength(1);
    expect(messages({ ...base, condition: { ...rate, rise: 0.3, fall: 0.3 } })).toHaveLength(1);
  });

  it('window defaults to full resolution and no coverage requirement', () => {
    const c = Rule.parse({
      ...base,
      condition: { type: 'window', field: 'rain_mm', aggregate: 'sum', over: '24h', op: '>', value: 50 },
    }).condition;
    expect(c).toMatchObject({ over: 86_400_000, resolution: 60, min_coverage: 0 });
  });

  it('aqi takes category keys of its own index, and only on air-quality devices', () => {
    const aqi = { type: 'aqi', index: 'vn', op: '>=', value: 'poor' };
    const air = { select: { kind: 'air_quality' }, message: 'AQI {{value}} ({{category}})' };
    expect(messages({ ...base, ...air, condition: aqi })).toEqual([]);
    expect(messages({ ...base, ...air, condition: { ...aqi, value: 'unhealthy' } })).toEqual([
      expect.stringMatching(/^condition.value: not a vn category/),
    ]);
    expect(messages({ ...base, ...air, condition: { ...aqi, index: 'us', value: 'unhealthy' } })).toEqual([]);
    expect(messages({ ...base, message: 'x', condition: aqi })).toEqual([
      'condition.type: an aqi condition selects air_quality devices',
    ]);
  });

  it('expr is checked for presence only', () => {
    const expr = { type: 'expr', expr: 'fields.lamp_on && sun.altitude_deg > 0.0' };
    expect(messages({ ...base, select: { kind: 'streetlight' }, message: 'x', condition: expr })).toEqual([]);
    expect(messages({ ...base, message: 'x', condition: { type: 'expr', expr: '  ' } })).toHaveLength(1);
  });
});

describe('rule, selection and message', () => {
  it('refuses ids that cannot be a topic level, and a selection with neither kind nor devices', () => {
    expect(messages({ ...base, id: 'a/b' })).toHaveLength(1);
    expect(messages({ ...base, id: '-a' })).toHaveLength(1);
    expect(messages({ ...base, select: { district: 'Kim Long' } })).toEqual([
      'select: select needs kind or devices',
    ]);
  });

  it('takes one district or a list', () => {
    expect(Rule.parse({ ...base, select: { kind: 'flood', district: 'Kim Long' } }).select.district).toEqual([
      'Kim Long',
    ]);
  });

  it('allows only the placeholders the condition fills', () => {
    expect(messages({ ...base, message: '{{meta.river}} {{meta.alarm_levels_m}} {{level}}' })).toEqual([]);
    expect(messages({ ...base, message: '{{silent_for}}' })).toEqual([
      'message: {{silent_for}} is not available to a threshold rule',
    ]);
    expect(messages({ ...base, message: '{{meta.rated_w}}' })).toEqual([
      'message: {{meta.rated_w}} is not available to a threshold rule',
    ]);
    expect(messages({ ...base, message: 'open {{ and never closed' })).toHaveLength(1);
  });

  it('a file needs at least one rule', () => {
    expect(RuleFile.safeParse({ rules: [] }).success).toBe(false);
    expect(RuleFile.safeParse({ rules: [base] }).success).toBe(true);
  });
});

describe('expr checks (CEL)', () => {
  const lamp = { ...base, select: { kind: 'streetlight' }, message: '{{device.name}}' };
  const expr = (condition: Record<string, unknown>) =>
    messages({ ...lamp, condition: { type: 'expr', ...condition } });

  it('accepts the CEL of the Huế day-burning rule', () => {
    const dayBurning = {
      expr: 'fields.lamp_on == true && sun.altitude_deg > 0.0',
      clear: 'fields.lamp_on == false || sun.altitude_deg <= 0.0',
      for: '30m',
    };
    expect(expr(dayBurning)).toEqual([]);
  });

  it('refuses an expression or a clear that is not CEL, saying where in it', () => {
    expect(expr({ expr: 'fields.power_w >' })).toEqual([
      expect.stringMatching(/^condition\.expr: CEL syntax error at column 16: /),
    ]);
    expect(
      expr({ expr: 'fields.lamp_on', clear: 'fields.lamp_on == false ||\n  sun.altitude_deg <= 0.0 )' }),
    ).toEqual([expect.stringMatching(/^condition\.clear: CEL syntax error at line 2, column 27: found \)/)]);
  });

  it('refuses a variable other than fields, meta and sun, and a name sun does not have', () => {
    expect(expr({ expr: 'lamp_on == true' })).toEqual([
      'condition.expr: unknown variable lamp_on: an expression reads fields, meta and sun',
    ]);
    expect(expr({ expr: 'fields.lamp_on', clear: 'sun.altitude > 0.0' })).toEqual([
      'condition.clear: sun has altitude_deg and azimuth_deg, not altitude',
    ]);
  });

  it('refuses int/double arithmetic, which would fail on every reading, but not int/double comparison', () => {
    expect(expr({ expr: 'fields.power_w < meta.rated_w * 5 / 100' })).toEqual([
      expect.stringMatching(/^condition\.expr: meta\.rated_w \* 5: CEL does no arithmetic across int/),
    ]);
    expect(expr({ expr: 'fields.power_w < meta.rated_w * 5.0 / 100.0 && fields.power_w > 1' })).toEqual([]);
  });
});

describe('aqi conditions face one way', () => {
  const aqiRule = (condition: Record<string, unknown>) => ({
    id: 'aqi',
    title: 't',
    severity: 'warning',
    owner: 'environment department',
    message: '{{value}}',
    select: { kind: 'air_quality' },
    condition: { type: 'aqi', index: 'vn', ...condition },
  });

  it('refuses a clear facing the same way and levels out of order, with category keys as bounds', () => {
    const bad = Rule.safeParse(
      aqiRule({
        op: '>=',
        value: 'bad',
        clear: { op: '>=', value: 'moderate' },
        escalate: [{ value: 'poor', severity: 'critical' }],
      }),
    );
    expect(bad.success ? [] : bad.error.issues.map((i) => i.path.join('.'))).toEqual([
      'condition.clear.op',
      'condition.escalate.0.value',
    ]);
    const good = Rule.safeParse(aqiRule({ op: '>=', value: 'poor', clear: { op: '<=', value: 'moderate' } }));
    expect(good.success).toBe(true);
  });
});

describe("a rule's command", () => {
  it('takes a command its devices take, with parameters its type takes', () => {
    const ok = Rule.parse({ ...base, command: { type: 'set_interval', params: { seconds: 60 } } });
    expect(ok.command).toEqual({ type: 'set_interval', params: { seconds: 60 }, to: 'device' });
    expect(messages({ ...base, command: { type: 'switch', params: { state: 'on' }, to: 'street' } })).toEqual(
      [],
    );
  });

  it('refuses parameters out of range, a command the devices do not take, and an unknown type', () => {
    expect(messages({ ...base, command: { type: 'set_interval', params: { seconds: 1 } } })).toEqual([
      expect.stringMatching(/^command.params.seconds: /),
    ]);
    expect(messages({ ...base, command: { type: 'set_dim', params: { level_pct: 40 } } })).toEqual([
      'command.type: set_dim is for streetlight: the rule selects flood',
    ]);
    expect(
      messages({ ...base, command: { type: 'set_interval', params: { seconds: 60 }, to: 'street' } }),
    ).toEqual(["command.type: a street's lamps do not take set_interval"]);
    expect(messages({ ...base, command: { type: 'blink' } })).toEqual([
      expect.stringMatching(/^command.type: /),
    ]);
  });
});
