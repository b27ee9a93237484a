// The platform's own health and a status snapshot of every device, written into InfluxDB on timers, for
// Grafana, whose one data source is InfluxDB: a `platform` point (and `rejections` points) every
// CITY_HEALTH_INTERVAL_MS, a `device_status` point per registered device every CITY_STATUS_INTERVAL_MS.
//
// The lines go through the spool like readings and alert events (alerts/sinks.ts), so an InfluxDB
// outage loses none of them. Counts come from the Prometheus counters (platform/metrics.ts), read once per
// interval and subtracted from the previous reading: the per-reading path does nothing more for this.
// Building the lines is pure (a snapshot in, lines out); the reporter only gathers snapshots.
import type { Logger } from 'pino';
import type { DeviceRecord } from '../devices/index.ts';
import type { Spool } from '../ingest/index.ts';
import { encodeLine, encodeTags } from '../influx/index.ts';
import { DEVICE_STATUSES, type FieldValueOf, HEALTH_MEASUREMENTS } from '../measurements/index.ts';
import { absenceRuleIds, type Rule } from '../rules/index.ts';
import type { EventLoopLag, MetricTotals, PlatformMetrics, WriteTimes } from './metrics.ts';
import { deviceAlertStates, type Alert } from '../alerts/index.ts';
import { sunAltitudeDeg } from '../devices/index.ts';

type Measurements = typeof HEALTH_MEASUREMENTS;
type FieldValues<M extends keyof Measurements> = {
  readonly [F in keyof Measurements[M]['fields']]: FieldValueOf<Measurements[M]['fields'][F]> | undefined;
};
type TagValues<M extends keyof Measurements> = Readonly<Record<Measurements[M]['tags'][number], string>>;

/** One line of measurement `m`: names come from HEALTH_MEASUREMENTS, the types make every field named. */
function line<M extends keyof Measurements>(
  m: M,
  tags: TagValues<M>,
  fields: FieldValues<M>,
  at: number,
): string {
  const present: Record<string, number | string> = {};
  for (const [key, value] of Object.entries(fields as Record<string, number | string | undefined>)) {
    if (value !== undefined) present[key] = value;
  }
  return `${encodeLine(HEALTH_MEASUREMENTS[m].name, encodeTags(tags), present, at)}\n`;
}

export interface Rejections {
  readonly kind: string;
  readonly reason: string;
  readonly count: number;
}

/** What happened during one interval, and the gauges at its end. */
export interface PlatformSnapshot {
  /** End of the interval, ms since the epoch: the time of the points. */
  readonly at: number;
  readonly host: string;
  /** Length of the interval, ms (the first runs from the platform's start). */
  readonly intervalMs: number;
  readonly readings: number;
  readonly stored: number;
  readonly writeFailures: number;
  readonly rejections: readonly Rejections[];
  readonly spool: { readonly pendingLines: number; readonly pendingBytes: number };
  readonly clients: number;
  readonly writes: WriteTimes;
  readonly openAlerts: number;
  readonly eventLoop: EventLoopLag;
}

/** The counts of an interval: the totals at its end less those at its start. */
export function intervalCounts(
  before: MetricTotals,
  after: MetricTotals,
): Pick<PlatformSnapshot, 'readings' | 'stored' | 'writeFailures' | 'rejections'> {
  const key = (r: Rejections) => `${r.kind}\u0000${r.reason}`;
  const earlier = new Map(before.rejected.map((r) => [key(r), r.count]));
  return {
    readings: after.readings - before.readings,
    stored: after.stored - before.stored,
    writeFailures: after.writeFailures - before.writeFailures,
    rejections: after.rejected
      .map((r) => ({ ...r, count: r.count - (earlier.get(key(r)) ?? 0) }))
      .filter((r) => r.count > 0),
  };
}

/** The `platform` line, then one `rejections` line per (kind, reason) refused during the interval. */
export function platformLines(s: PlatformSnapshot): string[] {
  const rejections = s.rejections.filter((r) => r.count > 0);
  const confirmed = s.writes.batches > 0;
  const health = line(
    'platform',
    { host: s.host },
    {
      readings: s.readings,
      readings_per_s: s.intervalMs > 0 ? s.readings / (s.intervalMs / 1000) : 0,
      stored: s.stored,
      rejected: rejections.reduce((n, r) => n + r.count, 0),
      write_failures: s.writeFailures,
      spool_lines: s.spool.pendingLines,
      spool_bytes: s.spool.pendingBytes,
      clients: s.clients,
      write_ms_mean: confirmed ? s.writes.sumMs / s.writes.batches : undefined,
      write_ms_max: confirmed ? s.writes.maxMs : undefined,
      open_alerts: s.openAlerts,
      event_loop_lag_ms_p99: s.eventLoop.p99Ms,
      event_loop_lag_ms_max: s.eventLoop.maxMs,
    },
    s.at,
  );
  const refused = rejections.map((r) =>
    line('rejections', { kind: r.kind, reason: r.reason }, { count: r.count }, s.at),
  );
  return [health, ...refused];
}

export type StatusDevice = Pick<DeviceRecord, 'id' | 'kind' | 'name' | 'district' | 'location' | 'status'>;

export interface DeviceSnapshot {
  readonly at: number;
  readonly devices: readonly StatusDevice[];
  /** Every alert open or acknowledged. */
  readonly openAlerts: ReadonlyArray<Pick<Alert, 'device' | 'rule'>>;
  /** Ids of the rules whose condition is an absence: their alerts mean the device is silent. */
  readonly silenceRules: ReadonlySet<string>;
}

// A name typed with a line break is kept in the registry and flattened here: line protocol cannot carry
// control characters in a string field (influx/line-protocol.ts), and one name must not lose the round.
// eslint-disable-next-line no-control-regex -- control characters are exactly what is replaced
const CONTROL = /[\u0000-\u0008\u000a-\u001f\u007f]/g;

/** One `device_status` line per device in service (decommissioned devices are left out). */
export function deviceStatusLines(s: DeviceSnapshot): string[] {
  const stateOf = deviceAlertStates(s.openAlerts, s.silenceRules);
  return s.devices
    .filter((d) => d.status !== 'decommissioned')
    .map((d) => {
      const { status, open } = stateOf(d.id);
      const { lat, lon } = d.location;
      return line(
        'device_status',
        { device: d.id, kind: d.kind, district: d.district },
        {
          name: d.name.replace(CONTROL, ' '),
          lat,
          lon,
          status,
          status_code: DEVICE_STATUSES.indexOf(status),
          open_alerts: open,
          sun_altitude_deg: sunAltitudeDeg(s.at, lat, lon),
        },
        s.at,
      );
    });
}

export interface HealthPointsConfig {
  /** CITY_HEALTH_INTERVAL_MS */
  readonly healthIntervalMs: number;
  /** CITY_STATUS_INTERVAL_MS */
  readonly statusIntervalMs: number;
}

export interface HealthPointsDeps {
  readonly log: Logger;
  readonly clock: () => number;
  /** The `host` tag. */
  readonly host: string;
  /** When the metrics' counters started at zero: the start of the first interval. */
  readonly since: number;
  readonly metrics: Pick<PlatformMetrics, 'totals' | 'takeWriteTimes' | 'takeEventLoopLag'>;
  readonly spool: Pick<Spool, 'append' | 'stats'>;
  readonly clients: () => number;
  /** Every alert open or acknowledged. */
  readonly openAlerts: () => Promise<ReadonlyArray<Pick<Alert, 'device' | 'rule'>>>;
  /** The devices in service. */
  readonly devices: () => readonly StatusDevice[];
  /** The rules in force. */
  readonly rules: () => ReadonlyArray<Pick<Rule, 'id' | 'condition'>>;
}

export interface HealthPoints {
  /** Stops the timers and waits for the round in progress to reach the spool; safe to call twice. */
  close(): Promise<void>;
}

const NO_TOTALS: MetricTotals = { readings: 0, stored: 0, writeFailures: 0, rejected: [] };

/** Writes one round of each at once, then one every interval; resolves once the first rounds are spooled. */
export async function startHealthPoints(
  config: HealthPointsConfig,
  deps: HealthPointsDeps,
): Promise<HealthPoints> {
  const { log, clock } = deps;
  let previous = { at: deps.since, totals: NO_TOTALS };
  let closed = false;
  const inFlight = new Set<Promise<void>>();

  /** Resolves once the lines are durable, or their failure is logged: a failure never stops the timers. */
  const append = (what: string, lines: readonly string[]) =>
    new Promise<void>((resolve) => {
      if (lines.length === 0) return resolve();
      deps.spool.append(lines.join(''), lines.length, (err) => {
        if (err) log.error({ err }, `${what} not spooled`);
        resolve();
      });
    });

  async function reportHealth(): Promise<void> {
    const totals = await deps.metrics.totals();
    const at = clock();
    const snapshot: PlatformSnapshot = {
      at,
      host: deps.host,
      intervalMs: at - previous.at,
      ...intervalCounts(previous.totals, totals),
      spool: deps.spool.stats(),
      clients: deps.clients(),
      writes: deps.metrics.takeWriteTimes(),
      openAlerts: (await deps.openAlerts()).length,
      eventLoop: deps.metrics.takeEventLoopLag(),
    };
    previous = { at, totals };
    await append('platform health', platformLines(snapshot));
  }

  async function reportDevices(): Promise<void> {
    const snapshot: DeviceSnapshot = {
      at: clock(),
      devices: deps.devices(),
      openAlerts: await deps.openAlerts(),
      silenceRules: absenceRuleIds(deps.rules()),
    };
    await append('device status', deviceStatusLines(snapshot));
  }

  const run = (what: string, report: () => Promise<void>): Promise<void> => {
    if (closed) return Promise.resolve();
    const done: Promise<void> = report()
      .catch((err: unknown) => log.error({ err }, `${what} not reported`))
      .finally(() => inFlight.delete(done));
    inFlight.add(done);
    return done;
  };

  await Promise.all([run('platform health', reportHealth), run('device status', reportDevices)]);
  const timers = [
    setInterval(() => void run('platform health', reportHealth), config.healthIntervalMs),
    setInterval(() => void run('device status', reportDevices), config.statusIntervalMs),
  ];
  // The reports never keep the process alive: a stop is the platform's to decide.
  for (const t of timers) t.unref();

  return {
    async close() {
      closed = true;
      for (const t of timers) clearInterval(t);
      await Promise.all([...inFlight]);
    },
  };
}
