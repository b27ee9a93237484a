// The rules command line's routing parts: `validate` of a routing file, and `route`, which says who an
// alert would reach and when. Both read the agencies a running platform would know: its registry's (in
// CITY_DATA_DIR, when there is one) and those it seeds at start (CITY_AGENCIES_FILE).
import { access } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import {
  AgencyInput,
  loadAgenciesFile,
  openRegistry,
  type AgencyRecord,
  type DeviceRecord,
} from '../devices/index.ts';
import { Severity } from '../alerts/index.ts';
import { loadRoutingFile, planAlert, type AlertFacts, type RoutingProblem } from '../notify/index.ts';
import { loadConfig } from './config.ts';

/** The registry's file in the data folder, as platform/platform.ts opens it. */
export const REGISTRY_FILE = 'registry.db';

type Print = (line: string) => void;

export class RouteUsageError extends Error {}

export function exists(file: string): Promise<boolean> {
  return access(file).then(
    () => true,
    () => false,
  );
}

/** The agencies, and the devices, a platform started now would know. */
export async function platformRegistryView(): Promise<{ agencies: AgencyRecord[]; devices: DeviceRecord[] }> {
  const config = loadConfig(process.env);
  const agencies = new Map<string, AgencyRecord>();
  if (config.agenciesFile !== undefined) {
    for (const a of await loadAgenciesFile(config.agenciesFile)) {
      agencies.set(a.id, { ...AgencyInput.parse(a), created_at: '', updated_at: '' });
    }
  }
  let devices: DeviceRecord[] = [];
  const file = path.join(config.dataDir, REGISTRY_FILE);
  if (await exists(file)) {
    const registry = await openRegistry({ file });
    try {
      for (const a of registry.listAgencies()) agencies.set(a.id, a);
      devices = registry.listDevices();
    } finally {
      await registry.close();
    }
  }
  return { agencies: [...agencies.values()], devices };
}

const printProblems = (problems: readonly RoutingProblem[], print: Print) => {
  for (const p of problems) print(`${p.file}:${p.line}:${p.column} ${p.code} ${p.message}`);
};

/** A routing file rather than a rule file: it has `routes`, a rule file `rules`. */
export function isRoutingFile(text: string): boolean {
  return /^routes\s*:/m.test(text) && !/^rules\s*:/m.test(text);
}

export async function validateRoutingFile(file: string, print: Print): Promise<boolean> {
  const { agencies } = await platformRegistryView();
  const loaded = await loadRoutingFile(file, new Map(agencies.map((a) => [a.id, a])));
  if (loaded.ok) print(`ok   ${loaded.routing.routes.length} route(s) in ${file}`);
  else printProblems(loaded.problems, print);
  return loaded.ok;
}

const RouteArgs = {
  agency: { type: 'string' },
  severity: { type: 'string' },
  rule: { type: 'string' },
  device: { type: 'string' },
  kind: { type: 'string' },
  district: { type: 'string' },
  tags: { type: 'string' },
  routing: { type: 'string' },
  json: { type: 'boolean', default: false },
} as const;

function durationText(ms: number): string {
  if (ms % 3_600_000 === 0) return `${ms / 3_600_000}h`;
  if (ms % 60_000 === 0) return `${ms / 60_000}m`;
  return `${ms / 1000}s`;
}

/** `route --agency A --severity S [...]`: the routes the alert takes, its receivers and when. */
export async function route(args: readonly string[], print: Print): Promise<number> {
  let values: ReturnType<typeof parseArgs<{ args: string[]; options: typeof RouteArgs }>>['values'];
  try {
    values = parseArgs({ args: [...args], options: RouteArgs, strict: true }).values;
  } catch (err) {
    throw new RouteUsageError(err instanceof Error ? err.message : String(err));
  }
  if (values.agency === undefined) throw new RouteUsageError('route needs --agency (the alert’s owner)');
  const severity = Severity.safeParse(values.severity);
  if (!severity.success) throw new RouteUsageError('route needs --severity info, warning or critical');
  const { agencies, devices } = await platformRegistryView();
  const file = path.resolve(values.routing ?? loadConfig(process.env).routingFile);
  const byId = new Map(agencies.map((a) => [a.id, a]));
  const loaded = await loadRoutingFile(file, byId);
  if (!loaded.ok) {
    printProblems(loaded.problems, print);
    return 1;
  }
  const device = devices.find((d) => d.id === values.device);
  const alert: AlertFacts = {
    agency: values.agency,
    severity: severity.data,
    rule: values.rule ?? 'hand-written',
    device: values.device ?? '',
    kind: values.kind ?? device?.kind ?? '',
    district: values.district ?? device?.district ?? '',
    tags: values.tags?.split(',').filter((t) => t !== '') ?? device?.tags ?? [],
  };
  const plan = planAlert(loaded.routing, byId, alert);
  if (values.json) {
    print(JSON.stringify({ alert, routes: plan }, null, 2));
    return 0;
  }
  if (plan.length === 0) print(`no route of ${file} takes this alert: nobody would be told`);
  for (const p of plan) {
    const group = Object.entries(p.group)
      .map(([k, v]) => `${k}=${v}`)
      .join(' ');
    print(
      `route ${p.route}${p.name === undefined ? '' : ` (${p.name})`}, line ${p.line}; group ${group || '(one group)'}`,
    );
    const receivers = p.receivers.map((r) => `${r.agency}/${r.receiver} (${r.type})`).join(', ') || 'nobody';
    print(`  after ${durationText(p.groupWaitMs)}: ${receivers}`);
    print(
      `  again every ${durationText(p.repeatIntervalMs)} while it stays open, at most every ${durationText(p.groupIntervalMs)} when its group changes`,
    );
    for (const s of p.escalate) {
      const to = s.receivers.map((r) => `${r.agency}/${r.receiver} (${r.type})`).join(', ') || 'nobody';
      print(`  not acknowledged after ${durationText(s.afterMs)}: ${to}`);
    }
    if (p.unresolved.length > 0) print(`  names nothing for this alert: ${p.unresolved.join(', ')}`);
  }
  return 0;
}
