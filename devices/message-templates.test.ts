// Message templates are checked when an agency is saved: a placeholder outside the fixed set, or a brace
// left open, is refused with what is wrong; a good one fills every placeholder.
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { AgencyInput } from './agencies.ts';
import { fillTemplate, TEMPLATE_FIELDS, templateProblem, type TemplateField } from './message-templates.ts';

const FIELDS = Object.fromEntries(Object.keys(TEMPLATE_FIELDS).map((k) => [k, `<${k}>`])) as Record<
  TemplateField,
  string
>;

describe('message templates', () => {
  it('fill every placeholder, spaces inside the braces allowed', () => {
    expect(templateProblem('{{ headline }}\n{{alerts}}')).toBeUndefined();
    expect(fillTemplate('{{ headline }}\n{{alerts}} {{key}}', FIELDS)).toBe('<headline>\n<alerts> <key>');
  });

  it.each([
    ['{{headline}} {{device_name}}', 'unknown placeholder {{device_name}}: the fields are headline, status'],
    ['{{headline}} {{title', 'a brace pair at character 14 is not a placeholder such as {{title}}'],
    ['{{Title}}', 'a brace pair at character 1 is not a placeholder'],
    ['}} {{headline}}', 'a brace pair at character 1'],
  ])('refuse %j', (text, says) => {
    expect(templateProblem(text)).toContain(says);
  });

  it("are refused in an agency's receiver with the path and what is wrong", () => {
    const result = AgencyInput.safeParse({
      id: 'hepco',
      name: { vi: 'HEPCO', en: 'HEPCO' },
      receivers: [
        {
          id: 'dispatch',
          type: 'email',
          to: ['dispatch@example.org'],
          templates: { vi: { text: '{{nope}}' } },
        },
      ],
    });
    expect(result.success).toBe(false);
    expect(z.prettifyError(result.error!)).toContain('does not render: unknown placeholder {{nope}}');
    expect(result.error!.issues[0]!.path).toEqual(['receivers', 0, 'templates', 'vi', 'text']);
  });
});
