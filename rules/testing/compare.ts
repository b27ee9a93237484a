// Expected against observed transitions, and the failure report: a diff of the two lists in the test
// file's own notation, so a line seen but not expected (`+`) can be pasted into `expect` as it stands.
// Lists are aligned on their longest common subsequence, so one extra transition shows as one `+` line
// rather than shifting every line after it.
import type { Severity } from '../../alerts/index.ts';
import type { Expected } from './prepare.ts';

/** A transition the core produced, in the test file's terms (level counted from 1). */
export interface Observed {
  readonly at: number;
  readonly rule: string;
  readonly device: string;
  readonly type: 'raise' | 'escalate' | 'clear';
  readonly severity: Severity;
  readonly level: number;
  readonly value: number;
  readonly threshold: number;
  readonly message: string;
}

/** Numbers are equal within a relative 1e-9: a 24-hour sum of 0.2 mm tips is not exact in binary. */
export function sameNumber(a: number, b: number): boolean {
  return Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(a), Math.abs(b));
}

const OPTIONAL = ['severity', 'level', 'value', 'threshold', 'message'] as const;

/** The fields of `e` that `o` does not match; empty when it matches. */
export function differences(e: Expected, o: Observed): string[] {
  const out: string[] = [];
  if (e.at !== o.at) out.push('at');
  for (const k of ['rule', 'device', 'type'] as const) if (e[k] !== o[k]) out.push(k);
  for (const k of OPTIONAL) {
    const want = e[k];
    if (want === undefined) continue;
    const got = o[k];
    const same = typeof want === 'number' && typeof got === 'number' ? sameNumber(want, got) : want === got;
    if (!same) out.push(k);
  }
  return out;
}

export type DiffLine =
  | { readonly op: ' '; readonly expected: Expected; readonly got: Observed }
  | { readonly op: '-'; readonly expected: Expected }
  | { readonly op: '+'; readonly got: Observed };

/** The two lists aligned: matching pairs kept in order, the rest as missing (-) or unexpected (+). */
export function diff(expected: readonly Expected[], got: readonly Observed[]): DiffLine[] {
  const n = expected.length;
  const m = got.length;
  // lcs[i][j]: the longest common subsequence of expected[i..] and got[j..].
  const lcs = Array.from({ length: n + 1 }, () => new Array<number>(m + 1).fill(0));
  const match = (i: number, j: number) => differences(expected[i]!, got[j]!).length === 0;
  for (let i = n - 1; i >= 0; i--)
    for (let j = m - 1; j >= 0; j--)
      lcs[i]![j] = match(i, j) ? lcs[i + 1]![j + 1]! + 1 : Math.max(lcs[i + 1]![j]!, lcs[i]![j + 1]!);
  const out: DiffLine[] = [];
  let missing: Expected[] = [];
  let unexpected: Observed[] = [];
  const flush = () => {
    out.push(...interleave(missing, unexpected));
    missing = [];
    unexpected = [];
  };
  let i = 0;
  let j = 0;
  while (i < n || j < m) {
    if (i < n && j < m && match(i, j)) {
      flush();
      out.push({ op: ' ', expected: expected[i++]!, got: got[j++]! });
    } else if (i < n && (j === m || lcs[i + 1]![j]! >= lcs[i]![j + 1]!)) missing.push(expected[i++]!);
    else unexpected.push(got[j++]!);
  }
  flush();
  return out;
}

/** Between two matches, each missing transition next to the one seen in its place. */
function interleave(missing: readonly Expected[], unexpected: readonly Observed[]): DiffLine[] {
  const out: DiffLine[] = [];
  for (let k = 0; k < Math.max(missing.length, unexpected.length); k++) {
    const e = missing[k];
    const g = unexpected[k];
    if (e !== undefined) out.push({ op: '-', expected: e });
    if (g !== undefined) out.push({ op: '+', got: g });
  }
  return out;
}

/** `5400000` → `1h30m`, the notation of the test file; `0` for zero. */
export function formatOffset(ms: number): string {
  if (ms === 0) return '0';
  const sign = ms < 0 ? '-' : '';
  let left = Math.abs(ms);
  let text = '';
  for (const [unit, size] of [
    ['d', 86_400_000],
    ['h', 3_600_000],
    ['m', 60_000],
    ['s', 1_000],
  ] as const) {
    const k = Math.floor(left / size);
    left -= k * size;
    if (k > 0) text += `${k}${unit}`;
  }
  return sign + (left > 0 ? `${text}${left}ms` : text);
}

const num = (x: number): string => String(Number(x.toPrecision(12)));

/** One transition as a YAML flow mapping, in the order the file writes it. */
export function formatTransition(t: Expected | Observed, start: number): string {
  const parts = [
    `at: ${formatOffset(t.at - start)}`,
    `rule: ${t.rule}`,
    `device: ${t.device}`,
    `type: ${t.type}`,
  ];
  if (t.severity !== undefined) parts.push(`severity: ${t.severity}`);
  if (t.level !== undefined) parts.push(`level: ${t.level}`);
  if (t.value !== undefined) parts.push(`value: ${num(t.value)}`);
  if (t.threshold !== undefined) parts.push(`threshold: ${num(t.threshold)}`);
  if (t.message !== undefined) parts.push(`message: ${JSON.stringify(t.message)}`);
  return `{ ${parts.join(', ')} }`;
}

/** The failure report: the counts, then the diff, with what differs when a `-` is followed by its `+`. */
export function formatDiff(expected: readonly Expected[], got: readonly Observed[], start: number): string {
  const lines = [
    `expected ${expected.length} transition(s), got ${got.length}; times from ${new Date(start).toISOString()}`,
    '  (- expected, not seen; + seen, not expected)',
  ];
  const d = diff(expected, got);
  d.forEach((line, k) => {
    if (line.op === ' ') lines.push(`    ${formatTransition(line.got, start)}`);
    if (line.op === '-') lines.push(`  - ${formatTransition(line.expected, start)}`);
    if (line.op !== '+') return;
    lines.push(`  + ${formatTransition(line.got, start)}`);
    const before = d[k - 1];
    if (before?.op === '-')
      lines.push(`    (differs in ${differences(before.expected, line.got).join(', ')})`);
  });
  return lines.join('\n');
}
