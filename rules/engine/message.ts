// The values a transition puts into its rule's message template (rules/evaluators/template.ts): the
// device, the rule, what was compared and with what, and the condition's own words (`within`, `over`,
// `silent_for`). Levels are shown counting from 1: "past alarm level 2" is the rule's first escalation.
import { fieldSpec } from '../../devices/index.ts';
import { aqiTemplateVars } from '../evaluators/aqi.ts';
import { formatDuration, type TemplateValue } from '../evaluators/template.ts';
import type { Transition } from '../evaluators/types.ts';
import type { Rule } from '../schema.ts';
import type { RuleDevice } from './rule-device.ts';

export function messageVars(rule: Rule, device: RuleDevice, t: Transition): Record<string, TemplateValue> {
  const vars: Record<string, TemplateValue> = {
    'device.id': device.id,
    'device.name': device.name,
    'device.district': device.district,
    'device.kind': device.kind,
    'rule.id': rule.id,
    'rule.title': rule.title,
    severity: t.severity,
    owner: rule.owner,
    value: t.value,
    threshold: t.threshold,
    level: t.level,
  };
  for (const [name, value] of Object.entries(device.meta)) {
    if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean')
      vars[`meta.${name}`] = value;
  }
  const c = rule.condition;
  if ('field' in c) {
    vars.field = c.field;
    vars.unit = fieldSpec(device.kind, c.field)?.unit;
  }
  if (c.type === 'rate') vars.within = formatDuration(c.within);
  if (c.type === 'window') {
    vars.over = formatDuration(c.over);
    vars.aggregate = c.aggregate;
  }
  if (c.type === 'absence') {
    vars.silent_for = formatDuration(t.value);
    vars.last_seen = new Date(t.at - t.value).toISOString();
  }
  if (c.type === 'aqi') Object.assign(vars, aqiTemplateVars(c.index, t.value));
  return vars;
}
