// YAML validated by a zod schema, every problem at its line and column, and a way to place later problems
// (an unknown device found once the fleet is read) at the node they are about. The same approach as the
// rule file loader (rules/loader.ts): syntax echoes after the first slip are dropped, an unknown key is
// shown at the key, a missing key at the mapping that lacks it, an empty value at its key.
import { LineCounter, parseDocument, type Document } from 'yaml';
import type { z } from 'zod';
import type { RulesErrorCode } from '../errors.ts';
import { keyOffset, MAX_ALIAS_COUNT, offsetOf, syntaxProblems, where, type Path } from '../yaml-positions.ts';
import type { RuleTestErrorCode } from './errors.ts';

export { where, type Path };

export interface RuleTestProblem {
  readonly file: string;
  /** 1-based, as editors count. */
  readonly line: number;
  readonly column: number;
  readonly message: string;
  readonly code: RuleTestErrorCode | RulesErrorCode;
}

export /** Where the nodes of a parsed file are, to place problems found after the schema (an unknown device). */
interface Positions {
  /** The line and column of the node a path reaches, or of the nearest parent that exists. */
  of(path: Path): { line: number; column: number };
  /** A problem there, its message prefixed with the path. */
  problem(path: Path, code: RuleTestErrorCode, message: string): RuleTestProblem;
}

export type YamlResult<T> =
  | { readonly ok: true; readonly data: T; readonly positions: Positions }
  | { readonly ok: false; readonly problems: RuleTestProblem[] };

export function parseYaml<S extends z.ZodType>(
  text: string,
  file: string,
  schema: S,
): YamlResult<z.output<S>> {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  const at = (offset: number, code: RuleTestErrorCode, message: string): RuleTestProblem => {
    const { line, col } = lines.linePos(offset);
    return { file, line, column: col, code, message };
  };
  const syntax = syntaxProblems([...doc.errors, ...doc.warnings], (o, m) => at(o, 'RULE_TEST_ERR_YAML', m));
  if (syntax.length > 0) return { ok: false, problems: syntax };
  let data: unknown;
  try {
    data = doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
  } catch (err) {
    return {
      ok: false,
      problems: [at(0, 'RULE_TEST_ERR_YAML', err instanceof Error ? err.message : String(err))],
    };
  }
  const result = schema.safeParse(data);
  if (!result.success) {
    const problems = result.error.issues.flatMap((issue) => issueProblems(issue, doc, at));
    return { ok: false, problems: problems.sort((a, b) => a.line - b.line || a.column - b.column) };
  }
  const positions: Positions = {
    of(path) {
      const { line, col } = lines.linePos(offsetOf(doc, path));
      return { line, column: col };
    },
    problem: (path, code, message) => at(offsetOf(doc, path), code, `${where(path)}: ${message}`),
  };
  return { ok: true, data: result.data, positions };
}

type At = (offset: number, code: RuleTestErrorCode, message: string) => RuleTestProblem;

function issueProblems(issue: z.core.$ZodIssue, doc: Document, at: At): RuleTestProblem[] {
  // A union (a device id or a device record) whose value had the type of one branch only: that branch's
  // own issues say what is wrong, where the union's would say "Invalid input".
  if (issue.code === 'invalid_union') {
    const typed = issue.errors.filter(
      (b) => !b.every((i) => i.code === 'invalid_type' && i.path.length === 0),
    );
    if (typed.length === 1)
      return (typed[0] ?? []).flatMap((i) =>
        issueProblems({ ...i, path: [...issue.path, ...i.path] }, doc, at),
      );
  }
  if (issue.code === 'unrecognized_keys')
    return issue.keys.map((key) =>
      at(
        keyOffset(doc, issue.path, key),
        'RULE_TEST_ERR_SCHEMA',
        `${where(issue.path, key)}: unknown key "${key}"`,
      ),
    );
  return [at(offsetOf(doc, issue.path), 'RULE_TEST_ERR_SCHEMA', `${where(issue.path)}: ${issue.message}`)];
}
