// The MQTT contract as the custom nodes speak it (nodes/lib/contract.js): topics, readings and the
// requests the nodes check before they publish; and that its constants are the platform's own.
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { DEVICE_ID_PATTERN, KINDS } from '../../devices/index.ts';
import { RULE_ID_PATTERN } from '../../rules/index.ts';
import { SEVERITIES } from '../../measurements/index.ts';

type Built =
  | {
      ok: true;
      topic: string;
      key: { kind: string; device: string; rule: string };
      body: Record<string, unknown>;
    }
  | { ok: false; problems: string[] };
type Settings = Partial<Record<'rule' | 'kind' | 'title' | 'severity' | 'owner' | 'message', string>>;
interface Contract {
  KINDS: readonly string[];
  SEVERITIES: readonly string[];
  ID_PATTERN: RegExp;
  prefixProblem(prefix: string): string | undefined;
  readingsFilter(prefix: string, kind: string, device?: string): string;
  topicMatches(filter: string, topic: string): boolean;
  listOf(text: unknown): string[];
  parseReading(
    payload: string,
  ): { ok: true; reading: Record<string, unknown> } | { ok: false; reason: string };
  buildRaise(prefix: string, settings: Settings, msg: Record<string, unknown>): Built;
  buildClear(prefix: string, settings: Settings, msg: Record<string, unknown>): Built;
}

const require = createRequire(import.meta.url);
const contract = require('./nodes/lib/contract.js') as Contract;

const settings: Settings = {
  rule: 'street-flood-likely',
  title: 'Street flooding likely',
  severity: 'warning',
  owner: 'flood control',
};
const reading = {
  device: 'sf-le-loi',
  kind: 'flood',
  district: 'Thuận Hóa',
  time: '2026-11-28T09:00:00.000Z',
  fields: { water_level_m: 0.12 },
};

function problems(b: Built): string[] {
  if (b.ok) throw new Error(`built: ${JSON.stringify(b)}`);
  return b.problems;
}

describe("the contract's constants", () => {
  it("are the platform's kinds, severities and id pattern", () => {
    expect(contract.KINDS).toEqual(KINDS);
    expect(contract.SEVERITIES).toEqual(SEVERITIES);
    expect(contract.ID_PATTERN.source).toBe(DEVICE_ID_PATTERN.source);
    expect(contract.ID_PATTERN.source).toBe(RULE_ID_PATTERN.source);
  });
});

describe('topics', () => {
  it('subscribes to a kind or one device of it', () => {
    expect(contract.readingsFilter('city', 'flood')).toBe('city/readings/flood/+');
    expect(contract.readingsFilter('city', 'flood', 'rg-kim-long')).toBe('city/readings/flood/rg-kim-long');
  });

  it('matches topics as MQTT does', () => {
    expect(contract.topicMatches('city/readings/flood/+', 'city/readings/flood/rg-kim-long')).toBe(true);
    expect(contract.topicMatches('city/readings/flood/+', 'city/readings/air_quality/aq-dai-noi')).toBe(
      false,
    );
    expect(contract.topicMatches('city/readings/flood/+', 'city/readings/flood/a/b')).toBe(false);
    expect(contract.topicMatches('city/#', 'city/alerts/flood/a/r')).toBe(true);
    expect(contract.topicMatches('city/readings/flood/a', 'city/readings/flood/a')).toBe(true);
    expect(contract.topicMatches('city/readings/flood/a', 'city/readings/flood')).toBe(false);
  });

  it('refuses prefixes with wildcards or empty levels', () => {
    expect(contract.prefixProblem('city')).toBeUndefined();
    expect(contract.prefixProblem('acme/city')).toBeUndefined();
    for (const bad of ['', 'city/', '/city', 'ci+ty', 'city/#'])
      expect(contract.prefixProblem(bad)).toBeDefined();
  });

  it('reads comma lists without blanks or repeats', () => {
    expect(contract.listOf(' a, b,,a , ')).toEqual(['a', 'b']);
    expect(contract.listOf(undefined)).toEqual([]);
  });
});

describe('parseReading', () => {
  it('takes a reading as the platform publishes it', () => {
    expect(contract.parseReading(JSON.stringify(reading))).toEqual({ ok: true, reading });
  });

  it('refuses what is not one', () => {
    const bad = [
      'not json',
      '[]',
      JSON.stringify({ ...reading, device: 'a b' }),
      JSON.stringify({ ...reading, kind: 'weather' }),
      JSON.stringify({ ...reading, time: 'yesterday' }),
      JSON.stringify({ ...reading, fields: [1] }),
      JSON.stringify({ ...reading, district: undefined }),
    ];
    for (const payload of bad) expect(contract.parseReading(payload).ok).toBe(false);
  });
});

describe('buildRaise', () => {
  it('builds the request from the settings and the reading', () => {
    const built = contract.buildRaise('city', settings, { payload: 0.31, reading });
    expect(built).toEqual({
      ok: true,
      topic: 'city/alerts/flood/sf-le-loi/street-flood-likely/raise',
      key: { kind: 'flood', device: 'sf-le-loi', rule: 'street-flood-likely' },
      body: {
        title: 'Street flooding likely',
        severity: 'warning',
        owner: 'flood control',
        message: 'sf-le-loi: Street flooding likely',
        value: 0.31,
      },
    });
  });

  it('lets the message override every setting', () => {
    const built = contract.buildRaise('city', settings, {
      rule: 'other-rule',
      device: 'aq-dai-noi',
      kind: 'air_quality',
      title: 'T',
      severity: 'critical',
      owner: 'environment department',
      message: 'M',
      value: 3,
      payload: 4,
      threshold: 2,
      level: 2,
      at: Date.UTC(2026, 10, 28),
      reading,
    });
    expect(built).toMatchObject({
      ok: true,
      topic: 'city/alerts/air_quality/aq-dai-noi/other-rule/raise',
      body: {
        title: 'T',
        severity: 'critical',
        owner: 'environment department',
        message: 'M',
        value: 3,
        threshold: 2,
        level: 2,
        at: '2026-11-28T00:00:00.000Z',
      },
    });
  });

  it('takes the kind from the settings when neither the message nor a reading names it', () => {
    const built = contract.buildRaise('city', { ...settings, kind: 'flood' }, { device: 'sf-le-loi' });
    expect(built.ok && built.topic).toBe('city/alerts/flood/sf-le-loi/street-flood-likely/raise');
  });

  it('reports every problem of a bad request', () => {
    const found = problems(
      contract.buildRaise(
        'city',
        {},
        { device: 'a/b', kind: 'weather', severity: 'urgent', owner: 'a\\b', payload: Number.NaN, level: 0 },
      ),
    );
    expect(found.map((p) => p.split(':')[0]).sort()).toEqual([
      'device',
      'kind',
      'level',
      'owner',
      'rule',
      'severity',
      'title',
      'value',
    ]);
  });

  it('refuses texts that are too long and times without an offset', () => {
    expect(
      problems(contract.buildRaise('city', { ...settings, title: 'x'.repeat(201) }, { reading }))[0],
    ).toMatch(/^title/);
    expect(
      problems(contract.buildRaise('city', settings, { reading, message: 'x'.repeat(1001) }))[0],
    ).toMatch(/^message/);
    expect(
      problems(contract.buildRaise('city', settings, { reading, at: '2026-11-28T09:00:00' }))[0],
    ).toMatch(/^at/);
  });

  it('ignores a payload that is not a number', () => {
    const built = contract.buildRaise('city', settings, { reading, payload: { water_level_m: 1 } });
    expect(built.ok && built.body).not.toHaveProperty('value');
  });
});

describe('buildClear', () => {
  it('needs only the rule and the device', () => {
    expect(contract.buildClear('city', { rule: 'street-flood-likely' }, { reading })).toEqual({
      ok: true,
      topic: 'city/alerts/flood/sf-le-loi/street-flood-likely/clear',
      key: { kind: 'flood', device: 'sf-le-loi', rule: 'street-flood-likely' },
      body: {},
    });
  });

  it('carries a message and a time when given', () => {
    const built = contract.buildClear(
      'city',
      { rule: 'r', message: 'dry again' },
      { reading, at: reading.time },
    );
    expect(built.ok && built.body).toEqual({ message: 'dry again', at: reading.time });
  });

  it('refuses a request without a device', () => {
    expect(problems(contract.buildClear('city', { rule: 'r', kind: 'flood' }, {}))[0]).toMatch(/^device/);
  });
});
