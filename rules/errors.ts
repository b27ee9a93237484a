// Error codes of the rules component (CONVENTIONS.md, "Errors and logs": one table, codes stable). A rule
// file that does not validate is data, not an exception: the loader returns its problems, each with one
// of these codes. Only a persisted evaluator state that does not validate is thrown, as a RulesError.

export const RULES_ERRORS = {
  RULES_ERR_YAML: 'the rule file is not well-formed YAML (syntax, duplicate key, bad indentation)',
  RULES_ERR_SCHEMA: 'a rule does not match the rule file schema (rules/schema.ts)',
  RULES_ERR_DUPLICATE_ID: 'two rules have the same id, in one file or across the files loaded together',
  RULES_ERR_STATE: "a persisted evaluator state does not validate against its condition's state schema",
} as const;

export type RulesErrorCode = keyof typeof RULES_ERRORS;

export class RulesError extends Error {
  override readonly name = 'RulesError';
  readonly code: RulesErrorCode;

  constructor(code: RulesErrorCode, detail?: string, options?: { cause?: unknown }) {
    super(detail === undefined ? RULES_ERRORS[code] : `${RULES_ERRORS[code]}: ${detail}`, options);
    this.code = code;
  }
}

export function isRulesError(err: unknown, code?: RulesErrorCode): err is RulesError {
  return err instanceof RulesError && (code === undefined || err.code === code);
}
