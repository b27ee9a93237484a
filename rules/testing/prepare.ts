// From a parsed test file, the rules it names and the fleet to tests that can run: devices resolved,
// readings checked against their kind's payload schema (a test reading is one ingest would accept) and
// put at absolute times in order, expectations at absolute times. Every problem is found in one pass and
// placed at its line and column. Pure: the caller reads the files (files.ts).
import { PAYLOAD_SCHEMAS, type FieldValue, type Reading } from '../../devices/index.ts';
import type { RuleDevice } from '../engine/rule-device.ts';
import { selects, whyNotApplicable } from '../evaluators/select.ts';
import type { Rule } from '../schema.ts';
import type { Severity } from '../../alerts/index.ts';
import type { RuleTestErrorCode } from './errors.ts';
import { RuleTestFile, type RuleTest } from './schema.ts';
import { parseYaml, type Path, type Positions, type RuleTestProblem, type YamlResult } from './yaml.ts';

/** An expected transition at an absolute time (ms since the epoch). */
export interface Expected {
  readonly at: number;
  readonly rule: string;
  readonly device: string;
  readonly type: 'raise' | 'escalate' | 'clear';
  readonly severity?: Severity | undefined;
  /** Counting from 1, as `{{level}}` in messages. */
  readonly level?: number | undefined;
  readonly value?: number | undefined;
  readonly threshold?: number | undefined;
  readonly message?: string | undefined;
}

export interface PreparedTest {
  readonly file: string;
  readonly name: string;
  /** Where the test starts in its file. */
  readonly line: number;
  readonly start: number;
  readonly until: number;
  readonly tickMs: number;
  /** The rules under test, in file order. */
  readonly rules: readonly Rule[];
  readonly devices: readonly RuleDevice[];
  /** In time order; readings at one time in file order. */
  readonly readings: readonly Reading[];
  readonly expect: readonly Expected[];
}

export type PrepareResult =
  | { readonly ok: true; readonly tests: PreparedTest[] }
  | { readonly ok: false; readonly problems: RuleTestProblem[] };

/** Parses and validates a test file's text: the file, or its problems at their lines and columns. */
export function parseRuleTestFile(text: string, file: string): YamlResult<RuleTestFile> {
  return parseYaml(text, file, RuleTestFile);
}

export function prepareRuleTests(
  file: string,
  parsed: { readonly data: RuleTestFile; readonly positions: Positions },
  rules: readonly Rule[],
  fleet: readonly RuleDevice[],
): PrepareResult {
  const problems: RuleTestProblem[] = [];
  const fleetById = new Map(fleet.map((d) => [d.id, d]));
  const tests = parsed.data.tests.map((t, i) => {
    const ctx: Ctx = { path: ['tests', i], positions: parsed.positions, problems, fleetById };
    return prepareOne(file, t, parsed.data.start, rules, ctx);
  });
  // A wrong single value in a series is wrong at every step: reported once.
  const unique = [...new Map(problems.map((p) => [`${p.line}:${p.column} ${p.message}`, p])).values()];
  if (unique.length > 0)
    return { ok: false, problems: unique.sort((a, b) => a.line - b.line || a.column - b.column) };
  return { ok: true, tests };
}

interface Ctx {
  readonly path: Path;
  readonly positions: Positions;
  readonly problems: RuleTestProblem[];
  readonly fleetById: ReadonlyMap<string, RuleDevice>;
}

function prepareOne(
  file: string,
  t: RuleTest,
  fileStart: number | undefined,
  all: readonly Rule[],
  ctx: Ctx,
): PreparedTest {
  const start = t.start ?? fileStart ?? 0;
  const rules = rulesUnderTest(t, all, ctx);
  const devices = devicesOf(t, rules, ctx);
  const readings = readingsOf(t, start, devices, ctx);
  const until = start + (t.until ?? Math.max(0, ...t.readings.flatMap((r) => r.points.map((p) => p.at))));
  checkTimes(t, start, until, ctx);
  checkExpectations(t, rules, devices, ctx);
  return {
    file,
    name: t.name,
    line: ctx.positions.of(ctx.path).line,
    start,
    until,
    tickMs: t.tick,
    rules,
    devices: [...devices.values()],
    readings,
    expect: t.expect.map((e) => ({ ...e, at: start + e.at })),
  };
}

const report = (ctx: Ctx, path: Path, code: RuleTestErrorCode, message: string): void => {
  ctx.problems.push(ctx.positions.problem([...ctx.path, ...path], code, message));
};

function rulesUnderTest(t: RuleTest, all: readonly Rule[], ctx: Ctx): Rule[] {
  if (t.rules === undefined) return [...all];
  const known = new Set(all.map((r) => r.id));
  t.rules.forEach((id, k) => {
    if (!known.has(id)) report(ctx, ['rules', k], 'RULE_TEST_ERR_RULE', `no rule "${id}" in the rule files`);
  });
  return all.filter((r) => t.rules?.includes(r.id));
}

/** The devices listed, then those that only appear in readings, each selected by some rule under test. */
function devicesOf(t: RuleTest, rules: readonly Rule[], ctx: Ctx): Map<string, RuleDevice> {
  const out = new Map<string, RuleDevice>();
  const add = (ref: RuleDevice | string, path: Path, listed: boolean) => {
    const id = typeof ref === 'string' ? ref : ref.id;
    if (out.has(id)) {
      if (listed) report(ctx, path, 'RULE_TEST_ERR_DEVICE', `device ${id} is listed twice`);
      return;
    }
    const device = typeof ref === 'string' ? ctx.fleetById.get(ref) : ref;
    if (device === undefined)
      return report(ctx, path, 'RULE_TEST_ERR_DEVICE', `no device ${id} in the fleet`);
    if (!rules.some((r) => appliesTo(r, device)))
      return report(ctx, path, 'RULE_TEST_ERR_DEVICE', `no rule under test applies to device ${id}`);
    out.set(id, device);
  };
  t.devices.forEach((ref, k) => add(ref, ['devices', k], true));
  t.readings.forEach((r, j) => add(r.device, ['readings', j, 'device'], false));
  return out;
}

const appliesTo = (rule: Rule, d: RuleDevice): boolean =>
  selects(rule.select, d) && whyNotApplicable(rule, { meta: d.meta }) === undefined;

function readingsOf(
  t: RuleTest,
  start: number,
  devices: ReadonlyMap<string, RuleDevice>,
  ctx: Ctx,
): Reading[] {
  const out: Reading[] = [];
  t.readings.forEach((spec, j) => {
    const device = devices.get(spec.device);
    if (device === undefined) return; // already reported
    for (const p of spec.points) {
      const fieldsPath = ['readings', j, 'fields'];
      const bad = payloadProblems(device, p.fields);
      for (const { field, message } of bad) {
        const at =
          field === undefined
            ? fieldsPath
            : [
                ...fieldsPath,
                field,
                ...(p.index === undefined || !spec.lists.includes(field) ? [] : [p.index]),
              ];
        report(ctx, at, 'RULE_TEST_ERR_READING', message);
      }
      if (bad.length === 0)
        out.push({ kind: device.kind, device: device.id, time: start + p.at, fields: p.fields });
    }
  });
  return out.sort((a, b) => a.time - b.time);
}

/** What the kind's payload schema (devices/schemas.ts) refuses in these fields, per field. */
function payloadProblems(
  device: RuleDevice,
  fields: Readonly<Record<string, FieldValue>>,
): { field?: string; message: string }[] {
  const parsed = PAYLOAD_SCHEMAS[device.kind].safeParse(fields);
  if (parsed.success) return [];
  return parsed.error.issues.flatMap((issue) => {
    if (issue.code === 'unrecognized_keys')
      return issue.keys.map((field) => ({
        field,
        message: `${device.kind} readings have no field ${field}`,
      }));
    const field = issue.path[0];
    const message = `ingest would refuse this ${device.kind} reading: ${issue.message}`;
    return [typeof field === 'string' ? { field, message } : { message }];
  });
}

function checkTimes(t: RuleTest, start: number, until: number, ctx: Ctx): void {
  const end = until - start;
  t.readings.forEach((r, j) => {
    if (r.points.some((p) => p.at > end))
      report(ctx, ['readings', j], 'RULE_TEST_ERR_TIME', 'readings after `until` would never be read');
  });
  t.expect.forEach((e, k) => {
    if (e.at > end)
      report(ctx, ['expect', k, 'at'], 'RULE_TEST_ERR_TIME', 'after `until`: it could never happen');
  });
}

function checkExpectations(
  t: RuleTest,
  rules: readonly Rule[],
  devices: ReadonlyMap<string, RuleDevice>,
  ctx: Ctx,
) {
  const ids = new Set(rules.map((r) => r.id));
  t.expect.forEach((e, k) => {
    if (!ids.has(e.rule))
      report(
        ctx,
        ['expect', k, 'rule'],
        'RULE_TEST_ERR_RULE',
        `rule "${e.rule}" is not among the rules under test`,
      );
    if (!devices.has(e.device))
      report(ctx, ['expect', k, 'device'], 'RULE_TEST_ERR_DEVICE', `device ${e.device} is not in this test`);
  });
}
