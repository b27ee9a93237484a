// Message templates: how a receiver that people read (e-mail, Telegram, Zalo) words a notification, per
// language. A template is text with `{{field}}` placeholders from a fixed set; one naming anything else, or
// with a brace left open, is refused when the agency is saved, so a template that cannot render never
// reaches a flood night. The fields are filled by the notifier (notify/templates.ts), which also holds the
// Vietnamese and English defaults written in this same form.
import { z } from 'zod';

/** The placeholders a template may use, and what each becomes. */
export const TEMPLATE_FIELDS = {
  headline: 'severity (or ESCALATED / RESOLVED), title and place: the default subject',
  status: 'firing or resolved, in the language',
  severity: 'the worst severity of its alerts, in the language',
  title: "the alert's title, or the number of alerts",
  count: 'how many alerts it lists',
  place: 'the district or device it is grouped by, if any',
  alerts: 'one line per alert: message, device, state, time raised',
  escalation: 'why it was escalated (not acknowledged after so long), or nothing',
  links: "one line per alert: the link to the alert's page",
  key: "the notification's key (what a receiver drops a repeat by)",
} as const;
export type TemplateField = keyof typeof TEMPLATE_FIELDS;

const PLACEHOLDER = /\{\{\s*([a-z_]+)\s*\}\}/g;

/** Why a template cannot render, or undefined when it can. */
export function templateProblem(text: string): string | undefined {
  // Known placeholders blanked out, same length, so a stray brace's position is the original one.
  const rest = text.replace(PLACEHOLDER, (whole, name: string) =>
    name in TEMPLATE_FIELDS ? ' '.repeat(whole.length) : whole,
  );
  const unknown = [...rest.matchAll(PLACEHOLDER)].map((m) => m[1]);
  const known = Object.keys(TEMPLATE_FIELDS).join(', ');
  if (unknown.length > 0) return `unknown placeholder {{${unknown[0]}}}: the fields are ${known}`;
  const open = rest.search(/\{\{|\}\}/);
  if (open >= 0) return `a brace pair at character ${open + 1} is not a placeholder such as {{title}}`;
  return undefined;
}

/** Fills a template checked by templateProblem; every placeholder is replaced by its field's text. */
export function fillTemplate(text: string, fields: Readonly<Record<TemplateField, string>>): string {
  return text.replace(PLACEHOLDER, (_whole, name: string) => fields[name as TemplateField]);
}

const TemplateText = (max: number) =>
  z
    .string()
    .min(1)
    .max(max)
    .superRefine((text, ctx) => {
      const problem = templateProblem(text);
      if (problem !== undefined) ctx.addIssue({ code: 'custom', message: `does not render: ${problem}` });
    });

/** A receiver's template in one language: the subject (e-mail only) and the text. */
export const MessageTemplate = z.strictObject({
  subject: TemplateText(300).optional(),
  text: TemplateText(4000),
});
export type MessageTemplate = z.infer<typeof MessageTemplate>;
