// /api/rules: the rules in force (the Huế files), a rule file checked by the real loader with its problems
// at their lines, and the backtest route's checks and shape. The backtest behind the route is a fixed
// function here: this file tests what the route checks and answers, not what a backtest computes.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { BacktestReport, parseRuleFile, type BacktestInput } from '../rules/index.ts';
import { MAX_RULE_SOURCE_BYTES, RULES_BODY_LIMIT } from './rules-routes.ts';
import { HUE_RULES_DIR, NOW, startHarness, type Harness, errorOf } from '../test/kits/api-harness.ts';

const DAY = 86_400_000;

/** What the fixed backtest answers, and every input it was given. */
const REPORT: BacktestReport = {
  from: new Date(NOW - 7 * DAY).toISOString(),
  to: new Date(NOW).toISOString(),
  readings: 1008,
  devices: 1,
  rules: [
    {
      rule: 'river-alarm-level',
      title: 'River above alarm level',
      devices: 1,
      raised: 1,
      escalated: 1,
      cleared: 0,
      openAtEnd: 1,
    },
  ],
  transitions: [],
  truncated: false,
};
const backtests: BacktestInput[] = [];

let h: Harness;
let flood: string;
beforeAll(async () => {
  h = await startHarness('rules', {
    backtest: (input) => {
      backtests.push(input);
      return Promise.resolve(REPORT);
    },
  });
  flood = await readFile(join(HUE_RULES_DIR, 'flood.yaml'), 'utf8');
});
afterAll(async () => {
  await h.close();
});

/** Asserts the error body and returns it. */
const Summary = z.object({
  id: z.string(),
  title: z.string(),
  severity: z.string(),
  owner: z.string(),
  kind: z.string().optional(),
  type: z.string(),
  field: z.string().optional(),
  file: z.string(),
});
const Problem = z.object({
  file: z.string(),
  line: z.number(),
  column: z.number(),
  code: z.string(),
  message: z.string(),
});
const Valid = z.object({ valid: z.literal(true), rules: z.array(Summary) });
const Invalid = z.object({ valid: z.literal(false), problems: z.array(Problem) });

const validate = (body: unknown, as: 'engineer' | 'operator' = 'engineer') =>
  h.request({ method: 'POST', url: '/api/rules/validate', as, body });
const backtest = (body: unknown, as: 'engineer' | 'viewer' = 'engineer') =>
  h.request({ method: 'POST', url: '/api/rules/backtest', as, body });

// A rule whose severity is not one of info, warning, critical, on line 5 of the file.
const BAD_SEVERITY = `rules:
  - id: lamp-off-at-night
    title: Lamp off at night
    owner: hepco
    severity: catastrophic
    message: '{{device.name}} is dark'
    select: { kind: streetlight }
    condition: { type: threshold, field: lamp_on, op: '<', value: 1 }
`;

describe('GET /api/rules', () => {
  it('lists the rules in force with their file, kind and condition type', async () => {
    const res = await h.request({ url: '/api/rules', as: 'viewer' });
    expect(res.status).toBe(200);
    const { rules } = z.object({ rules: z.array(Summary) }).parse(res.body);
    expect(rules).toContainEqual({
      id: 'silent-flood-gauge',
      title: 'Flood gauge silent',
      severity: 'warning',
      owner: 'flood-control',
      kind: 'flood',
      type: 'absence',
      file: 'silence.yaml',
    });
    expect(rules).toContainEqual(
      expect.objectContaining({ id: 'street-flooded', type: 'threshold', field: 'water_level_m' }),
    );
    expect(new Set(rules.map((r) => r.file))).toEqual(
      new Set(['air.yaml', 'flood.yaml', 'lighting.yaml', 'silence.yaml']),
    );
  });

  it('needs a token (401)', async () => {
    expect(errorOf(await h.request({ url: '/api/rules' })).code).toBe('API_ERR_UNAUTHORIZED');
  });
});

describe('POST /api/rules/validate', () => {
  it('answers valid: true with the rules of a good file', async () => {
    const res = await validate({ source: flood, name: 'flood.yaml' });
    expect(res.status).toBe(200);
    const { rules } = Valid.parse(res.body);
    const expected = parseRuleFile(flood, 'flood.yaml');
    expect(expected.ok).toBe(true);
    expect(rules.map((r) => r.id)).toEqual(expected.ok ? expected.rules.map((r) => r.id) : []);
    expect(rules[0]).toMatchObject({ id: 'river-alarm-level', kind: 'flood', type: 'threshold' });
  });

  it('answers valid: false with each problem at its line, still a 200', async () => {
    const res = await validate({ source: BAD_SEVERITY, name: 'night.yaml' });
    expect(res.status).toBe(200);
    const { problems } = Invalid.parse(res.body);
    expect(problems).toEqual([
      expect.objectContaining({ file: 'night.yaml', line: 5, code: 'RULES_ERR_SCHEMA' }),
    ]);

    const broken = await validate({ source: 'rules:\n  - id: a\n   title: b\n' });
    const syntax = Invalid.parse(broken.body).problems;
    expect(syntax[0]).toMatchObject({ file: 'rules.yaml', line: 3, code: 'RULES_ERR_YAML' });
  });

  it('refuses an id that another file in force already has, as the reload would', async () => {
    const res = await validate({ source: flood, name: 'flood-copy.yaml' });
    const { problems } = Invalid.parse(res.body);
    expect(problems[0]).toMatchObject({ file: 'flood-copy.yaml', code: 'RULES_ERR_DUPLICATE_ID' });
    expect(problems[0]?.message).toContain('already defined in flood.yaml');
  });

  it('takes a file larger than the default body limit, up to its own limit', async () => {
    const padded = flood + `# ${'padding '.repeat(12_000)}\n`;
    expect(padded.length).toBeGreaterThan(64 * 1024);
    expect(
      Valid.parse((await validate({ source: padded, name: 'flood.yaml' })).body).rules.length,
    ).toBeGreaterThan(0);

    const tooLong = `# ${'x'.repeat(MAX_RULE_SOURCE_BYTES)}\n`;
    expect(errorOf(await validate({ source: tooLong })).code).toBe('API_ERR_VALIDATION');
    const tooLarge = 'x'.repeat(RULES_BODY_LIMIT);
    expect(errorOf(await validate({ source: tooLarge })).code).toBe('API_ERR_PAYLOAD_TOO_LARGE');
  });

  it('answers 400 for a request it cannot read, and 403 below engineer', async () => {
    expect(errorOf(await validate({ name: 'x.yaml' })).code).toBe('API_ERR_VALIDATION');
    expect(errorOf(await validate({ source: flood, name: '../etc/passwd' })).code).toBe('API_ERR_VALIDATION');
    expect(errorOf(await validate({ source: flood }, 'operator')).code).toBe('API_ERR_FORBIDDEN');
  });
});

describe('POST /api/rules/backtest', () => {
  it('runs a valid file over the range and answers the report', async () => {
    backtests.length = 0;
    const from = new Date(NOW - 7 * DAY).toISOString();
    const res = await backtest({ source: flood, name: 'flood.yaml', from, to: NOW });
    expect(res.status).toBe(200);
    expect(BacktestReport.parse(res.body)).toEqual(REPORT);
    expect(backtests).toEqual([{ source: flood, name: 'flood.yaml', from: NOW - 7 * DAY, to: NOW }]);
  });

  it('takes times relative to the API clock', async () => {
    backtests.length = 0;
    const res = await backtest({ source: flood, name: 'flood.yaml', from: 'now-7d', to: 'now' });
    expect(res.status).toBe(200);
    expect(backtests).toEqual([{ source: flood, name: 'flood.yaml', from: NOW - 7 * DAY, to: NOW }]);
  });

  it('refuses an invalid file with 422 and its problems, without running it', async () => {
    backtests.length = 0;
    const res = await backtest({ source: BAD_SEVERITY, from: NOW - DAY, to: NOW });
    const error = errorOf(res);
    expect(error.code).toBe('API_ERR_RULES_INVALID');
    const { problems } = z.object({ problems: z.array(Problem) }).parse(error.details);
    expect(problems[0]).toMatchObject({ line: 5, code: 'RULES_ERR_SCHEMA' });
    expect(backtests).toEqual([]);
  });

  it('refuses a range over 31 days, an inverted range, and a viewer', async () => {
    backtests.length = 0;
    const long = await backtest({ source: flood, from: NOW - 32 * DAY, to: NOW });
    expect(errorOf(long).code).toBe('API_ERR_RANGE_TOO_LONG');
    const inverted = await backtest({ source: flood, from: NOW, to: NOW - DAY });
    expect(errorOf(inverted).code).toBe('API_ERR_VALIDATION');
    const viewer = await backtest({ source: flood, from: NOW - DAY, to: NOW }, 'viewer');
    expect(errorOf(viewer).code).toBe('API_ERR_FORBIDDEN');
    expect(backtests).toEqual([]);
  });
});
