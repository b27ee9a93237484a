// The rules component's public entry: the rule file schema and loader, the pure evaluators and their
// JSON states, selection, message templates, and the air-quality indices (rules/aqi). The engine that
// runs rules on the live stream, the alert lifecycle and the sinks build on these, and so do the alert
// requests and decoded readings of Node-RED flows (flows.ts).
export { isRulesError, RULES_ERRORS, RulesError, type RulesErrorCode } from './errors.ts';
export {
  loadRuleFiles,
  parseRuleFile,
  validateRuleFileAmong,
  type LoadedRule,
  type LoadResult,
  type ParseResult,
  type RuleProblem,
} from './loader.ts';
export {
  AGGREGATES,
  AQI_CATEGORY_KEYS,
  Condition,
  Duration,
  MAX_DURATION_MS,
  Op,
  OPS,
  parseDuration,
  Rule,
  RULE_ID_PATTERN,
  RuleFile,
  Select,
  ValueRef,
  type AbsenceCondition,
  type AqiCondition,
  type ConditionType,
  type ExprCondition,
  type Guard,
  type MetaRef,
  type Operand,
  type RateCondition,
  type ThresholdCondition,
  type WindowCondition,
} from './schema.ts';
export { AbsenceState, absenceInit, absenceReading, absenceTick } from './evaluators/absence.ts';
export { BUCKETS_PER_WINDOW, bucketCount, bucketWidth, type Bucket } from './evaluators/buckets.ts';
export {
  EvaluatorState,
  initialState,
  isEvaluated,
  onReading,
  onTick,
  restoreState,
  type EvaluatedType,
} from './evaluators/evaluate.ts';
export { idleLevels, LevelState, stepLevels, type ClearLimit, type Limit } from './evaluators/levels.ts';
export { change, RateState, rateInit, rateReading, rateTick } from './evaluators/rate.ts';
export { selects, whyNotApplicable, type SelectableDevice } from './evaluators/select.ts';
export {
  checkTemplate,
  formatDuration,
  formatNumber,
  renderMessage,
  TEMPLATE_VARS,
  type TemplateValue,
} from './evaluators/template.ts';
export { resolveLevels, ThresholdState, thresholdInit, thresholdReading } from './evaluators/threshold.ts';
export type { EvalContext, EvalRule, Step, Transition, TransitionType } from './evaluators/types.ts';
export { compare, guardsHold, negate, resolveValue } from './evaluators/values.ts';
export { aggregate, WindowState, windowInit, windowReading, windowTick } from './evaluators/window.ts';
export {
  BacktestReport,
  BacktestRuleSummary,
  BacktestTransition,
  type BacktestInput,
} from './backtest/types.ts';
export {
  backtestRules,
  warmUpMs,
  BACKTEST_MAX_TRANSITIONS,
  BACKTEST_PAGE_SIZE,
  BACKTEST_TICK_MS,
  type BacktestDeps,
} from './backtest/backtest.ts';
export { RULE_TEST_ERRORS, type RuleTestErrorCode } from './testing/errors.ts';
export { findRuleTestFiles, loadRuleTestFile, type LoadedRuleTests } from './testing/files.ts';
export {
  parseRuleTestFile,
  prepareRuleTests,
  type PreparedTest,
  type PrepareResult,
} from './testing/prepare.ts';
export {
  formatResults,
  runRuleTest,
  simulate,
  type RuleTestResult,
  type RuleTestStatus,
} from './testing/runner.ts';
export { RuleTestFile } from './testing/schema.ts';
export {
  createRuleCore,
  type Firing,
  type RuleCore,
  type RuleDevice,
  type SavedRuleState,
} from './engine/core.ts';
export {
  createRuleEngine,
  type RuleEngine,
  type RuleEngineConfig,
  type RuleEngineDeps,
  type RuleStatus,
} from './engine/engine.ts';
export { alertEventLine, createAlertSinks, type AlertSinkDeps } from '../alerts/index.ts';
export { readRuleFolder, RULE_FILE, RULE_TEST_FILE } from './engine/rule-files.ts';
export { createRuleOperations, type RuleOperations } from './operations.ts';
export { createAqiWriter, STATION_STATE_KEY, type AqiWriter } from './engine/aqi-writer.ts';
export { AqiState, aqiCategoryOf, aqiInit, aqiReading, AQI_INDEX_NAMES } from './evaluators/aqi.ts';
export {
  compileExpr,
  ExprState,
  exprInit,
  exprProblems,
  exprReading,
  EXPR_VARIABLES,
} from './evaluators/expr.ts';
export { sunAltitudeDeg, sunPosition, type SunPosition } from '../devices/sun.ts';
