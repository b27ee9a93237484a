// Where a process spent its CPU: reads a V8 CPU profile (bench/cpu-profile.ts, or `node --cpu-prof`), sums
// self time by stage of the platform's path — native work (a socket write, Buffer.from) is charged to the
// stage whose code called it — and ranks functions by self time. Also runnable on its own:
// `tsx bench/profile.ts <file.cpuprofile> [top]`.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { z } from 'zod';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

const CpuProfile = z.object({
  nodes: z.array(
    z.object({
      id: z.number(),
      children: z.array(z.number()).optional(),
      callFrame: z.object({
        functionName: z.string(),
        url: z.string(),
        lineNumber: z.number(),
        columnNumber: z.number(),
      }),
    }),
  ),
  samples: z.array(z.number()),
  timeDeltas: z.array(z.number()),
});

interface Entry {
  readonly key: string;
  selfMs: number;
}

/** `ingest/spool.ts`, `mqtt-packet/parser.js`, `node:net`: short enough for a table. */
function shortFile(url: string): string {
  if (url === '' || url.startsWith('node:')) return url;
  const file = url.startsWith('file://') ? fileURLToPath(url) : url;
  const nm = file.lastIndexOf('/node_modules/');
  if (nm >= 0) {
    const rest = file.slice(nm + '/node_modules/'.length).split('/');
    const pkg = rest[0]?.startsWith('@') ? `${rest[0]}/${rest[1]}` : (rest[0] ?? '?');
    return `${pkg}/${rest.at(-1) ?? ''}`;
  }
  const rel = path.relative(ROOT, file);
  return rel.startsWith('..') ? file : rel;
}

/** Stages by the code's file; the first match walking up from the sampled frame wins. */
const STAGES: ReadonlyArray<readonly [RegExp, string]> = [
  [/^__name$|^set name$/, 'tsx keepNames (__name on every closure made)'],
  [/\/ingest\/(spool|writer)\.ts$/, 'spool and writer'],
  [/\/undici\/|\/influx\/client\.ts$/, 'HTTP to InfluxDB (fetch)'],
  [/\/influx\/line-protocol\.ts$/, 'line protocol encoding'],
  [/\/ingest\/decode\.ts$|\/zod\/|\/devices\//, 'decode and validate (JSON, zod, topic, registry)'],
  [/\/ingest\/pipeline\.ts$/, 'ingest pipeline'],
  [/\/rules\/(engine|evaluators|aqi)\//, 'rules engine (rule core, evaluators)'],
  [/\/rules\/alerts\/|better-sqlite3/, 'alert lifecycle (alert store in SQLite)'],
  [/prom-client|\/platform\/metrics\.ts$/, 'metrics'],
  [
    /\/(aedes|aedes-[a-z-]+|mqtt-packet|bl|qlobber|mqemitter|fastfall|fastparallel|fastseries|reusify|debug|retimer|hyperid|end-of-stream)\/|\/broker\//,
    'MQTT broker (aedes, mqtt-packet, broker/)',
  ],
  [/\/bench\//, 'benchmark instrumentation'],
];

const VM_FRAMES = new Map([
  ['(garbage collector)', 'garbage collector'],
  ['(idle)', 'idle'],
  ['(program)', 'V8 and native code, unattributed'],
]);

export interface ProfileSummary {
  readonly totalMs: number;
  readonly functions: readonly Entry[];
  readonly stages: readonly Entry[];
}

export async function summarizeProfile(file: string): Promise<ProfileSummary> {
  const profile = CpuProfile.parse(JSON.parse(await readFile(file, 'utf8')));
  const byId = new Map(profile.nodes.map((n) => [n.id, n.callFrame]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const stageCache = new Map<number, string>();
  const stageOf = (id: number): string => {
    let stage = stageCache.get(id);
    if (stage !== undefined) return stage;
    const own = byId.get(id);
    stage = own === undefined ? 'other' : VM_FRAMES.get(own.functionName);
    for (let cur: number | undefined = id; stage === undefined && cur !== undefined; cur = parent.get(cur)) {
      const frame = byId.get(cur);
      if (frame === undefined) break;
      stage = STAGES.find(([re]) => re.test(frame.url) || re.test(frame.functionName))?.[1];
    }
    stage ??= 'Node.js internals and system calls';
    stageCache.set(id, stage);
    return stage;
  };
  const functions = new Map<string, Entry>();
  const stages = new Map<string, Entry>();
  const add = (map: Map<string, Entry>, key: string, ms: number) => {
    const e = map.get(key);
    if (e) e.selfMs += ms;
    else map.set(key, { key, selfMs: ms });
  };
  let totalMs = 0;
  profile.samples.forEach((id, i) => {
    // timeDeltas[i] is the time from the previous sample to this one: charge it to this sample's frame.
    const ms = (profile.timeDeltas[i] ?? 0) / 1000;
    const frame = byId.get(id);
    if (!frame) return;
    totalMs += ms;
    const f = shortFile(frame.url);
    const name = frame.functionName === '' ? '(anonymous)' : frame.functionName;
    // Line and column in the code as loaded: tsx strips whitespace, so for .ts files the line is 1 and the
    // column tells anonymous functions apart.
    add(functions, f === '' ? name : `${name}  ${f}:${frame.lineNumber + 1}:${frame.columnNumber + 1}`, ms);
    add(stages, stageOf(id), ms);
  });
  const sorted = (m: Map<string, Entry>) => [...m.values()].sort((a, b) => b.selfMs - a.selfMs);
  return { totalMs, functions: sorted(functions), stages: sorted(stages) };
}

export function formatProfile(summary: ProfileSummary, top = 25): string {
  const pct = (ms: number) => `${((100 * ms) / summary.totalMs).toFixed(1).padStart(5)} %`;
  const row = (e: Entry) => `  ${pct(e.selfMs)}  ${Math.round(e.selfMs).toString().padStart(7)} ms  ${e.key}`;
  return [
    `CPU profile: ${Math.round(summary.totalMs)} ms sampled`,
    'by stage (native work charged to the stage that called it):',
    ...summary.stages.map(row),
    `top ${top} functions by self time:`,
    ...summary.functions.slice(0, top).map(row),
  ].join('\n');
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const file = process.argv[2];
  if (file === undefined) {
    process.stderr.write('usage: tsx bench/profile.ts <file.cpuprofile> [top]\n');
    process.exit(2);
  }
  summarizeProfile(file).then(
    (s) => process.stdout.write(`${formatProfile(s, Number(process.argv[3] ?? 25))}\n`),
    (err: unknown) => {
      process.stderr.write(`${String(err)}\n`);
      process.exit(1);
    },
  );
}
