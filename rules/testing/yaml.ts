// YAML validated by a zod schema, every problem at its line and column, and a way to place later problems
// (an unknown device found once the fleet is read) at the node they are about. The same approach as the
// rule file loader (rules/loader.ts): syntax echoes after the first slip are dropped, an unknown key is
// shown at the key, a missing key at the mapping that lacks it, an empty value at its key.
import {
  isMap,
  isNode,
  isScalar,
  isSeq,
  LineCounter,
  parseDocument,
  type Document,
  type YAMLError,
} from 'yaml';
import type { z } from 'zod';
import type { RulesErrorCode } from '../errors.ts';
import type { RuleTestErrorCode } from './errors.ts';

export interface RuleTestProblem {
  readonly file: string;
  /** 1-based, as editors count. */
  readonly line: number;
  readonly column: number;
  readonly message: string;
  readonly code: RuleTestErrorCode | RulesErrorCode;
}

export type Path = readonly PropertyKey[];

/** Where the nodes of a parsed file are, to place problems found after the schema (an unknown device). */
export interface Positions {
  /** The line and column of the node a path reaches, or of the nearest parent that exists. */
  of(path: Path): { line: number; column: number };
  /** A problem there, its message prefixed with the path. */
  problem(path: Path, code: RuleTestErrorCode, message: string): RuleTestProblem;
}

export type YamlResult<T> =
  | { readonly ok: true; readonly data: T; readonly positions: Positions }
  | { readonly ok: false; readonly problems: RuleTestProblem[] };

/** As in the rule loader: aliases expand on conversion, a small cap refuses a "billion laughs" file. */
const MAX_ALIAS_COUNT = 100;
const MAX_SYNTAX_PROBLEMS = 20;

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
  const syntax = syntaxProblems([...doc.errors, ...doc.warnings], at);
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

function syntaxProblems(errors: readonly YAMLError[], at: At): RuleTestProblem[] {
  const ordered = [...errors].sort((a, b) => a.pos[0] - b.pos[0]);
  const kept = ordered.filter((e, i) => i === 0 || e.code !== 'UNEXPECTED_TOKEN');
  const problems = kept
    .slice(0, MAX_SYNTAX_PROBLEMS)
    .map((e) => at(e.pos[0], 'RULE_TEST_ERR_YAML', e.message));
  const last = kept[MAX_SYNTAX_PROBLEMS];
  if (last !== undefined)
    problems.push(
      at(last.pos[0], 'RULE_TEST_ERR_YAML', `${kept.length - MAX_SYNTAX_PROBLEMS} more syntax problems`),
    );
  return problems;
}

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

/** `tests[2].readings[0].fields.water_level_m[3]`: the path as the test author reads it. */
export function where(path: Path, key?: string): string {
  const parts = key === undefined ? path : [...path, key];
  if (parts.length === 0) return '(file)';
  return parts
    .map((p, i) => (typeof p === 'number' ? `[${p}]` : `${i === 0 ? '' : '.'}${String(p)}`))
    .join('');
}

function offsetOf(doc: Document, path: Path): number {
  let node: unknown = doc.contents;
  let offset = startOf(node) ?? 0;
  for (const step of path) {
    if (isMap(node)) {
      const pair = node.items.find((p) => keyText(p.key) === String(step));
      if (pair === undefined) break;
      const keyStart = startOf(pair.key);
      node = pair.value;
      const valueStart = isScalar(node) && node.value === null ? undefined : startOf(node);
      offset = valueStart ?? keyStart ?? offset;
    } else if (isSeq(node) && typeof step === 'number') {
      node = node.items[step];
      offset = startOf(node) ?? offset;
    } else break;
  }
  return offset;
}

function keyOffset(doc: Document, path: Path, key: string): number {
  const parent = doc.getIn(path, true);
  if (isMap(parent)) {
    const pair = parent.items.find((p) => keyText(p.key) === key);
    const start = pair === undefined ? undefined : startOf(pair.key);
    if (start !== undefined) return start;
  }
  return offsetOf(doc, path);
}

function keyText(key: unknown): string | undefined {
  return isScalar(key) ? String(key.value) : undefined;
}

function startOf(node: unknown): number | undefined {
  return isNode(node) ? node.range?.[0] : undefined;
}
