// Rule files from YAML text: every problem with its file, line and column, or the rules. The loader does
// no I/O (the caller reads the files), so the API's validate route, the command line and the live reload
// share it. A file with any problem is refused as a whole: half a rule file is never put in force.
import { LineCounter, parseDocument, type Document } from 'yaml';
import type { z } from 'zod';
import type { RulesErrorCode } from './errors.ts';
import type { Rule } from './schema.ts';
import { RuleFile } from './rule-file.ts';
import { keyOffset, MAX_ALIAS_COUNT, offsetOf, syntaxProblems, where } from './yaml-positions.ts';

export interface RuleProblem {
  readonly file: string;
  /** 1-based, as editors count. */
  readonly line: number;
  readonly column: number;
  readonly message: string;
  readonly code: RulesErrorCode;
}

export type ParseResult =
  { readonly ok: true; readonly rules: Rule[] } | { readonly ok: false; readonly problems: RuleProblem[] };

/** A rule with where it came from, for messages and for the backtest's report. */
export interface LoadedRule {
  readonly file: string;
  readonly line: number;
  readonly rule: Rule;
}

export type LoadResult =
  | { readonly ok: true; readonly rules: LoadedRule[] }
  | { readonly ok: false; readonly problems: RuleProblem[] };

/** What the rules are checked against besides their schema. */
export interface RuleContext {
  /** The agencies a rule's `owner` may name (the registry's); unchecked when left out. */
  readonly agencies?: ReadonlySet<string>;
}

interface Parsed {
  readonly problems: RuleProblem[];
  readonly rules: LoadedRule[];
}

/** Parses and validates one rule file. */
export function parseRuleFile(text: string, fileName: string, context: RuleContext = {}): ParseResult {
  const { problems, rules } = parseWithPositions(text, fileName, context);
  return problems.length > 0 ? { ok: false, problems } : { ok: true, rules: rules.map((r) => r.rule) };
}

/**
 * Checks a rule file as it would load next to the rules in force: its own problems, and an id that a rule
 * of another file in force already has (the reload would refuse the folder for it). A rule in force from
 * a file of the same name is the one this file replaces, not a clash.
 */
export function validateRuleFileAmong(
  text: string,
  fileName: string,
  inForce: readonly LoadedRule[],
  context: RuleContext = {},
): ParseResult {
  const parsed = parseWithPositions(text, fileName, context);
  if (parsed.problems.length > 0) return { ok: false, problems: parsed.problems };
  const others = new Map(inForce.filter((r) => r.file !== fileName).map((r) => [r.rule.id, r]));
  const problems: RuleProblem[] = [];
  for (const r of parsed.rules) {
    const first = others.get(r.rule.id);
    if (first === undefined) continue;
    problems.push(idClash(r, first));
  }
  return problems.length > 0 ? { ok: false, problems } : { ok: true, rules: parsed.rules.map((r) => r.rule) };
}

/**
 * Parses several files as one rule set: ids must be unique across them. Any problem in any file makes
 * the whole set fail, with every problem of every file listed; a live reload that wants to keep the good
 * files applies `parseRuleFile` per file and this check across the survivors.
 */
export function loadRuleFiles(
  files: readonly { name: string; text: string }[],
  context: RuleContext = {},
): LoadResult {
  const problems: RuleProblem[] = [];
  const rules: LoadedRule[] = [];
  const seen = new Map<string, LoadedRule>();
  for (const { name, text } of files) {
    const parsed = parseWithPositions(text, name, context);
    problems.push(...parsed.problems);
    for (const r of parsed.rules) {
      const first = seen.get(r.rule.id);
      if (first === undefined) {
        seen.set(r.rule.id, r);
        rules.push(r);
      } else {
        problems.push(idClash(r, first));
      }
    }
  }
  return problems.length > 0 ? { ok: false, problems } : { ok: true, rules };
}

/** `r` has the id of `first`, a rule of another file (or earlier in the set). */
function idClash(r: LoadedRule, first: LoadedRule): RuleProblem {
  return {
    file: r.file,
    line: r.line,
    column: 1,
    code: 'RULES_ERR_DUPLICATE_ID',
    message: `rule id "${r.rule.id}" is already defined in ${first.file} at line ${first.line}`,
  };
}

function parseWithPositions(text: string, file: string, context: RuleContext): Parsed {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  const at = (offset: number, code: RulesErrorCode, message: string): RuleProblem => {
    const { line, col } = lines.linePos(offset);
    return { file, line, column: col, code, message };
  };
  const yamlProblems = syntaxProblems([...doc.errors, ...doc.warnings], (o, m) => at(o, 'RULES_ERR_YAML', m));
  if (yamlProblems.length > 0) return { problems: yamlProblems, rules: [] };

  let data: unknown;
  try {
    data = doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
  } catch (err) {
    return {
      problems: [at(0, 'RULES_ERR_YAML', err instanceof Error ? err.message : String(err))],
      rules: [],
    };
  }

  const problems: RuleProblem[] = duplicateIds(data).map(({ index, first, id }) => {
    const firstLine = lines.linePos(offsetOf(doc, ['rules', first, 'id'])).line;
    const message = `duplicate rule id "${id}" (first at line ${firstLine})`;
    return at(offsetOf(doc, ['rules', index, 'id']), 'RULES_ERR_DUPLICATE_ID', message);
  });
  const result = RuleFile.safeParse(data);
  if (!result.success) problems.push(...issueProblems(result.error.issues, doc, at));
  else problems.push(...unknownAgencies(result.data.rules, context, doc, at));
  if (problems.length > 0 || !result.success) return { problems: sorted(problems), rules: [] };
  const rules = result.data.rules.map((rule, i) => ({
    file,
    line: lines.linePos(offsetOf(doc, ['rules', i])).line,
    rule,
  }));
  return { problems: [], rules };
}

type At = (offset: number, code: RulesErrorCode, message: string) => RuleProblem;

function issueProblems(issues: readonly z.core.$ZodIssue[], doc: Document, at: At): RuleProblem[] {
  return issues.flatMap((issue) => {
    // An unknown key is shown where the key is, one problem per key (a typo such as `fro: 10m`).
    if (issue.code === 'unrecognized_keys')
      return issue.keys.map((key) =>
        at(
          keyOffset(doc, issue.path, key),
          'RULES_ERR_SCHEMA',
          `${where(issue.path, key)}: unknown key "${key}"`,
        ),
      );
    return [at(offsetOf(doc, issue.path), 'RULES_ERR_SCHEMA', `${where(issue.path)}: ${issue.message}`)];
  });
}

/** Rules whose owner is not an agency of the registry. */
function unknownAgencies(rules: readonly Rule[], context: RuleContext, doc: Document, at: At): RuleProblem[] {
  const { agencies } = context;
  if (agencies === undefined) return [];
  const known = [...agencies].sort().join(', ') || 'none yet';
  return rules.flatMap((rule, i) =>
    agencies.has(rule.owner)
      ? []
      : [
          at(
            offsetOf(doc, ['rules', i, 'owner']),
            'RULES_ERR_UNKNOWN_AGENCY',
            `owner "${rule.owner}" is not an agency of the registry (known: ${known}); create it (POST /api/agencies, or in CITY_AGENCIES_FILE) or name one of these`,
          ),
        ],
  );
}

/** Rules whose id an earlier rule of the same file already has, read from the raw data so the check
 * runs even when other parts of the file do not validate. */
function duplicateIds(data: unknown): { index: number; first: number; id: string }[] {
  if (typeof data !== 'object' || data === null || !('rules' in data) || !Array.isArray(data.rules))
    return [];
  const firstIndex = new Map<string, number>();
  const out: { index: number; first: number; id: string }[] = [];
  data.rules.forEach((rule: unknown, index: number) => {
    if (typeof rule !== 'object' || rule === null || !('id' in rule) || typeof rule.id !== 'string') return;
    const first = firstIndex.get(rule.id);
    if (first === undefined) firstIndex.set(rule.id, index);
    else out.push({ index, first, id: rule.id });
  });
  return out;
}

function sorted(problems: RuleProblem[]): RuleProblem[] {
  return problems.sort((a, b) => a.line - b.line || a.column - b.column);
}
