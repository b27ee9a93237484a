// What the rules offer an operator's tools (the API's /api/rules): the rules in force, a rule file checked
// against them without putting it in force, and a rule file run over stored history. The platform binds
// it to the live engine; a test binds it to rule files it loaded itself.
import type { BacktestDeps } from './backtest/backtest.ts';
import { backtestRules } from './backtest/backtest.ts';
import type { BacktestInput, BacktestReport } from './backtest/types.ts';
import { validateRuleFileAmong, type LoadedRule, type ParseResult, type RuleContext } from './loader.ts';

export interface RuleOperations {
  /** The rules in force now, with the file each comes from. */
  inForce(): readonly LoadedRule[];
  /** Parses and validates a rule file: its own problems (an owner that is no agency among them), and ids
   * that clash with other files in force. */
  validate(source: string, name: string): ParseResult;
  /** Runs a rule file over stored history; the caller has already checked the file and the range. */
  backtest(input: BacktestInput): Promise<BacktestReport>;
}

/** `backtest` reads InfluxDB through these; without them a backtest is refused with an error. */
export function createRuleOperations(
  inForce: () => readonly LoadedRule[],
  backtest: BacktestDeps | undefined,
  context: () => RuleContext = () => ({}),
): RuleOperations {
  return {
    inForce,
    validate: (source, name) => validateRuleFileAmong(source, name, inForce(), context()),
    backtest: (input) =>
      backtest === undefined
        ? Promise.reject(new Error('no history to backtest against was configured'))
        : backtestRules(input, backtest),
  };
}
