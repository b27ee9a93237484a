// Reading rule test files: the test file, the rule files it names (relative to it) and the fleet its
// device ids refer to. The only I/O of rule testing; parsing, preparing and running are pure.
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { DEFAULT_FLEET_FILE, loadFleet } from '../../devices/index.ts';
import type { RuleDevice } from '../engine/rule-device.ts';
import { RULE_TEST_FILE } from '../engine/rule-files.ts';
import { loadRuleFiles } from '../loader.ts';
import { parseRuleTestFile, prepareRuleTests, type PreparedTest } from './prepare.ts';
import type { Positions, RuleTestProblem } from './yaml.ts';

export type LoadedRuleTests =
  | { readonly ok: true; readonly file: string; readonly tests: PreparedTest[] }
  | { readonly ok: false; readonly file: string; readonly problems: RuleTestProblem[] };

/** Every `*.test.yaml` under `dir`, at any depth, sorted (node_modules left out). */
export async function findRuleTestFiles(dir: string): Promise<string[]> {
  const names = await readdir(dir, { recursive: true });
  return names
    .filter((n) => RULE_TEST_FILE.test(n) && !n.split(path.sep).includes('node_modules'))
    .map((n) => path.join(dir, n))
    .sort();
}

/** Reads a test file and what it names, and prepares its tests; every problem is returned, not thrown. */
export async function loadRuleTestFile(file: string): Promise<LoadedRuleTests> {
  const failed = (problems: RuleTestProblem[]): LoadedRuleTests => ({ ok: false, file, problems });
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    return failed([{ file, line: 1, column: 1, code: 'RULE_TEST_ERR_FILE', message: reason(err) }]);
  }
  const parsed = parseRuleTestFile(text, file);
  if (!parsed.ok) return failed(parsed.problems);
  const dir = path.dirname(file);
  const read = await readNamed(parsed.data.rule_files, dir, parsed.positions);
  const fleet = await fleetDevices(parsed.data.fleet, dir, parsed.positions);
  const problems = [...read.problems, ...fleet.problems];
  if (problems.length > 0) return failed(problems);
  const loaded = loadRuleFiles(read.files);
  if (!loaded.ok) return failed(loaded.problems);
  const rules = loaded.rules.map((r) => r.rule);
  const prepared = prepareRuleTests(file, parsed, rules, fleet.devices);
  return prepared.ok ? { ok: true, file, tests: prepared.tests } : failed(prepared.problems);
}

async function readNamed(names: readonly string[], dir: string, positions: Positions) {
  const files: { name: string; text: string }[] = [];
  const problems: RuleTestProblem[] = [];
  for (const [k, name] of names.entries()) {
    const full = path.join(dir, name);
    try {
      files.push({ name: full, text: await readFile(full, 'utf8') });
    } catch (err) {
      problems.push(positions.problem(['rule_files', k], 'RULE_TEST_ERR_FILE', reason(err)));
    }
  }
  return { files, problems };
}

async function fleetDevices(name: string | undefined, dir: string, positions: Positions) {
  try {
    const fleet = await loadFleet(name === undefined ? DEFAULT_FLEET_FILE : path.join(dir, name));
    const devices: RuleDevice[] = fleet.devices.map((d) => ({
      id: d.id,
      kind: d.kind,
      name: d.name,
      district: d.district,
      tags: d.tags,
      meta: d.meta,
      location: d.location,
    }));
    return { devices, problems: [] };
  } catch (err) {
    return { devices: [], problems: [positions.problem(['fleet'], 'RULE_TEST_ERR_FILE', reason(err))] };
  }
}

const reason = (err: unknown): string => (err instanceof Error ? err.message : String(err));
