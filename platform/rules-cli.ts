// `npm run rules -- <command>` (the rules component's command line, beside the platform's as it reads the
// platform's configuration): check rule files, run rule tests, backtest a rule file over stored history.
// Exit codes: 0 all good, 1 problems or failed tests, 2 a command line that cannot be read.
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { z } from 'zod';
import { EXIT_USAGE } from '../cli/index.ts';
import { DEFAULT_FLEET_FILE, loadFleet, openRegistry } from '../devices/index.ts';
import { createInfluxClient, isInfluxError } from '../influx/index.ts';
import {
  backtestRules,
  findRuleTestFiles,
  formatResults,
  loadRuleFiles,
  loadRuleTestFile,
  parseDuration,
  parseRuleFile,
  RULE_TEST_FILE,
  runRuleTest,
  type BacktestReport,
  type RuleDevice,
} from '../rules/index.ts';
import { loadConfig } from './config.ts';
import {
  exists,
  isRoutingFile,
  platformRegistryView,
  REGISTRY_FILE,
  route,
  RouteUsageError,
  validateRoutingFile,
} from './routing-cli.ts';
import { errorText } from '../errors/index.ts';

const RULES_DIR = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'rules');

const USAGE = `usage: npm run rules -- <command>
  validate <file...>     check rule files (ids unique across them, owners among the agencies: the registry in
                         CITY_DATA_DIR and CITY_AGENCIES_FILE), routing files (receivers among the same
                         agencies' receivers) and rule test files (*.test.yaml)
  route --agency A --severity S [--rule R] [--device D] [--kind K] [--district X] [--tags a,b] [--routing FILE] [--json]
                         who an alert would reach and when, by the routing file (CITY_ROUTING_FILE)
  test [file|folder...]  run rule tests; default: every *.test.yaml under ${path.relative(process.cwd(), RULES_DIR) || '.'}
  backtest <file> --from <time> --to <time> [--influx-url URL] [--db NAME] [--fleet | --fleet-file FILE] [--json]
                         the alerts a rule file would have raised; a time is RFC 3339 with an offset, now or
                         now-<duration> (now-7d). InfluxDB: INFLUX_URL, INFLUX_DB, INFLUX_TOKEN (or the flags);
                         devices: the registry in CITY_DATA_DIR, or the Huế fleet file with --fleet
  --help                 this text`;

class UsageError extends Error {}

type Print = (line: string) => void;

export async function main(args: readonly string[], print: Print = console.log): Promise<number> {
  const [command, ...rest] = args;
  if (command === 'help' || args.includes('--help') || args.includes('-h')) {
    print(USAGE);
    return 0;
  }
  try {
    if (command === 'validate') return await validate(rest, print);
    if (command === 'test') return await test(rest, print);
    if (command === 'backtest') return await backtest(rest, print);
    if (command === 'route') return await route(rest, print);
    throw new UsageError(command === undefined ? 'no command' : `unknown command ${command}`);
  } catch (err) {
    if (err instanceof UsageError || err instanceof RouteUsageError) {
      print(`${err.message}\n${USAGE}`);
      return EXIT_USAGE;
    }
    print(`error: ${errorText(err)}`);
    return 1;
  }
}

// ---- validate ----

async function validate(files: readonly string[], print: Print): Promise<number> {
  if (files.length === 0) throw new UsageError('validate needs at least one file');
  const tests = files.filter((f) => RULE_TEST_FILE.test(f));
  const read = await Promise.all(
    files.filter((f) => !RULE_TEST_FILE.test(f)).map(async (name) => ({ name, text: await readText(name) })),
  );
  const ruleFiles = read.filter((f) => !isRoutingFile(f.text));
  let failed = false;
  for (const { name } of read.filter((f) => isRoutingFile(f.text)))
    failed = !(await validateRoutingFile(name, print)) || failed;
  if (ruleFiles.length > 0) {
    const loaded = loadRuleFiles(ruleFiles, { agencies: await knownAgencies() });
    if (loaded.ok) print(`ok   ${loaded.rules.length} rule(s) in ${ruleFiles.map((f) => f.name).join(', ')}`);
    else for (const p of loaded.problems) print(`${p.file}:${p.line}:${p.column} ${p.code} ${p.message}`);
    failed ||= !loaded.ok;
  }
  for (const file of tests) {
    const loaded = await loadRuleTestFile(file);
    if (loaded.ok) print(`ok   ${loaded.tests.length} test(s) in ${file}`);
    else for (const p of loaded.problems) print(`${p.file}:${p.line}:${p.column} ${p.code} ${p.message}`);
    failed ||= !loaded.ok;
  }
  return failed ? 1 : 0;
}

/** The ids a rule's owner may name: the agencies a platform started now would know. */
async function knownAgencies(): Promise<ReadonlySet<string>> {
  return new Set((await platformRegistryView()).agencies.map((a) => a.id));
}

async function readText(file: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (err) {
    throw new Error(`cannot read ${file}: ${errorText(err)}`, {
      cause: err,
    });
  }
}

// ---- test ----

async function test(args: readonly string[], print: Print): Promise<number> {
  const files = await testFiles(args.length === 0 ? [path.relative(process.cwd(), RULES_DIR) || '.'] : args);
  if (files.length === 0) throw new Error(`no *.test.yaml in ${args.join(', ') || RULES_DIR}`);
  let passed = 0;
  let failed = 0;
  let broken = 0;
  for (const file of files) {
    const loaded = await loadRuleTestFile(file);
    if (!loaded.ok) {
      broken++;
      for (const p of loaded.problems) print(`${p.file}:${p.line}:${p.column} ${p.code} ${p.message}`);
      continue;
    }
    const results = loaded.tests.map(runRuleTest);
    print(formatResults(results));
    const ok = results.filter((r) => r.status === 'passed').length;
    passed += ok;
    failed += results.length - ok;
  }
  const notLoaded = broken > 0 ? `, ${broken} not loaded` : '';
  print(`\n${passed} passed, ${failed} failed (${files.length} file(s)${notLoaded})`);
  return failed > 0 || broken > 0 ? 1 : 0;
}

async function testFiles(args: readonly string[]): Promise<string[]> {
  const out: string[] = [];
  for (const a of args) {
    const isDir = await stat(a).then(
      (s) => s.isDirectory(),
      () => false,
    );
    out.push(...(isDir ? await findRuleTestFiles(a) : [a]));
  }
  return out;
}

// ---- backtest ----

const BacktestArgs = {
  from: { type: 'string' },
  to: { type: 'string' },
  'influx-url': { type: 'string' },
  db: { type: 'string' },
  fleet: { type: 'boolean' },
  'fleet-file': { type: 'string' },
  json: { type: 'boolean' },
} as const;

async function backtest(args: readonly string[], print: Print): Promise<number> {
  const { values, positionals } = parseOrUsage(args);
  const [file, ...extra] = positionals;
  if (file === undefined || extra.length > 0) throw new UsageError('backtest takes one rule file');
  if (values.from === undefined || values.to === undefined)
    throw new UsageError('backtest needs --from and --to');
  const now = Date.now();
  const [from, to] = [parseTime(values.from, now, '--from'), parseTime(values.to, now, '--to')];
  if (from >= to) throw new UsageError('--from must be before --to');
  const source = await readText(file);
  const parsed = parseRuleFile(source, file);
  if (!parsed.ok) {
    for (const p of parsed.problems) print(`${p.file}:${p.line}:${p.column} ${p.code} ${p.message}`);
    return 1;
  }
  // The platform's own configuration, parsed as it parses it.
  const config = loadConfig(process.env);
  const devices = await backtestDevices(values, config.dataDir);
  const url = values['influx-url'] ?? config.influx.url ?? `http://127.0.0.1:${config.influx.localPort}`;
  const influx = createInfluxClient({ ...config.influx, url, db: values.db ?? config.influx.db });
  try {
    const report = await backtestRules(
      { source, name: file, from, to },
      { influx, retentionPolicy: config.influx.retentionPolicy, devices: () => devices },
    ).catch((err: unknown) => {
      if (!isInfluxError(err)) throw err;
      const hint = `is InfluxDB running at ${url}? Set INFLUX_URL or --influx-url, INFLUX_DB or --db`;
      throw new Error(`${err.message}\n(${hint})`, { cause: err });
    });
    print(values.json === true ? JSON.stringify(report, null, 2) : formatReport(report, file));
    return 0;
  } finally {
    await influx.close();
  }
}

function parseOrUsage(args: readonly string[]) {
  try {
    return parseArgs({ args: [...args], options: BacktestArgs, allowPositionals: true, strict: true });
  } catch (err) {
    throw new UsageError(err instanceof Error ? err.message : String(err));
  }
}

const Rfc3339 = z.iso.datetime({ offset: true });

/** RFC 3339 with an offset, `now`, or `now-<duration>` such as now-7d or now-1h30m. */
export function parseTime(text: string, now: number, flag: string): number {
  if (text === 'now') return now;
  const back = /^now-(.+)$/.exec(text)?.[1];
  const ms = back === undefined ? undefined : parseDuration(back);
  if (ms !== undefined) return now - ms;
  if (Rfc3339.safeParse(text).success) return Date.parse(text);
  throw new UsageError(`${flag} ${text}: a time such as 2025-10-27T00:00:00+07:00, now or now-7d`);
}

async function backtestDevices(
  values: { fleet?: boolean | undefined; 'fleet-file'?: string | undefined },
  dataDir: string,
): Promise<RuleDevice[]> {
  if (values.fleet === true || values['fleet-file'] !== undefined)
    return (await loadFleet(values['fleet-file'] ?? DEFAULT_FLEET_FILE)).devices;
  const file = path.join(dataDir, REGISTRY_FILE);
  // openRegistry creates a missing file: a mistyped data folder must not become an empty registry.
  if (!(await exists(file)))
    throw new Error(
      `no device registry at ${file}: set CITY_DATA_DIR to the platform's data folder, or pass --fleet`,
    );
  const registry = await openRegistry({ file });
  try {
    return registry.listDevices();
  } finally {
    await registry.close();
  }
}

function formatReport(r: BacktestReport, file: string): string {
  const lines = [`${file} from ${r.from} to ${r.to}: ${r.readings} reading(s) of ${r.devices} device(s)`, ''];
  lines.push(
    ...table([
      ['rule', 'devices', 'raised', 'escalated', 'cleared', 'open at end'],
      ...r.rules.map((s) => [s.rule, s.devices, s.raised, s.escalated, s.cleared, s.openAtEnd].map(String)),
    ]),
    '',
  );
  if (r.transitions.length === 0) lines.push('no transitions');
  else
    lines.push(
      ...table([
        ['time', 'rule', 'device', 'type', 'severity', 'level', 'value', 'message'],
        ...r.transitions.map((t) => [
          t.at,
          t.rule,
          t.device,
          t.type,
          t.severity,
          String(t.level),
          t.value === null ? '' : String(Number(t.value.toPrecision(12))),
          t.message,
        ]),
      ]),
    );
  if (r.truncated)
    lines.push(`… more transitions than the ${r.transitions.length} listed (the summary counts all)`);
  return lines.join('\n');
}

function table(rows: readonly (readonly string[])[]): string[] {
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((row) => (row[i] ?? '').length))) ?? [];
  return rows.map((row) =>
    row
      .map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i] ?? 0)))
      .join('  ')
      .trimEnd(),
  );
}

if (process.argv[1] !== undefined && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main(process.argv.slice(2)).then(
    (code) => (process.exitCode = code),
    (err: unknown) => {
      console.error(err);
      process.exitCode = 1;
    },
  );
}
