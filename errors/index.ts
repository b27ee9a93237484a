// One way to define a component's errors. A component keeps its codes in one table, code → what it
// means (`ALERTS_ERRORS`, `INFLUX_ERRORS`…): stable names that logs, metrics, dead letters and API
// answers carry, documented where they are defined. Its one error class is made by errorClass from that
// table (or extends CodedError where it carries more, as InfluxError's HTTP status), and its guard is
// `isErrorOf(TheClass)`. The message says what happened this time; it
// is the table's description when the thrower has nothing to add. The cause is kept.
//
// test/error-tables.test.ts holds every table against the code both ways: each code raised anywhere is
// in a table, and each code in a table is raised somewhere.

/** A component's codes and what each means. */
export type ErrorTable = Readonly<Record<string, string>>;

export class CodedError<C extends string = string> extends Error {
  readonly code: C;

  constructor(code: C, message: string, options?: { readonly cause?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
  }
}

/** The guard of an error class: `isX(err)`, or `isX(err, code)` for one code. */
export function isErrorOf<C extends string, E extends CodedError<C>>(
  type: abstract new (...args: never[]) => E,
): (err: unknown, code?: C) => err is E {
  return (err: unknown, code?: C): err is E =>
    err instanceof type && (code === undefined || err.code === code);
}

/**
 * The error class of a component whose table says it all: `class AlertsError extends
 * errorClass('AlertsError', ALERTS_ERRORS) {}`. Its message is the thrower's detail, or the table's
 * description of the code when there is none.
 */
export function errorClass<const T extends ErrorTable>(name: string, table: T) {
  type Code = keyof T & string;
  return class extends CodedError<Code> {
    override readonly name: string = name;

    constructor(code: Code, detail?: string, options?: { readonly cause?: unknown }) {
      super(code, detail ?? table[code]!, options);
    }
  };
}

/** An error as a line for a person: `CODE: message` for one of the platform's coded errors, or for a
 * failed system call (node's ENOSPC, EIO…) whose message does not name its code already. */
export function errorText(err: unknown): string {
  if (err instanceof CodedError) return `${err.code}: ${err.message}`;
  if (!(err instanceof Error)) return String(err);
  const { code, syscall } = err as NodeJS.ErrnoException;
  const named = code === undefined || syscall === undefined || err.message.startsWith(code);
  return named ? err.message : `${code}: ${err.message}`;
}

/** A service's URL for a message: its password, when it has one, hidden (`redis://:***@host:6379`). */
export function redactedUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password !== '') u.password = '***';
    return u.toString();
  } catch {
    return '(an unreadable URL)';
  }
}

export { createLogBudget, type LogBudget } from './log-budget.ts';
