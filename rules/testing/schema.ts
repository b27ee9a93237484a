// The rule test file (YAML), in the spirit of Prometheus' `promtool test rules`: rule files, devices,
// readings at times after a start, time passing in ticks, and the alert transitions expected, exactly.
//
//   rule_files: [flood.yaml]            # relative to the test file
//   start: 2025-10-27T00:00:00+07:00    # time zero of every test (a test may set its own)
//   tests:
//     - name: Kim Long passes alarm 1 and falls back
//       rules: [river-alarm-level]      # optional: run only these rules of the files
//       devices: [rg-kim-long]          # fleet ids, or inline records { id, kind, meta, ... }
//       readings:
//         - { device: rg-kim-long, every: 10m, fields: { water_level_m: [0.8, 1.05, 1.1, 0.9] } }
//         - { device: rg-kim-long, at: 2h, fields: { water_level_m: 0.8 } }
//       tick: 1m                        # time passes in steps of this, up to `until`
//       until: 3h
//       expect:
//         - { at: 20m, rule: river-alarm-level, device: rg-kim-long, type: raise, level: 1 }
//
// Times are offsets from `start` (`0`, `90s`, `10m`, `1h30m`, `2d`). In a series (`every`), each field is
// a list of values (one per step, `null` for "not in this report", a step with no value at all is no
// report) or one value repeated; `count` gives the length when no field is a list. `level` counts from 1
// as `{{level}}` in messages: 1 is the rule's own level, 2 its first `escalate` entry.
import { z } from 'zod';
import { DeviceId, Kind, Location, META_SCHEMAS, type FieldValue } from '../../devices/index.ts';
import type { RuleDevice } from '../engine/rule-device.ts';
import { parseDuration, RULE_ID_PATTERN } from '../schema.ts';
import { Severity } from '../../alerts/index.ts';

const DAY_MS = 86_400_000;
/** The longest test: two 30-day windows back to back still fit. */
export const MAX_OFFSET_MS = 62 * DAY_MS;
/** At most this many values in one series (a day of one-minute reports is 1 440). */
export const MAX_SERIES_POINTS = 10_000;

export const Offset = z.union([z.literal(0), z.string()]).transform((v, ctx) => {
  const ms = v === 0 || v === '0' ? 0 : parseDuration(v);
  if (ms === undefined || ms > MAX_OFFSET_MS) {
    ctx.addIssue({
      code: 'custom',
      message: 'a time after start such as 0, 90s, 10m, 1h30m or 2d (at most 62d)',
    });
    return z.NEVER;
  }
  return ms;
});

const Step = z.string().transform((v, ctx) => {
  const ms = parseDuration(v);
  if (ms === undefined || ms <= 0 || ms > DAY_MS) {
    ctx.addIssue({ code: 'custom', message: 'a step such as 10s, 1m or 1h (above 0, at most 1d)' });
    return z.NEVER;
  }
  return ms;
});

const Instant = z.iso
  .datetime({ offset: true, error: 'an RFC 3339 time with an offset, e.g. 2025-10-27T00:00:00+07:00' })
  .transform((text) => Date.parse(text));

const RuleId = z.string().regex(RULE_ID_PATTERN, 'a rule id');
const FieldName = z.string().regex(/^[a-z][a-z0-9_]{0,63}$/, 'a field name such as water_level_m');
const Value = z.union([z.number().finite(), z.boolean()], { error: 'a number or true/false' });
const Values = z.array(Value.nullable()).min(1).max(MAX_SERIES_POINTS);

/** A device defined in the test itself: what a registry record holds, `meta` checked against the kind.
 * The district matters only to rules that select by district: a placeholder stands in when none is given. */
const InlineDevice = z
  .strictObject({
    id: DeviceId,
    kind: Kind,
    name: z.string().trim().min(1).max(200).optional(),
    district: z.string().trim().min(1).max(100).default('test'),
    tags: z.array(z.string().min(1).max(64)).max(32).default([]),
    meta: z.record(z.string(), z.unknown()).default({}),
    location: Location.optional(),
  })
  .transform((d, ctx): RuleDevice => {
    const meta = META_SCHEMAS[d.kind].safeParse(d.meta);
    if (!meta.success) {
      for (const issue of meta.error.issues)
        ctx.addIssue({ code: 'custom', path: ['meta', ...issue.path], message: issue.message });
      return z.NEVER;
    }
    const device = { id: d.id, kind: d.kind, name: d.name ?? d.id, district: d.district, tags: d.tags };
    return d.location === undefined
      ? { ...device, meta: meta.data }
      : { ...device, meta: meta.data, location: d.location };
  });

export const DeviceRef = z.union([DeviceId, InlineDevice], {
  error: 'a device id from the fleet, or a device record { id, kind, meta, ... }',
});
export type DeviceRef = z.output<typeof DeviceRef>;

/** One report of a test reading, `index` its place in a series (for problems). */
export interface TestPoint {
  readonly at: number;
  readonly fields: Readonly<Record<string, FieldValue>>;
  readonly index?: number;
}

const ReadingSpec = z
  .strictObject({
    device: DeviceId,
    at: Offset.optional(),
    from: Offset.optional(),
    every: Step.optional(),
    /** Reports in a series whose fields are all single values (`count: 20, fields: { rain_mm: 3 }`). */
    count: z.number().int().min(1).max(MAX_SERIES_POINTS).optional(),
    fields: z.record(FieldName, z.union([Value, Values])),
  })
  .superRefine((r, ctx) => {
    const issue = (message: string, path: string[] = []) => ctx.addIssue({ code: 'custom', message, path });
    const lengths = new Set(Object.values(r.fields).flatMap((v) => (Array.isArray(v) ? [v.length] : [])));
    if (Object.keys(r.fields).length === 0) issue('at least one field', ['fields']);
    if (r.every === undefined) {
      if (r.at === undefined) issue('`at` for one reading, or `every` (and `from`) for a series');
      for (const key of ['from', 'count'] as const)
        if (r[key] !== undefined) issue(`\`${key}\` is for a series: give \`every\` too`, [key]);
      if (lengths.size > 0) issue('lists of values make a series: give `every`', ['fields']);
      return;
    }
    if (r.at !== undefined) issue('a series starts at `from`; `at` is for one reading', ['at']);
    if (lengths.size === 0 && r.count === undefined)
      issue('a series needs `count` or at least one list of values', ['fields']);
    if (lengths.size > 1 || (r.count !== undefined && lengths.size === 1 && !lengths.has(r.count)))
      issue('the lists of a series must all be as long (and as `count`)', ['fields']);
  })
  .transform((r) => ({
    device: r.device,
    points: pointsOf(r),
    /** The fields given as lists, whose problems are shown at the step's value. */
    lists: Object.keys(r.fields).filter((name) => Array.isArray(r.fields[name])),
  }));

function pointsOf(r: {
  at?: number | undefined;
  from?: number | undefined;
  every?: number | undefined;
  count?: number | undefined;
  fields: Record<string, FieldValue | (FieldValue | null)[]>;
}): TestPoint[] {
  if (r.every === undefined) {
    const fields: Record<string, FieldValue> = {};
    for (const [name, v] of Object.entries(r.fields)) if (!Array.isArray(v)) fields[name] = v;
    return [{ at: r.at ?? 0, fields }];
  }
  const n = r.count ?? Math.max(...Object.values(r.fields).map((v) => (Array.isArray(v) ? v.length : 0)));
  const points: TestPoint[] = [];
  for (let i = 0; i < n; i++) {
    const fields: Record<string, FieldValue> = {};
    for (const [name, v] of Object.entries(r.fields)) {
      const x = Array.isArray(v) ? v[i] : v;
      if (x !== null && x !== undefined) fields[name] = x;
    }
    if (Object.keys(fields).length > 0) points.push({ at: (r.from ?? 0) + i * r.every, fields, index: i });
  }
  return points;
}

export const Expectation = z.strictObject({
  at: Offset,
  rule: RuleId,
  device: DeviceId,
  type: z.enum(['raise', 'escalate', 'clear']),
  severity: Severity.optional(),
  /** 1 for the rule's own level, k + 1 for its k-th `escalate` entry, as `{{level}}` shows it. */
  level: z.number().int().min(1).max(6).optional(),
  value: z.number().finite().optional(),
  threshold: z.number().finite().optional(),
  /** The rendered message, compared exactly. */
  message: z.string().optional(),
});
export type Expectation = z.output<typeof Expectation>;

const RuleTest = z.strictObject({
  name: z.string().trim().min(1).max(300),
  start: Instant.optional(),
  rules: z.array(RuleId).min(1).optional(),
  devices: z.array(DeviceRef).default([]),
  readings: z.array(ReadingSpec).default([]),
  tick: Step.default(60_000),
  until: Offset.optional(),
  expect: z.array(Expectation),
});
export type RuleTest = z.output<typeof RuleTest>;

export const RuleTestFile = z
  .strictObject({
    rule_files: z.array(z.string().min(1)).min(1),
    /** The fleet file device ids refer to, relative to the test file; the Huế fleet by default. */
    fleet: z.string().min(1).optional(),
    start: Instant.optional(),
    tests: z.array(RuleTest).min(1).max(1_000),
  })
  // Runs even when a test has other problems, so every problem of the file is reported at once; it reads
  // only `tests[i].start` and `.name`, checked for their types here, so a partly valid file is safe.
  .superRefine(
    (f, ctx) => {
      const names = new Set<string>();
      const tests: unknown[] = Array.isArray(f.tests) ? f.tests : [];
      tests.forEach((t, i) => {
        if (typeof t !== 'object' || t === null) return;
        const own = 'start' in t && t.start !== undefined;
        if (!own && f.start === undefined)
          ctx.addIssue({
            code: 'custom',
            path: ['tests', i],
            message: 'no start: set it on the file or the test',
          });
        const name = 'name' in t && typeof t.name === 'string' ? t.name : undefined;
        if (name !== undefined && names.has(name))
          ctx.addIssue({
            code: 'custom',
            path: ['tests', i, 'name'],
            message: `a second test named "${name}"`,
          });
        if (name !== undefined) names.add(name);
      });
    },
    { when: () => true },
  );
export type RuleTestFile = z.output<typeof RuleTestFile>;
