// The rules component's public entry: rule files (YAML, validated as a whole with every problem placed),
// the engine that evaluates them on the live stream and raises alerts through the alert service, the
// operations the API offers on them, and the tools of rules as code (rule tests, backtest). The rule
// language's parts (schema.ts, rule-file.ts, cel.ts, evaluators/) stay inside.
export { isRulesError, RULES_ERRORS, RulesError, type RulesErrorCode } from './errors.ts';
export { Rule, RuleFile } from './rule-file.ts';
export { parseDuration, RULE_ID_PATTERN } from './schema.ts';
export {
  loadRuleFiles,
  parseRuleFile,
  type LoadedRule,
  type LoadResult,
  type ParseResult,
  type RuleProblem,
} from './loader.ts';
export { readRuleFolder, RULE_FILE, RULE_TEST_FILE } from './engine/rule-files.ts';
export type { RuleDevice } from './engine/rule-device.ts';
export { createRuleCore, type RuleCore } from './engine/core.ts';
export { createRuleEngine, type RuleEngine, type RuleEngineConfig } from './engine/engine.ts';
export { createAqiWriter } from './engine/aqi-writer.ts';
export { selects, whyNotApplicable } from './evaluators/select.ts';
export { createRuleOperations, type RuleOperations } from './operations.ts';
export { backtestRules, type BacktestDeps } from './backtest/backtest.ts';
export { BacktestReport, type BacktestInput } from './backtest/types.ts';
export { findRuleTestFiles, loadRuleTestFile } from './testing/files.ts';
export { formatResults, runRuleTest } from './testing/runner.ts';
export { RULE_TEST_ERRORS, type RuleTestErrorCode } from './testing/errors.ts';
