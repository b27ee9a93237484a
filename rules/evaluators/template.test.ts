import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { checkTemplate, formatDuration, formatNumber, renderMessage } from './template.ts';

describe('message templates', () => {
  it('fills placeholders, with or without spaces inside the braces', () => {
    const text = renderMessage('{{device.name}}: {{ value }} m, past alarm {{level}} ({{threshold}} m)', {
      'device.name': 'Trạm thủy văn Kim Long',
      value: 3.6123,
      level: 3,
      threshold: 3.5,
    });
    expect(text).toBe('Trạm thủy văn Kim Long: 3.612 m, past alarm 3 (3.5 m)');
  });

  it('shows a missing value as ?, and never reads inherited properties', () => {
    expect(renderMessage('{{value}} {{constructor}}', {})).toBe('? ?');
  });

  it('finds unknown placeholders and unbalanced braces', () => {
    expect(checkTemplate('{{device.name}} {{meta.river}}')).toEqual([]);
    expect(checkTemplate('{{device.nam}}')).toEqual([
      expect.stringContaining('unknown placeholder {{device.nam}}'),
    ]);
    expect(checkTemplate('{{value} and }}')).toHaveLength(1);
    expect(checkTemplate('{{value')).toEqual(['unbalanced {{ or }} in the message']);
  });

  it('formats numbers and durations for people', () => {
    expect(formatNumber(0.1 + 0.2)).toBe('0.3');
    expect(formatNumber(12)).toBe('12');
    expect(formatDuration(5_400_000)).toBe('1h 30m');
    expect(formatDuration(86_400_000)).toBe('24h');
    expect(formatDuration(90_061_000)).toBe('25h 1m 1s');
    expect(formatDuration(2 * 86_400_000 + 3_600_000)).toBe('2d 1h');
    expect(formatDuration(0)).toBe('0s');
  });

  it('property: text without braces comes out as it went in', () => {
    fc.assert(
      fc.property(
        fc.string().filter((s) => !s.includes('{') && !s.includes('}')),
        (s) => {
          expect(renderMessage(s, { value: 1 })).toBe(s);
          expect(checkTemplate(s)).toEqual([]);
        },
      ),
    );
  });
});
