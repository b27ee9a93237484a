// CEL (Common Expression Language, github.com/google/cel-spec) for rule files, compiled by @bufbuild/cel,
// never run by eval (docs/architecture.md, decision 6): parsed once, its names checked, planned once. An
// expression reads three variables: `fields` (the reading), `meta` (the device's registry metadata) and
// `sun` (altitude_deg, azimuth_deg). The checks here are what a rule file is refused for when it loads
// (schema.ts, rule-file.ts); running an expression on a reading is evaluators/expr.ts's.
//
// Numbers: every number from `fields`, `meta` and `sun` is a CEL double (JSON has one number type), and
// CEL compares int with double (`fields.power_w > 10` works) but does no arithmetic across them
// (`meta.rated_w * 5` fails on every reading). Rule authors write literals in arithmetic with a decimal
// point, `meta.rated_w * 0.05`; the check below refuses the mix when the file loads.
import { celEnv, parse, plan, unparse } from '@bufbuild/cel';
import { fieldSpec, META_SCHEMAS, type Kind } from '../devices/index.ts';

export const EXPR_VARIABLES = ['fields', 'meta', 'sun'] as const;
export type ExprVariable = (typeof EXPR_VARIABLES)[number];
export const SUN_NAMES = ['altitude_deg', 'azimuth_deg'] as const;

// ---- compiling: parse once, check names, plan once ----

type Node = ReturnType<typeof parse>['expr'];
type Call = Extract<Node['exprKind'], { case: 'callExpr' }>['value'];
type Program = ReturnType<typeof plan>;

export interface CompiledExpr {
  /** Why the expression cannot run; empty when it compiled. */
  readonly problems: readonly string[];
  readonly program?: Program;
  /** The names selected on each variable (`fields.power_w` → power_w), for the checks against a kind. */
  readonly names: Readonly<Record<ExprVariable, ReadonlySet<string>>>;
  readonly usesSun: boolean;
}

// One environment: @bufbuild/cel caches its planner per environment object.
const env = celEnv();
// Keyed by source text; rule files are few, but a reload after each edit adds entries, hence the bound.
const compiled = new Map<string, CompiledExpr>();
const MAX_COMPILED = 10_000;

/** The expression compiled, from the cache when it was compiled before. */
export function compileExpr(source: string): CompiledExpr {
  let c = compiled.get(source);
  if (c === undefined) {
    if (compiled.size >= MAX_COMPILED) compiled.clear();
    c = compile(source);
    compiled.set(source, c);
  }
  return c;
}

/** What is wrong with an expression, for the rule file's schema (schema.ts); empty when it can run. */
export const exprProblems = (source: string): readonly string[] => compileExpr(source).problems;

function compile(source: string): CompiledExpr {
  const names = { fields: new Set<string>(), meta: new Set<string>(), sun: new Set<string>() };
  const failed = (problems: string[]): CompiledExpr => ({ problems, names, usesSun: false });
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(source);
  } catch (err) {
    return failed([syntaxMessage(err)]);
  }
  const a: Analysis = { problems: [], names, used: new Set() };
  walk(parsed.expr, a, []);
  for (const name of names.sun)
    if (!(SUN_NAMES as readonly string[]).includes(name))
      a.problems.push(`sun has ${SUN_NAMES.join(' and ')}, not ${name}`);
  if (a.problems.length > 0) return failed(a.problems);
  try {
    return { problems: [], program: plan(env, parsed), names, usesSun: a.used.has('sun') };
  } catch (err) {
    return failed([`not a CEL expression that can run: ${err instanceof Error ? err.message : String(err)}`]);
  }
}

/** `<input>:1:16: found > but …` → `CEL syntax error at column 16: found > but …`. */
function syntaxMessage(err: unknown): string {
  const text = err instanceof Error ? err.message : String(err);
  const m = /^<input>:(\d+):(\d+): ([\s\S]*)$/.exec(text);
  if (m === null) return `CEL syntax error: ${text}`;
  const [, line, column, rest] = m;
  return `CEL syntax error at ${line === '1' ? '' : `line ${line}, `}column ${column}: ${rest}`;
}

// ---- static checks over the parsed tree ----

interface Analysis {
  readonly problems: string[];
  readonly names: Record<ExprVariable, Set<string>>;
  readonly used: Set<ExprVariable>;
}

/** What a subexpression is known to be, for the int/double check; `json` is a value read from `fields`,
 * `meta` or `sun`, whose numbers are doubles (JSON has one number type). */
type Num = 'int' | 'uint' | 'double' | 'json' | undefined;

// Type names are identifiers in CEL (`type(x) == double`).
const TYPE_NAMES = new Set('bool bytes double int list map null_type string type uint'.split(' '));
const CONSTANTS: Readonly<Record<string, Num>> = {
  int64Value: 'int',
  uint64Value: 'uint',
  doubleValue: 'double',
};
// Operators the planner handles itself rather than through the function table.
const SPECIAL = new Set(['_[_]', '_[?_]', '_?._', '_?_:_', '_&&_', '_||_', '@not_strictly_false']);
const MACROS = new Set(['has', 'all', 'exists', 'exists_one', 'map', 'filter']);
const ARITHMETIC = new Set(['_+_', '_-_', '_*_', '_/_', '_%_']);
const RESULTS: Readonly<Record<string, Num>> = { int: 'int', uint: 'uint', double: 'double', size: 'int' };

const isVariable = (name: string): name is ExprVariable =>
  (EXPR_VARIABLES as readonly string[]).includes(name);

/** The variable a node names directly, unless a comprehension's own variable hides it. */
function variableOf(e: Node | undefined, scope: readonly string[]): ExprVariable | undefined {
  if (e?.exprKind.case !== 'identExpr') return undefined;
  const name = e.exprKind.value.name;
  return isVariable(name) && !scope.includes(name) ? name : undefined;
}

/** Visits every node once; `scope` holds the variables of the comprehensions (`all(x, …)`) around it. */
function walk(e: Node | undefined, a: Analysis, scope: readonly string[]): Num {
  if (e === undefined) return undefined;
  const k = e.exprKind;
  switch (k.case) {
    case 'constExpr':
      return CONSTANTS[k.value.constantKind.case ?? ''];
    case 'identExpr':
      return ident(k.value.name, a, scope);
    case 'selectExpr': {
      const v = variableOf(k.value.operand, scope);
      if (v !== undefined) a.names[v].add(k.value.field);
      const operand = walk(k.value.operand, a, scope);
      return operand === 'json' && !k.value.testOnly ? 'json' : undefined;
    }
    case 'callExpr':
      return call(e, k.value, a, scope);
    case 'listExpr':
      for (const x of k.value.elements) walk(x, a, scope);
      return undefined;
    case 'structExpr':
      for (const entry of k.value.entries) {
        if (entry.keyKind.case === 'mapKey') walk(entry.keyKind.value, a, scope);
        walk(entry.value, a, scope);
      }
      return undefined;
    case 'comprehensionExpr': {
      const c = k.value;
      walk(c.iterRange, a, scope);
      walk(c.accuInit, a, scope);
      const inner = [...scope, c.iterVar, c.iterVar2, c.accuVar].filter((v) => v !== '');
      for (const x of [c.loopCondition, c.loopStep, c.result]) walk(x, a, inner);
      return undefined;
    }
    default:
      return undefined;
  }
}

function ident(name: string, a: Analysis, scope: readonly string[]): Num {
  if (scope.includes(name)) return undefined;
  if (isVariable(name)) {
    a.used.add(name);
    return 'json';
  }
  if (!TYPE_NAMES.has(name))
    a.problems.push(`unknown variable ${name}: an expression reads fields, meta and sun`);
  return undefined;
}

function call(e: Node, c: Call, a: Analysis, scope: readonly string[]): Num {
  const target = walk(c.target, a, scope);
  const args = c.args.map((x) => walk(x, a, scope));
  const fn = c.function;
  if (!SPECIAL.has(fn) && env.funcs.find(fn) === undefined)
    a.problems.push(
      MACROS.has(fn)
        ? `${fn}() is a macro taking a field selection or a variable name first: has(fields.power_w), list.all(x, x > 0.0)`
        : `unknown function ${fn}`,
    );
  if (fn === '_[_]') {
    const v = variableOf(c.args[0], scope);
    const key = c.args[1]?.exprKind;
    if (v !== undefined && key?.case === 'constExpr' && key.value.constantKind.case === 'stringValue')
      a.names[v].add(key.value.constantKind.value);
    return args[0] === 'json' ? 'json' : undefined;
  }
  if (fn === '-_') return args[0];
  if (ARITHMETIC.has(fn)) return arithmetic(e, fn, args[0], args[1], a);
  return target === undefined && Object.hasOwn(RESULTS, fn) ? RESULTS[fn] : undefined;
}

/** CEL has no arithmetic across int, uint and double (langdef "Numeric values"), and a field is a double:
 * `meta.rated_w * 5` fails on every reading. Refused here, rather than an alert that can never raise. */
function arithmetic(e: Node, fn: string, x: Num, y: Num, a: Analysis): Num {
  const fractional = (n: Num) => n === 'double' || n === 'json';
  if (fn === '_%_' && (fractional(x) || fractional(y))) {
    a.problems.push(`${unparse(e)}: CEL's % takes integers only, e.g. int(fields.dim_pct) % 10`);
    return undefined;
  }
  if (x === undefined || y === undefined) return undefined;
  if (x === y) return x;
  if (fractional(x) && fractional(y)) return 'double';
  a.problems.push(
    `${unparse(e)}: CEL does no arithmetic across int, uint and double, and numbers from fields, meta ` +
      'and sun are doubles: write 5.0 rather than 5, or convert with double()',
  );
  return undefined;
}

/** Names an expression selects that none of the rule's kinds has (`fields.pm25` on a streetlight rule):
 * for the rule-level checks in rule-file.ts, which know the selected kinds. */
export function exprKindIssues(
  c: { readonly expr: string; readonly clear?: string | undefined },
  kinds: readonly Kind[],
): { path: (string | number)[]; message: string }[] {
  const where = kinds.length === 1 ? kinds[0]! : 'any kind';
  const out: { path: (string | number)[]; message: string }[] = [];
  for (const key of ['expr', 'clear'] as const) {
    const source = c[key];
    if (source === undefined) continue;
    const { names } = compileExpr(source);
    for (const f of names.fields)
      if (!kinds.some((k) => fieldSpec(k, f) !== undefined))
        out.push({ path: ['condition', key], message: `fields.${f} is not a field of ${where}` });
    for (const m of names.meta)
      if (!kinds.some((k) => Object.hasOwn(META_SCHEMAS[k].shape, m)))
        out.push({ path: ['condition', key], message: `meta.${m} is not registry metadata of ${where}` });
  }
  return out;
}
