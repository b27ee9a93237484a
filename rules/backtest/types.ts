// What a backtest reports: the transitions a rule file would have produced over stored history, and a
// count per rule. The command line prints it; POST /api/rules/backtest returns it as JSON.
import { z } from 'zod';
import { Severity } from '../../alerts/index.ts';

export const BacktestTransition = z.object({
  rule: z.string(),
  device: z.string(),
  type: z.enum(['raise', 'escalate', 'clear']),
  at: z.iso.datetime(),
  severity: Severity,
  value: z.number().nullable(),
  threshold: z.number().nullable(),
  /** 1 for the rule's own level, as the alert API counts. */
  level: z.number().int().min(1),
  message: z.string(),
});
export type BacktestTransition = z.infer<typeof BacktestTransition>;

export const BacktestRuleSummary = z.object({
  rule: z.string(),
  title: z.string(),
  devices: z.number().int().min(0),
  raised: z.number().int().min(0),
  escalated: z.number().int().min(0),
  cleared: z.number().int().min(0),
  /** Alerts still open at the end of the range. */
  openAtEnd: z.number().int().min(0),
});

export const BacktestReport = z.object({
  from: z.iso.datetime(),
  to: z.iso.datetime(),
  readings: z.number().int().min(0),
  devices: z.number().int().min(0),
  rules: z.array(BacktestRuleSummary),
  transitions: z.array(BacktestTransition),
  /** True when more transitions happened than the report lists (`transitions` is capped). */
  truncated: z.boolean(),
});
export type BacktestReport = z.infer<typeof BacktestReport>;

export interface BacktestInput {
  /** The rule file's YAML text and the name to report problems against. */
  readonly source: string;
  readonly name: string;
  /** ms since the epoch. */
  readonly from: number;
  readonly to: number;
}
