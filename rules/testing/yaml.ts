// Rule test files are YAML validated by a zod schema, every problem at its line and column, with a way to
// place later problems (an unknown device found once the fleet is read) at the node they are about: the
// shared YAML parser (../yaml-positions.ts) with the rule tests' codes.
import type { z } from 'zod';
import type { RulesErrorCode } from '../errors.ts';
import {
  parseYamlWith,
  where,
  type Path,
  type Positions as YamlPositions,
  type YamlProblem,
  type YamlResult as SharedResult,
} from '../yaml-positions.ts';
import type { RuleTestErrorCode } from './errors.ts';

export { where, type Path };

export type RuleTestProblem = YamlProblem<RuleTestErrorCode | RulesErrorCode>;
export type Positions = YamlPositions<RuleTestErrorCode>;
export type YamlResult<T> = SharedResult<T, RuleTestErrorCode>;

export function parseYaml<S extends z.ZodType>(
  text: string,
  file: string,
  schema: S,
): YamlResult<z.output<S>> {
  return parseYamlWith(text, file, schema, { yaml: 'RULE_TEST_ERR_YAML', schema: 'RULE_TEST_ERR_SCHEMA' });
}
