// Error codes of the rules component (docs/conventions.md, "Errors and logs": one table, codes stable). A rule
// file that does not validate is data, not an exception: the loader returns its problems, each with one
// of these codes. So is a flow's alert request that cannot be carried out (flows/flows.ts): it is
// acknowledged, dead-lettered with a RULES_ERR_FLOW_* code and counted. Only a persisted evaluator state
// that does not validate is thrown, as a RulesError.
import { errorClass, isErrorOf } from '../errors/index.ts';

export const RULES_ERRORS = {
  RULES_ERR_YAML: 'the rule file is not well-formed YAML (syntax, duplicate key, bad indentation)',
  RULES_ERR_SCHEMA: 'a rule does not match the rule file schema (rules/schema.ts)',
  RULES_ERR_DUPLICATE_ID: 'two rules have the same id, in one file or across the files loaded together',
  RULES_ERR_UNKNOWN_AGENCY: "a rule's owner is not the id of an agency in the registry (GET /api/agencies)",
  RULES_ERR_STATE: "a persisted evaluator state does not validate against its condition's state schema",
  RULES_ERR_FLOW_REQUEST:
    "a flow's alert request is not well-formed UTF-8 JSON, does not match its schema (flows/flows.ts), or has a time more than 5 minutes ahead or a year behind",
  RULES_ERR_FLOW_DEVICE:
    "a flow's alert request names a device that is not registered, is decommissioned, or is of another kind than its topic says",
  RULES_ERR_FLOW_AGENCY:
    "a flow's raise request names an owner that is not the id of an agency in the registry",
  RULES_ERR_FLOW_RULE:
    "a flow's alert request uses the id of a rule loaded from rule files: a flow cannot raise or clear a rule file's alerts",
} as const;

export type RulesErrorCode = keyof typeof RULES_ERRORS;

export class RulesError extends errorClass('RulesError', RULES_ERRORS) {}

export const isRulesError = isErrorOf(RulesError);
