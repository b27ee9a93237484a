// The benchmark's table, as plain text for a terminal or as Markdown for BENCHMARKS.md, and the line that
// says what machine produced it.
import { spawnSync } from 'node:child_process';
import os from 'node:os';
import type { ProbeSummary } from './alert-probe.ts';
import type { RuleCoverage } from './ipc.ts';
import type { JsonLatency } from './workload.ts';

export interface Row {
  readonly system: string;
  /** Readings published (raw: points written). */
  readonly sent: number;
  /** Readings the broker acknowledged; undefined without a broker. */
  readonly acked: number | undefined;
  /** Readings whose batch InfluxDB confirmed, as the system saw it. */
  readonly stored: number;
  /** `SELECT count(pm25)` afterwards: what InfluxDB really holds. */
  readonly inDb: number;
  readonly perSecond: number;
  /** Publish-to-stored latency, ms; null where it does not apply. */
  readonly p50: number | null;
  readonly p99: number | null;
  readonly max: number | null;
  /** Peak resident memory of the system's own processes (not InfluxDB's), KiB. */
  readonly peakRssKb: number | undefined;
  readonly notes: string[];
  /** The platform: its process's CPU time per reading stored over the measured window, µs. */
  readonly cpuUsPerReading?: number;
  /** The platform: the rule set in force and which rules watch the bench's devices. */
  readonly rules?: RuleCoverage;
  /** The platform with the alert probe: its transitions and their publish-to-alert latency. */
  readonly alerts?: ProbeSummary;
  /** The platform: its rules engine's own time and the garbage collector's, per reading (µs). */
  readonly timing?: EngineTiming;
}

export interface EngineTiming {
  /** In the engine's ingest listener, per reading it was given, less the alert transitions: the rules'
   * evaluation (the probe's transitions come at its own rate, not the readings'). */
  readonly engineUsPerReading: number;
  /** Garbage collection over the window, per reading stored. */
  readonly gcUsPerReading: number;
  /** One alert transition through the alert service: SQLite, then the spool and MQTT, ms. */
  readonly transitions: JsonLatency;
}

const int = (n: number) => Math.round(n).toLocaleString('en-US');
const ms = (v: number | null) => (v === null ? '–' : v < 10 ? `${v.toFixed(1)} ms` : `${Math.round(v)} ms`);
const mib = (kb: number | undefined) => (kb === undefined ? '–' : `${Math.round(kb / 1024)} MiB`);

/** What InfluxDB holds against what was sent and acknowledged: loss is reported, never hidden. */
export function lossNote(row: Row): string {
  const must = row.acked ?? row.sent;
  if (row.inDb < must) {
    const what = row.acked === undefined ? 'written' : 'acknowledged';
    return `LOST ${int(must - row.inDb)} ${what} readings (InfluxDB holds ${int(row.inDb)})`;
  }
  if (row.inDb < row.sent)
    return `all acknowledged stored; ${int(row.sent - row.inDb)} unacknowledged not stored`;
  return `InfluxDB holds all ${int(row.inDb)}`;
}

const HEADERS = ['system', 'readings sent', 'stored', 'stored/s', 'latency p50', 'p99', 'peak RSS', 'notes'];

function cells(row: Row): string[] {
  return [
    row.system,
    int(row.sent),
    int(row.inDb),
    int(row.perSecond),
    ms(row.p50),
    ms(row.p99),
    mib(row.peakRssKb),
    [lossNote(row), ...row.notes].join('; '),
  ];
}

export function markdownTable(rows: readonly Row[]): string {
  const escape = (s: string) => s.replace(/\|/g, '\\|');
  const lines = [
    `| ${HEADERS.join(' | ')} |`,
    `| ${HEADERS.map((_, i) => (i >= 1 && i <= 6 ? '---:' : '---')).join(' | ')} |`,
  ];
  for (const row of rows) lines.push(`| ${cells(row).map(escape).join(' | ')} |`);
  return lines.join('\n');
}

/** Columns padded to width; the notes, being long, go on the lines below each row. */
export function plainTable(rows: readonly Row[]): string {
  const table = [HEADERS.slice(0, -1), ...rows.map((r) => cells(r).slice(0, -1))];
  const widths = HEADERS.slice(0, -1).map((_, i) => Math.max(...table.map((r) => (r[i] ?? '').length)));
  const render = (r: readonly string[]) =>
    r.map((c, i) => (i === 0 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0))).join('  ');
  const out = [render(HEADERS.slice(0, -1)), widths.map((w) => '-'.repeat(w)).join('  ')];
  for (const [i, row] of rows.entries()) {
    out.push(render(table[i + 1] ?? []));
    for (const note of [lossNote(row), ...row.notes]) out.push(`    ${note}`);
  }
  return out.join('\n');
}

/** The first line a program prints about itself (`mosquitto -h` prints it and exits non-zero). */
function versionOf(command: string, args: string[]): string {
  const { stdout, stderr } = spawnSync(command, args, { encoding: 'utf8', timeout: 5000 });
  const text = `${stdout ?? ''}${stderr ?? ''}`.trim();
  return text.split('\n')[0]?.trim() || `${command}: not found`;
}

export function machineLine(): string {
  const cpus = os.cpus();
  return [
    `${cpus.length} × ${cpus[0]?.model.trim() ?? 'unknown CPU'}`,
    `${Math.round(os.totalmem() / 2 ** 30)} GiB RAM`,
    `${os.type()} ${os.release()}`,
    `Node.js ${process.version}`,
    versionOf('influxd', ['version']),
    versionOf('/usr/sbin/mosquitto', ['-h']),
  ].join(', ');
}
