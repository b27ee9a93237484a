// The shape of a rule (YAML) as zod schemas: the one definition the loader, the evaluators, the API's
// validate route and the documentation read (docs/architecture.md, decision 8). Values are normalised on
// the way in: durations become milliseconds and `$meta.x[i]` references become `{ meta, index }` objects,
// so the evaluators never parse text. Checks that need two parts of a rule (a field against the selected
// kind, a placeholder against the condition type) are rule-file.ts's, which runs them once the rule's own
// shape is valid.
import { z } from 'zod';
import { COMMAND_TYPES, CommandExpiry, DEVICE_ID_PATTERN, Kind } from '../devices/index.ts';
import { US_CATEGORIES, VN_CATEGORIES } from '../aqi/index.ts';
import { Severity } from '../alerts/index.ts';
import { BUCKETS_PER_WINDOW } from './evaluators/buckets.ts';
import { exprProblems } from './cel.ts';
import { checkTemplate } from './evaluators/template.ts';

export const OPS = ['>', '>=', '<', '<='] as const;
export const Op = z.enum(OPS);
export type Op = z.infer<typeof Op>;

// ---- durations ----

const UNIT_MS: Readonly<Record<string, number>> = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 };
/** The longest duration a rule may name: a 30-day window still fits the bounded window state. */
export const MAX_DURATION_MS = 30 * 86_400_000;
const DURATION = /^(?:\d{1,6}[smhd])+$/;

/** `90s`, `10m`, `1h30m`, `7d` → milliseconds; `undefined` when the text is not a duration. */
export function parseDuration(text: string): number | undefined {
  if (!DURATION.test(text)) return undefined;
  let ms = 0;
  for (const [, n, unit] of text.matchAll(/(\d+)([smhd])/g)) ms += Number(n) * (UNIT_MS[unit ?? ''] ?? 0);
  return ms;
}

export const Duration = z.string().transform((text, ctx) => {
  const ms = parseDuration(text);
  if (ms === undefined || ms <= 0 || ms > MAX_DURATION_MS) {
    ctx.addIssue({ code: 'custom', message: 'a duration like 90s, 10m, 1h30m or 7d (above 0, at most 30d)' });
    return z.NEVER;
  }
  return ms;
});

// ---- values: numbers or registry metadata ----

const META_REF = /^\$meta\.([a-z][a-z0-9_]*)(?:\[(\d{1,2})\])?$/;
/** A number from the device's registry metadata, e.g. `$meta.rated_w` or `$meta.alarm_levels_m[2]`. */
export interface MetaRef {
  readonly meta: string;
  readonly index?: number;
}
const MetaRefText = z
  .string()
  .regex(META_REF, '$meta.<name> or $meta.<name>[<index>]')
  .transform((text): MetaRef => {
    const [, meta = '', index] = META_REF.exec(text) ?? [];
    return index === undefined ? { meta } : { meta, index: Number(index) };
  });
const Operand = z.union([z.number().finite(), MetaRefText], {
  error: 'a number, $meta.<name> or $meta.<name>[<index>]',
});
export type Operand = z.infer<typeof Operand>;

/** `{ of: $meta.rated_w, plus_pct: $meta.tolerance_pct }` is rated × (1 + tolerance/100) (TALQ's
 * lampPowerTooHigh compares against the rated wattage plus a tolerance, docs/domain.md). */
const Scaled = z
  .strictObject({ of: Operand, plus_pct: Operand.optional(), minus_pct: Operand.optional() })
  .refine((s) => (s.plus_pct === undefined) !== (s.minus_pct === undefined), {
    message: 'exactly one of plus_pct or minus_pct',
  });
export const ValueRef = z.union([Operand, Scaled], {
  error: 'a number, $meta.<name>, $meta.<name>[<index>] or { of, plus_pct | minus_pct }',
});
export type ValueRef = z.infer<typeof ValueRef>;

// ---- conditions ----

const FieldName = z.string().regex(/^[a-z][a-z0-9_]{0,63}$/, 'a field name such as water_level_m');
const ClearSpec = z.strictObject({ op: Op, value: ValueRef, for: Duration.optional() });
const Escalation = z.strictObject({ value: ValueRef, severity: Severity });
/** A precondition on the same reading, e.g. `lamp_on == true` for a lamp that should be lit. */
const Guard = z
  .strictObject({
    field: FieldName,
    op: z.enum(['==', '!=', ...OPS]),
    value: z.union([z.number().finite(), z.boolean()]),
  })
  .refine((g) => typeof g.value === 'number' || g.op === '==' || g.op === '!=', {
    message: 'a true/false value is compared with == or != only',
    path: ['op'],
  });
export type Guard = z.infer<typeof Guard>;

const Threshold = z.strictObject({
  type: z.literal('threshold'),
  field: FieldName,
  op: Op,
  value: ValueRef,
  /** Sustain: the condition must hold on every reading for this long before the alert is raised. */
  for: Duration.optional(),
  /** Hysteresis: the alert clears only when this holds; default the negation of the raise. */
  clear: ClearSpec.optional(),
  /** Higher levels of the same alert, in order: the open alert escalates rather than a second opening. */
  escalate: z.array(Escalation).min(1).max(5).optional(),
  when: z.array(Guard).min(1).max(4).optional(),
});

const Rate = z
  .strictObject({
    type: z.literal('rate'),
    field: FieldName,
    rise: z.number().positive().optional(),
    fall: z.number().positive().optional(),
    within: Duration,
    /** Clears when the change within the window is below this; default the raise amount. */
    clear_below: z.number().nonnegative().optional(),
  })
  .refine((r) => (r.rise === undefined) !== (r.fall === undefined), {
    message: 'exactly one of rise or fall',
  })
  .refine((r) => r.clear_below === undefined || r.clear_below <= (r.rise ?? r.fall ?? 0), {
    message: 'clear_below must not exceed the rise or fall amount',
    path: ['clear_below'],
  });

const Absence = z.strictObject({ type: z.literal('absence'), for: Duration });

export const WINDOW_AGGREGATES = ['mean', 'max', 'min', 'sum', 'count'] as const;
const Window = z.strictObject({
  type: z.literal('window'),
  field: FieldName,
  aggregate: z.enum(WINDOW_AGGREGATES),
  over: Duration,
  op: Op,
  value: ValueRef,
  clear: ClearSpec.omit({ for: true }).optional(),
  escalate: z.array(Escalation).min(1).max(5).optional(),
  /** Share (0–1) of the window's buckets that must hold a reading before the aggregate is compared.
   * 0.75 matches the US EPA's 18-of-24-hours completeness rule for a 24-hour mean (40 CFR 50, App. N). */
  min_coverage: z.number().min(0).max(1).default(0),
  /** Buckets the window is kept in (buckets.ts), 60 unless fewer suit the data: 24 for a 24-hour mean
   * of hourly reports, so that coverage counts hours. */
  resolution: z.number().int().min(1).max(BUCKETS_PER_WINDOW).default(BUCKETS_PER_WINDOW),
});

/** AQI category keys as aqi/ names them (Decision 1459 Table 1; EPA-454/B-24-002). */
export const AQI_CATEGORY_KEYS = {
  vn: VN_CATEGORIES.map((c) => c.key),
  us: US_CATEGORIES.map((c) => c.key),
} as const;
const AqiValue = z.union([z.number().int().min(0).max(500), z.string().regex(/^[a-z_]+$/)], {
  error: 'an index 0–500 or a category key (good, moderate, poor, …)',
});
const Aqi = z
  .strictObject({
    type: z.literal('aqi'),
    index: z.enum(['vn', 'us']),
    op: Op,
    value: AqiValue,
    for: Duration.optional(),
    clear: z.strictObject({ op: Op, value: AqiValue }).optional(),
    escalate: z
      .array(z.strictObject({ value: AqiValue, severity: Severity }))
      .min(1)
      .max(5)
      .optional(),
  })
  .superRefine((a, ctx) => {
    const keys: readonly string[] = AQI_CATEGORY_KEYS[a.index];
    const check = (v: number | string, path: (string | number)[]) => {
      if (typeof v === 'string' && !keys.includes(v))
        ctx.addIssue({
          code: 'custom',
          path,
          message: `not a ${a.index} category: one of ${keys.join(', ')}`,
        });
    };
    check(a.value, ['value']);
    if (a.clear) check(a.clear.value, ['clear', 'value']);
    a.escalate?.forEach((e, i) => check(e.value, ['escalate', i, 'value']));
  });

/** A CEL expression (evaluators/expr.ts), compiled as the file loads: it must parse, read only `fields`,
 * `meta` and `sun` (`altitude_deg`, `azimuth_deg`), call only CEL's standard functions and do no
 * arithmetic across int and double (a field is a double: `meta.rated_w * 0.05`, not `* 5`). */
const MAX_CEL_CHARS = 2_000;
const CelText = z
  .string()
  .trim()
  .min(1)
  .max(MAX_CEL_CHARS)
  .superRefine((source, ctx) => {
    // Only text the length checks passed is compiled: a megabyte of CEL is refused without parsing it.
    if (source.length === 0 || source.length > MAX_CEL_CHARS) return;
    for (const message of exprProblems(source)) ctx.addIssue({ code: 'custom', message });
  });

/** A custom condition in CEL (docs/architecture.md, decision 6): raised when `expr` has held on every reading
 * for `for`, cleared when `clear` holds (default: when `expr` no longer does). */
const Expr = z.strictObject({
  type: z.literal('expr'),
  expr: CelText,
  clear: CelText.optional(),
  for: Duration.optional(),
});

export const Condition = z.discriminatedUnion('type', [Threshold, Rate, Absence, Window, Aqi, Expr]);
export type Condition = z.infer<typeof Condition>;
export type ConditionType = Condition['type'];
export type ThresholdCondition = z.infer<typeof Threshold>;
export type RateCondition = z.infer<typeof Rate>;
export type AbsenceCondition = z.infer<typeof Absence>;
export type WindowCondition = z.infer<typeof Window>;
export type AqiCondition = z.infer<typeof Aqi>;
export type ExprCondition = z.infer<typeof Expr>;

// ---- selection and the rule ----

const District = z.string().min(1).max(100);

export const Select = z
  .strictObject({
    kind: Kind.optional(),
    /** One ward or a list of them (the registry's `district`, docs/hue-places.md "Administrative units"). */
    district: z
      .union([District, z.array(District).min(1)])
      .transform((d) => (typeof d === 'string' ? [d] : d))
      .optional(),
    devices: z.array(z.string().regex(DEVICE_ID_PATTERN, 'a device id')).min(1).optional(),
    /** Registry tags; a device must carry every one listed. */
    tags: z.array(z.string().min(1).max(64)).min(1).optional(),
  })
  .refine((s) => s.kind !== undefined || s.devices !== undefined, {
    message: 'select needs kind or devices',
  });
export type Select = z.infer<typeof Select>;

export const RULE_ID_PATTERN = DEVICE_ID_PATTERN; // a rule id is one level of city/alerts/<kind>/<device>/<rule>

const Template = z
  .string()
  .min(1)
  .max(1_000)
  .superRefine((t, ctx) => {
    for (const message of checkTemplate(t)) ctx.addIssue({ code: 'custom', message });
  });

/**
 * A clear rendered with the raise's message would read "water level 0.9 m, past alarm level 3 (0.95 m)":
 * without a `clear_message` of its own, a rule's clear says only that it cleared.
 */
export const DEFAULT_CLEAR_MESSAGE = '{{device.name}}: cleared ({{rule.title}})';

/**
 * A command sent when the rule raises an alert (docs/commands.md): to the alert's device, or to every lamp
 * of its street or its district (a storm's flooded street switches its lights on). Its type and parameters
 * are checked against each other and against the rule's kind in rule-file.ts.
 */
export const RuleCommand = z.strictObject({
  type: z.enum(COMMAND_TYPES),
  params: z.record(z.string(), z.unknown()).optional(),
  to: z.enum(['device', 'street', 'district']).default('device'),
  expires_in: CommandExpiry.optional(),
});
export type RuleCommand = z.infer<typeof RuleCommand>;

/** A rule's shape. The schema that parses a rule checks its parts against each other as well: rule-file.ts's
 * `Rule`. */
export const RuleShape = z.strictObject({
  id: z.string().regex(RULE_ID_PATTERN, 'letters, digits, _ . - (1–64, first alphanumeric)'),
  title: z.string().trim().min(1).max(200),
  severity: Severity,
  // A tag of every alert event in InfluxDB, where control characters and backslashes cannot be written.
  owner: z
    .string()
    .trim()
    .min(1)
    .max(100)
    .regex(/^[^\p{Cc}\\]*$/u, 'no control characters or backslashes (the owner is an InfluxDB tag)'),
  message: Template,
  /** The message of a clear (the alert's resolution); DEFAULT_CLEAR_MESSAGE when left out. */
  clear_message: Template.optional(),
  select: Select,
  condition: Condition,
  command: RuleCommand.optional(),
});
export type Rule = z.infer<typeof RuleShape>;
