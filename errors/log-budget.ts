// A budget of log lines per error code and time window, so a flood of refusals (wrong passwords from many
// addresses, a client hammering a forbidden topic, a device sending junk) cannot become a flood of log
// lines filling the disk. Past the budget, lines are counted instead, and when the window ends one line
// says how many were left out. The metrics count every refusal whatever the budget.
import type { Logger } from 'pino';

export interface LogBudget {
  /** Logs `message` at warn level unless `code`'s budget for this window is spent. */
  warn(code: string, fields: Record<string, unknown>, message: string): void;
}

export function createLogBudget(log: Logger, { perWindow = 20, windowMs = 10_000 } = {}): LogBudget {
  const windows = new Map<string, { startedAt: number; logged: number; skipped: number }>();

  /** Ends `code`'s window: the count of what it left out, if anything. */
  function close(code: string): void {
    const w = windows.get(code);
    windows.delete(code);
    if (w !== undefined && w.skipped > 0) {
      log.warn({ code, skipped: w.skipped, windowMs }, `${w.skipped} more ${code} refusals not logged`);
    }
  }

  return {
    warn(code, fields, message) {
      const t = Date.now();
      let w = windows.get(code);
      if (w !== undefined && t - w.startedAt >= windowMs) {
        close(code);
        w = undefined;
      }
      if (w === undefined) {
        w = { startedAt: t, logged: 0, skipped: 0 };
        windows.set(code, w);
      }
      if (w.logged < perWindow) {
        w.logged++;
        log.warn({ ...fields, code }, message);
        return;
      }
      // The first line left out: the window's count is written when it ends, even if nothing follows.
      if (w.skipped++ === 0) {
        const window = w;
        setTimeout(() => windows.get(code) === window && close(code), windowMs - (t - w.startedAt)).unref();
      }
    },
  };
}
