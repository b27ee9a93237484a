// What the benchmark's processes say to each other. Each system under test and the load generator run in a
// process of their own (so peak memory is that process's own, and no two share an event loop); the parent
// hands each its settings as one JSON argument and they answer over Node's IPC channel. Both directions
// are parsed with these schemas.
import { fork, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.resolve(HERE, '..');

export const Latency = z.object({
  count: z.number(),
  p50: z.number().nullable(),
  p99: z.number().nullable(),
  max: z.number().nullable(),
});

/** The process's own account of itself, from process.resourceUsage(): all its threads. */
export const Usage = z.object({
  maxRssKb: z.number(),
  /** User + system CPU time, ms. */
  cpuMs: z.number(),
  /** The system (kernel) part of it: syscalls, socket and disk I/O. */
  sysMs: z.number(),
});
export type Usage = z.infer<typeof Usage>;

export function ownUsage(): Usage {
  const u = process.resourceUsage();
  return {
    maxRssKb: u.maxRSS,
    cpuMs: (u.userCPUTime + u.systemCPUTime) / 1000,
    sysMs: u.systemCPUTime / 1000,
  };
}

export const Device = z.object({ id: z.string(), district: z.string(), secret: z.string() });
export type Device = z.infer<typeof Device>;

/** MQTT credentials the platform issued (username = id). */
export const Credential = z.object({ id: z.string(), secret: z.string() });

/** What the platform provisioned for the alert probe, and the topics it uses. */
export const ProbeSetup = z.object({
  gauge: Credential,
  reader: Credential,
  telemetryTopic: z.string(),
  /** The reader's subscription: every alert of the probe's gauge. */
  alertFilter: z.string(),
  /** The platform's HTTP API and an engineer's token: the probe gives the gauge's agency its webhook. */
  api: z.object({ port: z.number().int().positive(), token: z.string(), agency: z.string() }),
});
export type ProbeSetup = z.infer<typeof ProbeSetup>;

/** Which rules the platform loaded, and which of them watch a bench station and the probe's gauge. */
export const RuleCoverage = z.object({
  dir: z.string(),
  loaded: z.number(),
  /** Rule ids selecting the device; `evaluated`: those the engine runs for it (rules/evaluators). */
  station: z.object({ selected: z.array(z.string()), evaluated: z.array(z.string()) }),
  gauge: z.object({ selected: z.array(z.string()), evaluated: z.array(z.string()) }).optional(),
});
export type RuleCoverage = z.infer<typeof RuleCoverage>;

/** A system under test (the platform, or the subscriber behind Mosquitto). */
export const SutMessage = z.discriminatedUnion('type', [
  z.object({
    type: z.literal('ready'),
    port: z.number().int().positive(),
    devices: z.array(Device),
    /** The platform only. */
    rules: RuleCoverage.optional(),
    probe: ProbeSetup.optional(),
  }),
  z.object({
    type: z.literal('progress'),
    stored: z.number(),
    backlog: z.number().optional(),
    /** Resident memory now, KiB. */
    rssKb: z.number(),
  }),
  /** Answer to the parent's `memory`: after a full garbage collection when the process allows it. */
  z.object({
    type: z.literal('memory'),
    rssKb: z.number(),
    heapUsedKb: z.number(),
    /** Whether a full collection ran first (the child was started with --expose-gc). */
    collected: z.boolean(),
  }),
  /** Answer to the parent's `mark`: CPU used so far, to subtract start-up (provisioning). */
  z.object({ type: z.literal('mark'), cpuMs: z.number(), sysMs: z.number() }),
  z.object({
    type: z.literal('result'),
    stored: z.number(),
    firstStoredAt: z.number().nullable(),
    lastStoredAt: z.number().nullable(),
    latency: Latency,
    usage: Usage,
    /** Writes InfluxDB refused or that failed (the subscriber drops those readings). */
    failedWrites: z.number().optional(),
    /** Batches InfluxDB confirmed and the time their POSTs took in total. */
    writes: z.object({ count: z.number(), totalMs: z.number() }).optional(),
    /** `--trace`: one line per stage of the platform's path. */
    trace: z.array(z.string()).optional(),
    /** The platform: time in the rules engine and the garbage collector (bench/rules-timing.ts). */
    rules: z
      .object({
        readings: z.number(),
        engineMs: z.number(),
        transitions: Latency,
        transitionsMs: z.number(),
        gcMs: z.number(),
        gcCount: z.number(),
      })
      .optional(),
  }),
]);
export type SutMessage = z.infer<typeof SutMessage>;

export const LoadMessage = z.discriminatedUnion('type', [
  /** The first reading is on its way: connections are up, the measured window begins. */
  z.object({ type: z.literal('started') }),
  z.object({ type: z.literal('progress'), sent: z.number(), acked: z.number() }),
  z.object({
    type: z.literal('result'),
    connected: z.number(),
    refused: z.number(),
    closed: z.number(),
    sent: z.number(),
    acked: z.number(),
    stalls: z.number(),
    durationMs: z.number(),
    firstPublishAt: z.number().nullable(),
    tsBumped: z.number(),
    ackLatency: Latency,
    usage: Usage,
    /** CPU time from the first publish to the end (connecting and start-up left out). */
    cpuMsPublishing: z.number(),
  }),
]);
export type LoadMessage = z.infer<typeof LoadMessage>;

export const RawMessage = z.discriminatedUnion('type', [
  z.object({ type: z.literal('progress'), stored: z.number() }),
  z.object({
    type: z.literal('result'),
    stored: z.number(),
    startedAt: z.number(),
    endedAt: z.number(),
    failedWrites: z.number(),
    writeLatency: Latency,
    usage: Usage,
    cpuMsWriting: z.number(),
  }),
]);
export type RawMessage = z.infer<typeof RawMessage>;

/** What the alert probe found: readings published and acknowledged, alert transitions expected and seen. */
export const ProbeResult = z.object({
  published: z.number(),
  acked: z.number(),
  expected: z.number(),
  received: z.number(),
  missing: z.number(),
  unexpected: z.number(),
  latency: Latency,
  ackLatency: Latency,
  /** The same transitions as the owner agency's webhook receives them (none when the probe gave none). */
  webhook: z
    .object({
      /** `webhook`: a receiver answering 204; `dead`: one that accepts and never answers. */
      mode: z.enum(['webhook', 'dead']),
      expected: z.number(),
      received: z.number(),
      missing: z.number(),
      unexpected: z.number(),
      latency: Latency,
    })
    .optional(),
});

/** The alert probe (bench/run-alert-probe.ts). */
export const ProbeMessage = z.discriminatedUnion('type', [
  /** Connected as the gauge and as the reader, subscribed: ready for `mark`. */
  z.object({ type: z.literal('ready') }),
  ProbeResult.extend({ type: z.literal('result') }),
]);
export type ProbeMessage = z.infer<typeof ProbeMessage>;

/**
 * `mark` opens the measured window; latencies count for readings published from `measureFrom` (epoch ms).
 * `memory` asks for the process's memory now.
 */
export const ParentMessage = z.object({
  type: z.enum(['stop', 'mark', 'memory']),
  measureFrom: z.number().optional(),
});

export interface Child<M> {
  readonly process: ChildProcess;
  /** Every valid message; an invalid one ends the run (a bug in the benchmark, not a result). */
  on(listener: (message: M) => void): void;
  /** The first message `pick` accepts, or a rejection when the child exits or `timeoutMs` passes. */
  next<T>(pick: (message: M) => T | undefined, timeoutMs: number, what: string): Promise<T>;
  stop(): void;
  /**
   * Asks a system under test for its CPU time so far (answered with a `mark` message); latencies count
   * for readings published from `measureFrom` on (the end of the warm-up).
   */
  mark(measureFrom: number): void;
  /** Asks a system under test for its memory (answered with a `memory` message). */
  memory(): void;
  /** Resolves when the process has exited. */
  readonly exited: Promise<number | null>;
}

/** Starts `bench/<file>` under tsx with `settings` as its one argument; its stdout goes to our stderr. */
export function forkChild<M>(
  file: string,
  settings: unknown,
  schema: z.ZodType<M>,
  nodeFlags: readonly string[] = [],
): Child<M> {
  const child = fork(path.join(HERE, file), [JSON.stringify(settings)], {
    cwd: ROOT,
    execArgv: [...nodeFlags, '--import', 'tsx'],
    stdio: ['ignore', 2, 2, 'ipc'],
  });
  // Never leave a child behind: not when the run fails, not on Ctrl-C.
  const kill = () => child.kill('SIGKILL');
  process.once('exit', kill);
  child.once('exit', () => process.off('exit', kill));
  const listeners = new Set<(m: M) => void>();
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  child.on('message', (raw) => {
    const parsed = schema.safeParse(raw);
    if (!parsed.success) {
      child.kill('SIGKILL');
      throw new Error(`bench/${file} sent an unexpected message: ${JSON.stringify(raw)}`);
    }
    for (const l of listeners) l(parsed.data);
  });
  return {
    process: child,
    on: (listener) => void listeners.add(listener),
    next<T>(pick: (message: M) => T | undefined, timeoutMs: number, what: string): Promise<T> {
      return new Promise<T>((resolve, reject) => {
        const fail = (why: string) => {
          cleanUp();
          reject(new Error(`bench/${file}: ${why} before ${what}`));
        };
        const timer = setTimeout(() => fail(`${timeoutMs} ms passed`), timeoutMs);
        const onExit = (code: number | null) => fail(`exited with code ${String(code)}`);
        const listener = (m: M) => {
          const value = pick(m);
          if (value === undefined) return;
          cleanUp();
          resolve(value);
        };
        function cleanUp(): void {
          clearTimeout(timer);
          listeners.delete(listener);
          child.off('exit', onExit);
        }
        listeners.add(listener);
        child.once('exit', onExit);
      });
    },
    stop: () => void (child.connected && child.send({ type: 'stop' })),
    mark: (measureFrom) => void (child.connected && child.send({ type: 'mark', measureFrom })),
    memory: () => void (child.connected && child.send({ type: 'memory' })),
    exited,
  };
}

/** In a child: its settings, parsed. */
export function childSettings<T>(schema: z.ZodType<T>): T {
  return schema.parse(JSON.parse(process.argv[2] ?? 'null'));
}

/** In a child: send a message to the parent (no-op when run by hand without a parent). */
export function tell(message: SutMessage | LoadMessage | RawMessage | ProbeMessage): void {
  if (process.connected) process.send?.(message);
}

function tellMemory(): void {
  const gc = (globalThis as { gc?: () => void }).gc;
  gc?.();
  const { rss, heapUsed } = process.memoryUsage();
  tell({ type: 'memory', rssKb: rss / 1024, heapUsedKb: heapUsed / 1024, collected: gc !== undefined });
}

/** In a child: run `stop` when the parent asks to stop; answer `mark` with the CPU time used so far. */
export function onParent(stop: () => void, mark: (measureFrom: number) => void = () => undefined): void {
  // The parent is gone (it failed, or was interrupted): nobody will ask us to stop.
  process.once('disconnect', () => process.exit(2));
  process.on('message', (raw) => {
    const parsed = ParentMessage.safeParse(raw);
    if (!parsed.success) return;
    if (parsed.data.type === 'stop') return stop();
    if (parsed.data.type === 'memory') return tellMemory();
    const { cpuMs, sysMs } = ownUsage();
    tell({ type: 'mark', cpuMs, sysMs });
    mark(parsed.data.measureFrom ?? -Infinity);
  });
}
