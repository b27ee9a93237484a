// Message templates: `{{device.name}}: {{field}} {{value}} m, above {{threshold}} m`. A template is
// checked when its rule file loads (an unknown placeholder is a mistake in the file, not a blank in an
// alert at 3 a.m.) and rendered when a transition happens. No expressions, no HTML: plain substitution.

const COMMON = [
  'device.id',
  'device.name',
  'device.district',
  'device.kind',
  'rule.id',
  'rule.title',
  'severity',
  'owner',
] as const;
const MEASURED = ['field', 'value', 'threshold', 'unit'] as const;

/** The placeholders each condition type fills in; `meta.<name>` (registry metadata) is open to all. */
export const TEMPLATE_VARS = {
  threshold: [...COMMON, ...MEASURED, 'level'],
  rate: [...COMMON, ...MEASURED, 'within'],
  absence: [...COMMON, 'silent_for', 'last_seen'],
  window: [...COMMON, ...MEASURED, 'aggregate', 'over', 'level'],
  aqi: [...COMMON, 'value', 'threshold', 'index', 'category', 'level'],
  expr: [...COMMON],
} as const satisfies Record<string, readonly string[]>;

const KNOWN: ReadonlySet<string> = new Set(Object.values(TEMPLATE_VARS).flat());
const PLACEHOLDER = /\{\{\s*([^{}]*?)\s*\}\}/g;
const META_VAR = /^meta\.[a-z][a-z0-9_]*$/;

/** Problems with a template's syntax or names, whatever the condition; empty when it is well formed. */
export function checkTemplate(template: string): string[] {
  const problems: string[] = [];
  for (const [, name = ''] of template.matchAll(PLACEHOLDER)) {
    if (!KNOWN.has(name) && !META_VAR.test(name))
      problems.push(`unknown placeholder {{${name}}}: one of ${[...KNOWN].join(', ')} or meta.<name>`);
  }
  const rest = template.replace(PLACEHOLDER, '');
  if (rest.includes('{{') || rest.includes('}}')) problems.push('unbalanced {{ or }} in the message');
  return problems;
}

export type TemplateValue = string | number | boolean | undefined;

/** Fills the placeholders; one with no value shows as `?` rather than vanishing from the sentence. */
export function renderMessage(template: string, vars: Readonly<Record<string, TemplateValue>>): string {
  return template.replace(PLACEHOLDER, (_, name: string) => {
    const v = Object.hasOwn(vars, name) ? vars[name] : undefined;
    if (v === undefined) return '?';
    return typeof v === 'number' ? formatNumber(v) : String(v);
  });
}

/** At most three decimals, no trailing zeros: 3.5, 0.333, 12. */
export function formatNumber(x: number): string {
  return Number.isFinite(x) ? String(Math.round(x * 1000) / 1000) : String(x);
}

const DURATION_UNITS = [
  ['d', 86_400],
  ['h', 3_600],
  ['m', 60],
  ['s', 1],
] as const;

/** 5400000 → `1h 30m`: for `{{silent_for}}`, `{{within}}` and `{{over}}`. */
export function formatDuration(ms: number): string {
  const parts: string[] = [];
  let left = Math.max(0, Math.round(ms / 1000));
  // Up to two days in hours: rain "in the last 24h" is how a forecaster says it, not "in the last 1d".
  const units = left < 2 * 86_400 ? DURATION_UNITS.slice(1) : DURATION_UNITS;
  for (const [unit, size] of units) {
    const n = Math.floor(left / size);
    left -= n * size;
    if (n > 0) parts.push(`${n}${unit}`);
  }
  return parts.length === 0 ? '0s' : parts.join(' ');
}
