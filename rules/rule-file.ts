// A rule file: the rules' shapes (schema.ts) with the checks that need two parts of a rule at once — a
// field against the selected kind, a level against the direction of the condition, a placeholder against
// the condition type, a CEL name against the kind's fields. They run once the rule's own shape is valid,
// and each problem keeps the path of the part it is about, for its line and column.
import { z } from 'zod';
import {
  COMMAND_KINDS,
  COMMAND_PARAMS,
  fieldSpec,
  KINDS,
  META_SCHEMAS,
  type Kind,
} from '../devices/index.ts';
import type { Severity } from '../alerts/index.ts';
import { exprKindIssues } from './cel.ts';
import { aqiBound } from './evaluators/aqi.ts';
import { TEMPLATE_VARS } from './evaluators/template.ts';
import { SEVERITY_RANK } from '../measurements/index.ts';
import { RuleShape, type AqiCondition, type Op, type ValueRef } from './schema.ts';

/** A rule, parsed and checked whole. */
export const Rule = RuleShape.superRefine(checkRule);
export type Rule = z.infer<typeof Rule>;

export const RuleFile = z.strictObject({ rules: z.array(Rule).min(1).max(1_000) });
export type RuleFile = z.infer<typeof RuleFile>;

type Issue = { path: (string | number)[]; message: string };

function checkRule(rule: Rule, ctx: z.RefinementCtx): void {
  const issues = [
    ...fieldIssues(rule),
    ...valueIssues(rule),
    ...placeholderIssues(rule),
    ...(rule.condition.type === 'expr' ? exprKindIssues(rule.condition, kindsOf(rule)) : []),
    ...commandIssues(rule),
  ];
  for (const { path, message } of issues) ctx.addIssue({ code: 'custom', path, message });
}

const kindsOf = (rule: Rule): readonly Kind[] => (rule.select.kind ? [rule.select.kind] : KINDS);

/** A rule's command: parameters its type takes, sent to devices that take it. */
function commandIssues(rule: Rule): Issue[] {
  const c = rule.command;
  if (c === undefined) return [];
  const out: Issue[] = [];
  const params = COMMAND_PARAMS[c.type].safeParse(c.params ?? {});
  if (!params.success)
    for (const i of params.error.issues)
      out.push({ path: ['command', 'params', ...i.path.map(String)], message: i.message });
  const takes = COMMAND_KINDS[c.type];
  if (c.to === 'device' && !kindsOf(rule).every((k) => takes.includes(k)))
    out.push({
      path: ['command', 'type'],
      message: `${c.type} is for ${takes.join(', ')}: the rule selects ${rule.select.kind ?? 'any kind'}`,
    });
  if (c.to === 'street' && !takes.includes('streetlight'))
    out.push({ path: ['command', 'type'], message: `a street's lamps do not take ${c.type}` });
  return out;
}

function fieldIssues(rule: Rule): Issue[] {
  const c = rule.condition;
  const kinds = kindsOf(rule);
  const out: Issue[] = [];
  const known = (f: string, numeric: boolean) =>
    kinds.some((k) => {
      const spec = fieldSpec(k, f);
      return spec !== undefined && (!numeric || spec.type === 'number');
    });
  const where = rule.select.kind ?? 'any kind';
  if ('field' in c && !known(c.field, true))
    out.push({ path: ['condition', 'field'], message: `not a numeric field of ${where}` });
  if (c.type === 'threshold')
    c.when?.forEach((g, i) => {
      if (!known(g.field, false))
        out.push({ path: ['condition', 'when', i, 'field'], message: `not a field of ${where}` });
    });
  if (c.type === 'aqi' && !kinds.includes('air_quality'))
    out.push({ path: ['condition', 'type'], message: 'an aqi condition selects air_quality devices' });
  return out;
}

/** Every `$meta` name must be one the selected kind's registry metadata has (devices/schemas.ts). */
function valueIssues(rule: Rule): Issue[] {
  const c = rule.condition;
  const names = new Set(kindsOf(rule).flatMap((k) => Object.keys(META_SCHEMAS[k].shape)));
  const out: Issue[] = [];
  const visit = (v: ValueRef | undefined, path: (string | number)[]) => {
    if (v === undefined || typeof v === 'number') return;
    if ('meta' in v) {
      if (!names.has(v.meta))
        out.push({ path, message: `no registry metadata ${v.meta} for ${rule.select.kind ?? 'any kind'}` });
      return;
    }
    visit(v.of, [...path, 'of']);
    visit(v.plus_pct ?? v.minus_pct, [...path, v.plus_pct === undefined ? 'minus_pct' : 'plus_pct']);
  };
  if (c.type === 'threshold' || c.type === 'window') {
    visit(c.value, ['condition', 'value']);
    visit(c.clear?.value, ['condition', 'clear', 'value']);
    c.escalate?.forEach((e, i) => visit(e.value, ['condition', 'escalate', i, 'value']));
    out.push(...directionIssues(rule.severity, c));
  }
  if (c.type === 'aqi') out.push(...directionIssues(rule.severity, aqiAsNumbers(c)));
  return out;
}

/** An aqi condition with its category keys as index bounds, for the same direction checks. */
function aqiAsNumbers(c: AqiCondition): Leveled {
  const bound = (op: Op, v: number | string) => aqiBound(c.index, op, v) ?? 0;
  return {
    op: c.op,
    value: bound(c.op, c.value),
    ...(c.clear && { clear: { op: c.clear.op, value: bound(c.clear.op, c.clear.value) } }),
    ...(c.escalate && { escalate: c.escalate.map((e) => ({ ...e, value: bound(c.op, e.value) })) }),
  };
}

/** What the direction checks read: a raise, an optional clear, optional escalation levels. */
interface Leveled {
  readonly op: Op;
  readonly value: ValueRef;
  readonly clear?: { readonly op: Op; readonly value: ValueRef } | undefined;
  readonly escalate?: readonly { readonly value: ValueRef; readonly severity: Severity }[] | undefined;
}

const rising = (op: Op): boolean => op === '>' || op === '>=';

/** The clear must face the other way, levels must be ordered, and constant limits must not overlap. */
function directionIssues(severity: Severity, c: Leveled): Issue[] {
  const out: Issue[] = [];
  const up = rising(c.op);
  if (c.clear && rising(c.clear.op) === up)
    out.push({ path: ['condition', 'clear', 'op'], message: `a clear must face the other way from ${c.op}` });
  else if (c.clear && typeof c.clear.value === 'number' && typeof c.value === 'number') {
    const gap = up ? c.value - c.clear.value : c.clear.value - c.value;
    const touching = gap === 0 && c.op.endsWith('=') && c.clear.op.endsWith('=');
    if (gap < 0 || touching)
      out.push({
        path: ['condition', 'clear', 'value'],
        message: 'the clear overlaps the raise: a value would do both',
      });
  }
  let prev: { value: ValueRef; severity: Severity } = { value: c.value, severity };
  c.escalate?.forEach((e, i) => {
    if (SEVERITY_RANK[e.severity] < SEVERITY_RANK[prev.severity])
      out.push({
        path: ['condition', 'escalate', i, 'severity'],
        message: 'a level may not be less severe than the one before',
      });
    if (
      typeof e.value === 'number' &&
      typeof prev.value === 'number' &&
      (up ? e.value <= prev.value : e.value >= prev.value)
    )
      out.push({
        path: ['condition', 'escalate', i, 'value'],
        message: `levels must go ${up ? 'up' : 'down'}`,
      });
    prev = e;
  });
  return out;
}

function placeholderIssues(rule: Rule): Issue[] {
  const allowed: readonly string[] = TEMPLATE_VARS[rule.condition.type];
  const metaNames = new Set(kindsOf(rule).flatMap((k) => Object.keys(META_SCHEMAS[k].shape)));
  const out: Issue[] = [];
  for (const key of ['message', 'clear_message'] as const) {
    for (const [, name = ''] of (rule[key] ?? '').matchAll(/\{\{\s*([a-z0-9_.]+)\s*\}\}/g)) {
      const ok = name.startsWith('meta.') ? metaNames.has(name.slice(5)) : allowed.includes(name);
      if (!ok)
        out.push({ path: [key], message: `{{${name}}} is not available to a ${rule.condition.type} rule` });
    }
  }
  return out;
}

/** The ids of the rules whose condition is an absence: their alerts mean a device stopped reporting. */
export function absenceRuleIds(rules: ReadonlyArray<Pick<Rule, 'id' | 'condition'>>): Set<string> {
  return new Set(rules.filter((r) => r.condition.type === 'absence').map((r) => r.id));
}
