// The rules component's public entry: rule files (YAML, validated as a whole with every problem placed),
// the engine that evaluates them on the live stream and raises alerts through the alert service, the
// operations the API offers on them, and the tools of rules as code (rule tests, backtest) for the
// command line. The rule language's parts (schema.ts, rule-file.ts, cel.ts, evaluators/) stay inside.
export { RULES_ERRORS, type RulesErrorCode } from './errors.ts';
export { RULE_TEST_ERRORS } from './testing/errors.ts';
export { absenceRuleIds, Rule } from './rule-file.ts';
export { parseDuration, RULE_ID_PATTERN } from './schema.ts';
export {
  loadRuleFiles,
  parseRuleFile,
  type LoadedRule,
  type ParseResult,
  type RuleContext,
} from './loader.ts';
export { readRuleFolder, RULE_TEST_FILE } from './engine/rule-files.ts';
export type { RuleDevice } from './engine/rule-device.ts';
export { createRuleEngine, type RuleEngine } from './engine/engine.ts';
export { createRuleOperations, type RuleOperations } from './operations.ts';
export { backtestRules } from './backtest/backtest.ts';
export { BacktestReport, type BacktestInput } from './backtest/types.ts';
// The command line's rule tests (platform/rules-cli.ts).
export { findRuleTestFiles, loadRuleTestFile } from './testing/files.ts';
export { formatResults, runRuleTest } from './testing/runner.ts';
// What the benchmarks time on their own (bench/evaluators.ts, bench/probe-setup.ts).
export { createRuleCore } from './engine/core.ts';
export { createAqiWriter } from './engine/aqi-writer.ts';
export { selects, whyNotApplicable } from './evaluators/select.ts';
export { Duration } from './schema.ts';
export {
  parseYamlWith,
  sortedProblems,
  type Positions,
  type YamlProblem,
  type YamlResult,
} from './yaml-positions.ts';
