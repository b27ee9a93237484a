import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { AgenciesFile, Fleet, KINDS } from '../devices/index.ts';
import { selects, whyNotApplicable } from './evaluators/select.ts';
import { loadRuleFiles, parseRuleFile, validateRuleFileAmong, type RuleProblem } from './loader.ts';

const GOOD = `rules:
  - id: street-flooded
    title: Street flooded
    severity: warning
    owner: flood control
    message: '{{device.name}}: {{value}} m'
    select:
      kind: flood
      tags: [street-flood]
    condition:
      type: threshold
      field: water_level_m
      op: '>='
      value: 0.2
      for: 1m
`;

const at = (p: RuleProblem) => `${p.line}:${p.column} ${p.code}`;

describe('parseRuleFile', () => {
  it('returns the rules with durations in ms', () => {
    const r = parseRuleFile(GOOD, 'flood.yaml');
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.rules[0]?.condition).toEqual({
      type: 'threshold',
      field: 'water_level_m',
      op: '>=',
      value: 0.2,
      for: 60_000,
    });
  });

  it('lists every problem of the file at once, each at its line and column', () => {
    const text = `rules:
  - id: a
    title: A
    severity: urgent
    owner: flood control
    message: '{{device.nam}} is {{value}}'
    select: { kind: flood }
    condition:
      type: threshold
      field: water_level_m
      op: '>='
      value: $meta.alarm_levels_m[0]
      fro: 10m
  - id: b
    title: B
    severity: info
    owner: flood control
    message: hi
    select: { kind: flood }
    condition: { type: absence, for: 10 minutes }
  - id: a
    title: A again
    severity: info
    owner: flood control
    message: hi
    select: { kind: flood }
    condition: { type: absence, for: 10m }
`;
    const r = parseRuleFile(text, 'bad.yaml');
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.problems.map(at)).toEqual([
      '4:15 RULES_ERR_SCHEMA', // severity: urgent
      '6:14 RULES_ERR_SCHEMA', // {{device.nam}}
      '13:7 RULES_ERR_SCHEMA', // fro: the unknown key, where the key is
      '20:38 RULES_ERR_SCHEMA', // for: 10 minutes
      '21:9 RULES_ERR_DUPLICATE_ID', // the second "a"
    ]);
    expect(r.problems.every((p) => p.file === 'bad.yaml')).toBe(true);
    expect(r.problems[0]?.message).toContain('rules[0].severity');
    expect(r.problems[2]?.message).toContain('unknown key "fro"');
    expect(r.problems[4]?.message).toContain('first at line 2');
  });

  it('reports a missing key at the mapping that lacks it, and checks across parts of a rule', () => {
    const text = `rules:
  - id: x
    title: X
    owner: HEPCO
    message: '{{silent_for}}'
    select: { kind: streetlight }
    condition: { type: threshold, field: water_level_m, op: '>', value: $meta.rated_watts }
`;
    const missing = parseRuleFile(text, 'x.yaml');
    expect(!missing.ok && missing.problems.map(at)).toEqual(['2:5 RULES_ERR_SCHEMA']);
    const complete = parseRuleFile(text.replace('    owner:', '    severity: info\n    owner:'), 'x.yaml');
    expect(complete.ok).toBe(false);
    if (complete.ok) return;
    const messages = complete.problems.map((p) => `${p.line}:${p.column} ${p.message}`);
    expect(messages).toEqual([
      expect.stringMatching(/^6:14 .*\{\{silent_for\}\} is not available to a threshold rule/),
      expect.stringMatching(/^8:42 .*not a numeric field of streetlight/),
      expect.stringMatching(/^8:73 .*no registry metadata rated_watts/),
    ]);
  });

  it('refuses an owner that is not an agency of the registry, at the owner, naming the agencies there are', () => {
    const agencies = new Set(['flood-control', 'hepco']);
    const r = parseRuleFile(GOOD, 'flood.yaml', { agencies });
    expect(r.ok ? [] : r.problems.map((p) => [at(p), p.message])).toEqual([
      [
        '5:12 RULES_ERR_UNKNOWN_AGENCY',
        'owner "flood control" is not an agency of the registry (known: flood-control, hepco); create it (POST /api/agencies, or in CITY_AGENCIES_FILE) or name one of these',
      ],
    ]);
    expect(
      parseRuleFile(GOOD.replace('owner: flood control', 'owner: flood-control'), 'f.yaml', { agencies }).ok,
    ).toBe(true);
    // The whole set refused with it, like any other problem; without agencies to check against, unchecked.
    expect(loadRuleFiles([{ name: 'flood.yaml', text: GOOD }], { agencies }).ok).toBe(false);
    expect(loadRuleFiles([{ name: 'flood.yaml', text: GOOD }]).ok).toBe(true);
  });

  it('refuses an owner that InfluxDB cannot take as a tag', () => {
    const r = parseRuleFile(GOOD.replace('owner: flood control', 'owner: "flood\\\\control"'), 'flood.yaml');
    expect(r.ok ? [] : r.problems.map((p) => [at(p), p.message])).toEqual([
      ['5:12 RULES_ERR_SCHEMA', expect.stringContaining('no control characters or backslashes') as string],
    ]);
  });

  it('reports YAML syntax at its place, without the echo of every later token', () => {
    const r = parseRuleFile('rules:\n  - id: a\n    title: [unclosed\n    severity: info\n', 'syntax.yaml');
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.problems.length).toBeGreaterThan(0);
    expect(r.problems.length).toBeLessThan(5);
    expect(r.problems.every((p) => p.code === 'RULES_ERR_YAML' && p.line >= 3)).toBe(true);
  });

  it('refuses a duplicate key and an empty file', () => {
    const dup = parseRuleFile(
      GOOD.replace('    owner: flood control\n', '    owner: a\n    owner: b\n'),
      'd.yaml',
    );
    expect(!dup.ok && dup.problems.map(at)).toEqual(['6:5 RULES_ERR_YAML']);
    const empty = parseRuleFile('', 'empty.yaml');
    expect(!empty.ok && empty.problems.map(at)).toEqual(['1:1 RULES_ERR_SCHEMA']);
  });
});

describe('loadRuleFiles', () => {
  it('refuses an id defined in two files, naming the first', () => {
    const other = GOOD.replace('Street flooded', 'Again');
    const r = loadRuleFiles([
      { name: 'a.yaml', text: GOOD },
      { name: 'b.yaml', text: other },
    ]);
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.problems).toEqual([
      {
        file: 'b.yaml',
        line: 2,
        column: 1,
        code: 'RULES_ERR_DUPLICATE_ID',
        message: 'rule id "street-flooded" is already defined in a.yaml at line 2',
      },
    ]);
  });

  it('lists the problems of every file, and no rules when any file fails', () => {
    const r = loadRuleFiles([
      { name: 'ok.yaml', text: GOOD },
      { name: 'bad.yaml', text: 'rules: []\n' },
      { name: 'worse.yaml', text: 'rules: {\n' },
    ]);
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(new Set(r.problems.map((p) => p.file))).toEqual(new Set(['bad.yaml', 'worse.yaml']));
  });
});

describe('validateRuleFileAmong', () => {
  const inForce = loadRuleFiles([{ name: 'flood.yaml', text: GOOD }]);
  const rules = inForce.ok ? inForce.rules : [];

  it('finds an id that another file in force has; the file it replaces is no clash', () => {
    expect(rules).toHaveLength(1);
    const clash = validateRuleFileAmong(GOOD, 'streets.yaml', rules);
    expect(clash.ok ? [] : clash.problems.map((p) => [p.file, p.line, p.code, p.message])).toEqual([
      [
        'streets.yaml',
        2,
        'RULES_ERR_DUPLICATE_ID',
        'rule id "street-flooded" is already defined in flood.yaml at line 2',
      ],
    ]);
    expect(validateRuleFileAmong(GOOD, 'flood.yaml', rules).ok).toBe(true);
    expect(validateRuleFileAmong('rules: [', 'flood.yaml', rules).ok).toBe(false);
  });
});

describe('the Huế rule set (rules/hue)', () => {
  const dir = new URL('./hue/', import.meta.url);
  const files = readdirSync(dir)
    .filter((f) => f.endsWith('.yaml') && !f.endsWith('.test.yaml'))
    .map((name) => ({ name, text: readFileSync(new URL(name, dir), 'utf8') }));
  // Checked against the agencies the platform seeds beside these rules: every owner is a real agency.
  const agencies = AgenciesFile.parse(
    JSON.parse(readFileSync(new URL('../devices/hue-agencies.json', import.meta.url), 'utf8')),
  ).agencies;
  const loaded = loadRuleFiles(files, { agencies: new Set(agencies.map((a) => a.id)) });
  const fleet = Fleet.parse(
    JSON.parse(readFileSync(new URL('../devices/hue-fleet.json', import.meta.url), 'utf8')),
  );

  it('validates as one set', () => {
    expect(loaded.ok ? [] : loaded.problems).toEqual([]);
    expect(files.length).toBeGreaterThanOrEqual(4);
  });

  it('every rule selects devices of the fleet, and can be evaluated for each with its metadata', () => {
    if (!loaded.ok) throw new Error('the set does not load');
    for (const { rule } of loaded.rules) {
      const chosen = fleet.devices.filter((d) => selects(rule.select, d));
      expect(chosen.length, rule.id).toBeGreaterThan(0);
      for (const d of chosen)
        expect(whyNotApplicable(rule, { meta: d.meta }), `${rule.id} ${d.id}`).toBeUndefined();
    }
  });

  it('watches both river stations with their own alarm levels, and every kind for silence', () => {
    if (!loaded.ok) throw new Error('the set does not load');
    const rule = (id: string) => loaded.rules.find((r) => r.rule.id === id)?.rule;
    const river = rule('river-alarm-level');
    const stations = fleet.devices.filter((d) => river && selects(river.select, d));
    expect(stations.map((d) => d.id).sort()).toEqual(['rg-kim-long', 'rg-phu-oc']);
    const silent = loaded.rules
      .filter((r) => r.rule.condition.type === 'absence')
      .map((r) => r.rule.select.kind);
    expect(new Set(silent)).toEqual(new Set(KINDS));
    expect(rule('lamp-failure')?.owner).toBe('hepco');
    expect(new Set(loaded.rules.map((r) => r.rule.owner))).toEqual(
      new Set(['flood-control', 'environment', 'hepco']),
    );
  });
});
