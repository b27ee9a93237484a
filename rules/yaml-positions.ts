// Where in a YAML file a problem is: shared by the rule file loader (loader.ts) and the rule test files
// (testing/yaml.ts), so both point at the same line and column for the same kind of slip. Syntax echoes
// after the first slip are dropped; a path is placed at the deepest node it reaches (a missing key at the
// mapping that lacks it, an empty value at its key); an unknown key at the key itself.
import { isMap, isNode, isScalar, isSeq, type Document, type YAMLError } from 'yaml';

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
