// A budget of log lines per error code and time window, so a flood of refusals (wrong passwords from many
// addresses, a client hammering a forbidden topic) cannot become a flood of log lines filling the disk.
// Past the budget, lines are counted instead, and one line per window says how many were left out.
// The metrics count every refusal whatever the budget.
import type { Logger } from 'pino';

export interface LogBudget {
  /** Logs `message` at warn level unless `code`'s budget for this window is spent. */
  warn(code: string, fields: Record<string, unknown>, message: string): void;
}

export function createLogBudget(
  log: Logger,
  { perWindow = 20, windowMs = 10_000 } = {},
  now: () => number = Date.now,
): LogBudget {
  const windows = new Map<string, { startedAt: number; logged: number; skipped: number }>();
  return {
    warn(code, fields, message) {
      const t = now();
      let w = windows.get(code);
      if (w === undefined || t - w.startedAt >= windowMs) {
        if (w !== undefined && w.skipped > 0) {
          log.warn({ code, skipped: w.skipped, windowMs }, `${w.skipped} more ${code} refusals not logged`);
        }
        w = { startedAt: t, logged: 0, skipped: 0 };
        windows.set(code, w);
      }
      if (w.logged < perWindow) {
        w.logged++;
        log.warn({ ...fields, code }, message);
      } else {
        w.skipped++;
      }
    },
  };
}
