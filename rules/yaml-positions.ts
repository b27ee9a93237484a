// Where in a YAML file a problem is: shared by the rule file loader (loader.ts), the rule test files
// (testing/yaml.ts) and the routing file (notify/routing.ts), so all point at the same line and column for the same kind of slip. Syntax echoes
// after the first slip are dropped; a path is placed at the deepest node it reaches (a missing key at the
// mapping that lacks it, an empty value at its key); an unknown key at the key itself.
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

export type Path = readonly PropertyKey[];

/** Aliases expand on conversion; a small cap refuses a "billion laughs" file (yaml's default is 100). */
export const MAX_ALIAS_COUNT = 100;

/** Beyond this, a broken file's problems are one more line saying how many were left out. */
const MAX_SYNTAX_PROBLEMS = 20;

/**
 * One syntax slip makes the YAML parser see every later token as unexpected: those echoes are dropped
 * once a real problem has been reported, so the list names the slips, not the hundred lines after them.
 * Independent problems (a duplicate key, a bad indent further down) are all kept.
 */
export function syntaxProblems<P>(
  errors: readonly YAMLError[],
  at: (offset: number, message: string) => P,
): P[] {
  const ordered = [...errors].sort((a, b) => a.pos[0] - b.pos[0]);
  const kept = ordered.filter((e, i) => i === 0 || e.code !== 'UNEXPECTED_TOKEN');
  const problems = kept.slice(0, MAX_SYNTAX_PROBLEMS).map((e) => at(e.pos[0], e.message));
  const last = kept[MAX_SYNTAX_PROBLEMS];
  if (last !== undefined)
    problems.push(at(last.pos[0], `${kept.length - MAX_SYNTAX_PROBLEMS} more syntax problems`));
  return problems;
}

/** `rules[2].condition.escalate[0].value`: the path as the file's author reads it. */
export function where(path: Path, key?: string): string {
  const parts = key === undefined ? path : [...path, key];
  if (parts.length === 0) return '(file)';
  return parts
    .map((p, i) => (typeof p === 'number' ? `[${p}]` : `${i === 0 ? '' : '.'}${String(p)}`))
    .join('');
}

/** The offset of the deepest node the path reaches: the value itself, or the nearest parent that exists
 * (a missing key is reported at the mapping that lacks it); an empty value at its key. */
export function offsetOf(doc: Document, path: Path): number {
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

/** The offset of `key` in the mapping at `path` (an unknown key is shown where it is written). */
export function keyOffset(doc: Document, path: Path, key: string): number {
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

/** A problem of a YAML file, at its line and column (1-based, as editors count). */
export interface YamlProblem<C extends string> {
  readonly file: string;
  readonly line: number;
  readonly column: number;
  readonly message: string;
  readonly code: C;
}

/** Where the nodes of a parsed file are, to place problems found after the schema (an unknown device). */
export interface Positions<C extends string> {
  /** The line and column of the node a path reaches, or of the nearest parent that exists. */
  of(path: Path): { line: number; column: number };
  /** A problem there, its message prefixed with the path. */
  problem(path: Path, code: C, message: string): YamlProblem<C>;
  /** A problem there, its message as given. */
  at(path: Path, code: C, message: string): YamlProblem<C>;
}

export type YamlResult<T, C extends string> =
  | { readonly ok: true; readonly data: T; readonly positions: Positions<C> }
  | { readonly ok: false; readonly problems: YamlProblem<C>[] };

/**
 * YAML text validated by a zod schema: the data and where its nodes are, or every problem at its line
 * and column, syntax ones with `codes.yaml`, the schema's with `codes.schema`.
 */
export function parseYamlWith<S extends z.ZodType, C extends string>(
  text: string,
  file: string,
  schema: S,
  codes: { readonly yaml: C; readonly schema: C },
): YamlResult<z.output<S>, C> {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  const at = (offset: number, code: C, message: string): YamlProblem<C> => {
    const { line, col } = lines.linePos(offset);
    return { file, line, column: col, code, message };
  };
  const syntax = syntaxProblems([...doc.errors, ...doc.warnings], (o, m) => at(o, codes.yaml, m));
  if (syntax.length > 0) return { ok: false, problems: syntax };
  let data: unknown;
  try {
    data = doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
  } catch (err) {
    return { ok: false, problems: [at(0, codes.yaml, err instanceof Error ? err.message : String(err))] };
  }
  const result = schema.safeParse(data);
  if (!result.success) {
    const problems = result.error.issues.flatMap((issue) =>
      issueProblems(issue, doc, (o, m) => at(o, codes.schema, m)),
    );
    return { ok: false, problems: sortedProblems(problems) };
  }
  const positions: Positions<C> = {
    of(path) {
      const { line, col } = lines.linePos(offsetOf(doc, path));
      return { line, column: col };
    },
    problem: (path, code, message) => at(offsetOf(doc, path), code, `${where(path)}: ${message}`),
    at: (path, code, message) => at(offsetOf(doc, path), code, message),
  };
  return { ok: true, data: result.data, positions };
}

/** Problems in the order of the file. */
export function sortedProblems<P extends { readonly line: number; readonly column: number }>(
  problems: P[],
): P[] {
  return problems.sort((a, b) => a.line - b.line || a.column - b.column);
}

function issueProblems<P>(
  issue: z.core.$ZodIssue,
  doc: Document,
  at: (offset: number, message: string) => P,
): P[] {
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
  // An unknown key is shown where the key is, one problem per key (a typo such as `fro: 10m`).
  if (issue.code === 'unrecognized_keys')
    return issue.keys.map((key) =>
      at(keyOffset(doc, issue.path, key), `${where(issue.path, key)}: unknown key "${key}"`),
    );
  return [at(offsetOf(doc, issue.path), `${where(issue.path)}: ${issue.message}`)];
}
