import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createLogBudget } from './log-budget.ts';

function capture() {
  const lines: Array<Record<string, unknown>> = [];
  const log = pino(
    { level: 'warn' },
    { write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>) },
  );
  return { log, lines };
}

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

describe('log budget', () => {
  it('logs up to the budget per code and window, then says how many lines it left out', () => {
    const { log, lines } = capture();
    const budget = createLogBudget(log, { perWindow: 2, windowMs: 1_000 });
    for (let i = 0; i < 5; i++) budget.warn('BROKER_ERR_AUTH', { username: `u${i}` }, 'wrong credentials');
    budget.warn('BROKER_ERR_ACL', {}, 'publish refused by ACL');
    expect(lines.map((l) => [l.code, l.msg])).toEqual([
      ['BROKER_ERR_AUTH', 'wrong credentials'],
      ['BROKER_ERR_AUTH', 'wrong credentials'],
      ['BROKER_ERR_ACL', 'publish refused by ACL'],
    ]);
    vi.advanceTimersByTime(1_000);
    budget.warn('BROKER_ERR_AUTH', { username: 'u9' }, 'wrong credentials');
    expect(lines.slice(3).map((l) => [l.msg, l.skipped, l.username])).toEqual([
      ['3 more BROKER_ERR_AUTH refusals not logged', 3, undefined],
      ['wrong credentials', undefined, 'u9'],
    ]);
  });

  it('writes the count when the window ends, even if nothing more comes', () => {
    const { log, lines } = capture();
    const budget = createLogBudget(log, { perWindow: 1, windowMs: 1_000 });
    for (let i = 0; i < 4; i++) budget.warn('INGEST_ERR_JSON', {}, 'message dead-lettered');
    expect(lines).toHaveLength(1);
    vi.advanceTimersByTime(999);
    expect(lines).toHaveLength(1);
    vi.advanceTimersByTime(1);
    expect(lines.map((l) => l.msg)).toEqual([
      'message dead-lettered',
      '3 more INGEST_ERR_JSON refusals not logged',
    ]);
  });
});
