// Rules and devices for the unit tests of rule testing: a river gauge with Kim Long's alarm levels, a rule
// on them, and a silence rule. Written out here so the tests do not depend on the Huế files' tuning.
import type { RuleDevice } from '../../rules/engine/rule-device.ts';
import { parseRuleFile } from '../../rules/loader.ts';
import type { Rule } from '../../rules/schema.ts';
import { prepareRuleTests, parseRuleTestFile, type PrepareResult } from '../../rules/testing/prepare.ts';

export const RULES_TEXT = `rules:
  - id: river-alarm
    title: River above alarm level
    severity: warning
    owner: flood control
    message: '{{device.name}}: {{value}} m, past alarm level {{level}}'
    select: { kind: flood, tags: [river] }
    condition:
      type: threshold
      field: water_level_m
      op: '>='
      value: $meta.alarm_levels_m[0]
      for: 10m
      escalate: [{ value: '$meta.alarm_levels_m[1]', severity: critical }]
      clear: { op: '<', value: 0.95 }
  - id: silent
    title: Gauge silent
    severity: info
    owner: flood control
    message: '{{device.name}}: no reading for {{silent_for}}'
    select: { kind: flood }
    condition: { type: absence, for: 30m }
`;

function rules(): Rule[] {
  const parsed = parseRuleFile(RULES_TEXT, 'rules.yaml');
  if (!parsed.ok) throw new Error(`the fixture rules do not load: ${JSON.stringify(parsed.problems)}`);
  return parsed.rules;
}

export const GAUGE: RuleDevice = {
  id: 'g1',
  kind: 'flood',
  name: 'Gauge 1',
  district: 'Kim Long',
  tags: ['river'],
  meta: { type: 'river', alarm_levels_m: [1, 2, 3.5] },
};

export const LAMP: RuleDevice = {
  id: 'l1',
  kind: 'streetlight',
  name: 'Lamp 1',
  district: 'Thuận Hóa',
  tags: [],
  meta: { street: 'Lê Lợi', rated_w: 150, tolerance_pct: 10 },
};

/** Parses and prepares a test file's text against the fixture rules and fleet. */
export function prepare(text: string, fleet: readonly RuleDevice[] = [GAUGE, LAMP]): PrepareResult {
  const parsed = parseRuleTestFile(text, 't.test.yaml');
  if (!parsed.ok) return parsed;
  return prepareRuleTests('t.test.yaml', parsed, rules(), fleet);
}

/** The live engine's tests' rules: a street flooded for a minute, and a gauge silent for half an hour. */
export const STREET_FLOOD_RULES = `
rules:
  - id: street-flooded
    title: Street flooded
    severity: warning
    owner: flood control
    message: '{{device.name}}: {{value}} m of water'
    select: { kind: flood, tags: [street-flood] }
    condition:
      type: threshold
      field: water_level_m
      op: '>='
      value: 0.2
      for: 1m
      clear: { op: '<', value: 0.15 }
  - id: silent-gauge
    title: Gauge silent
    severity: warning
    owner: flood control
    message: '{{device.name}}: no reading for {{silent_for}}'
    select: { kind: flood }
    condition: { type: absence, for: 30m }
`;
