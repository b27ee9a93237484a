// Error codes of rule test files (docs/conventions.md, "Errors and logs": one table, codes stable). A test file
// that does not load is data: its problems come back with these codes, each at a file, line and column.
// The rule files a test names keep their own codes (RULES_ERR_*, rules/errors.ts). A test that runs and
// does not see what it expects is a failed test, not an error.

export const RULE_TEST_ERRORS = {
  RULE_TEST_ERR_YAML: 'the test file is not well-formed YAML (syntax, duplicate key, bad indentation)',
  RULE_TEST_ERR_SCHEMA: 'the test file does not match the test file schema (rules/testing/schema.ts)',
  RULE_TEST_ERR_FILE: 'a file the test file names (a rule file, the fleet file) cannot be read',
  RULE_TEST_ERR_RULE: 'a test names a rule id that its rule files do not define',
  RULE_TEST_ERR_DEVICE:
    'a device is not in the fleet, is defined twice, or is selected by no rule under test',
  RULE_TEST_ERR_READING:
    "a test reading is one ingest would refuse (a field or value outside the kind's schema)",
  RULE_TEST_ERR_TIME: 'a reading or an expected transition lies after the end of its test (`until`)',
} as const;

export type RuleTestErrorCode = keyof typeof RULE_TEST_ERRORS;
