// Simulated history for testing the dashboards' queries: the seeded Huế fleet's readings over the last
// hours, published over MQTT by each device with its own secret and `ts` in the past (a backlog, as in
// test/alerts-flood.test.ts), with the simulator's models. Two river gauges and a street gauge play the
// flood scenario from the start of the history, so alerts are raised, escalated and still open at its
// end; one air-quality station plays a pollution episode and lamps fail more often than by default, so
// every kind has alerts; one out-of-range reading leaves a dead letter (and a `rejections` point). One
// open alert is then acknowledged and another resolved through the HTTP API, so the `alerts` measurement
// holds `ack_ms` and `resolve_ms`; and a lamp is switched on by a command it answers, so the `commands`
// measurement holds its transitions.
import type { MqttClient } from 'mqtt';
import { z } from 'zod';
import { loadFleet, type Kind } from '../../devices/index.ts';
import { createDeviceModel, devicePayload, type SimFields } from '../../simulators/index.ts';
import { connectClient, eventually, rows, type TestPlatform } from './platform.ts';

const MINUTE_MS = 60_000;
const HOUR_MS = 60 * MINUTE_MS;

/** Never closer than this: it bounds the messages (about 3,600 for the Huế fleet over 26 h). */
export const MIN_STEP_MS = 10 * MINUTE_MS;

/** Time between two readings of a device, by kind: the river project's 10 minutes (docs/hue-places.md) for
 * the flood gauges; air-quality stations and streetlight controllers at a slower pace that still fills
 * every hourly bucket the rules and dashboards use. */
export const DEFAULT_STEP_MS: Readonly<Record<Kind, number>> = {
  flood: 10 * MINUTE_MS,
  air_quality: 15 * MINUTE_MS,
  streetlight: 30 * MINUTE_MS,
};

/** Two river gauges and one street gauge: river alarm, fast-rise, rain and street-flood alerts. */
export const FLOOD_DEVICES = ['rg-kim-long', 'rg-phu-oc', 'sf-le-loi'] as const;

/** One station in a pollution episode, so the air-quality dashboard has alerts to show too. */
export const EPISODE_DEVICES = ['aq-hung-vuong-83'] as const;

/** Chance a lamp develops a fault on a given day (the simulator's default is 0.01): with 0.5 some lamps
 * fail, burn by day or draw too much, so the lighting rules raise alerts. */
export const STREETLIGHT_FAULTS_PER_DAY = 0.5;

export interface HistoryOptions {
  /** Hours of history ending now. Default 26, so every 24-hour window is full. */
  readonly hours?: number;
  readonly stepMs?: Partial<Record<Kind, number>>;
  readonly floodDevices?: readonly string[];
  readonly episodeDevices?: readonly string[];
  readonly faultsPerDay?: number;
  readonly seed?: number;
  /** How long to wait for InfluxDB to hold everything, ms. Default 30 000. */
  readonly timeoutMs?: number;
}

export interface History {
  /** The history's span, epoch ms: every reading's time is in (from, to]. */
  readonly from: number;
  readonly to: number;
  /** Valid readings published (and stored), per device. */
  readonly published: ReadonlyMap<string, number>;
  /** The device that sent the out-of-range reading. */
  readonly rejectedDevice: string;
  readonly acknowledgedAlert: number;
  readonly resolvedAlert: number;
}

interface DeviceRun {
  readonly id: string;
  readonly kind: Kind;
  readonly secret: string;
  readonly readings: Array<{ readonly t: number; readonly fields: SimFields }>;
}

/** Publishes the fleet's history into a platform started with CITY_SEED_FLEET, and waits until stored. */
export async function loadHistory(platform: TestPlatform, options: HistoryOptions = {}): Promise<History> {
  const to = Date.now() - MINUTE_MS;
  const from = to - (options.hours ?? 26) * HOUR_MS;
  const runs = await simulate(platform, from, to, options);
  await Promise.all(runs.map((run) => publishAll(platform, run)));
  const rejectedDevice = await publishOutOfRange(platform, runs);
  const timeoutMs = options.timeoutMs ?? 30_000;
  const refused = () => platform.deadLetters.list({ source: rejectedDevice }).length > 0;
  await eventually(() => (refused() ? true : undefined), timeoutMs);
  await waitStored(platform, runs, from, timeoutMs);
  const { acknowledged, resolved } = await actOnAlerts(platform, timeoutMs);
  await commandLamp(platform, runs, timeoutMs);
  const published = new Map(runs.map((r) => [r.id, r.readings.length]));
  return { from, to, published, rejectedDevice, acknowledgedAlert: acknowledged, resolvedAlert: resolved };
}

async function simulate(platform: TestPlatform, from: number, to: number, options: HistoryOptions) {
  const fleet = await loadFleet();
  const flood = new Set(options.floodDevices ?? FLOOD_DEVICES);
  const episode = new Set(options.episodeDevices ?? EPISODE_DEVICES);
  const secrets = new Map(platform.seeded.map((p) => [p.id, p.secret]));
  return fleet.devices.map((device): DeviceRun => {
    const secret = secrets.get(device.id);
    if (secret === undefined)
      throw new Error(`no seeded secret for ${device.id}: start with CITY_SEED_FLEET`);
    const step = options.stepMs?.[device.kind] ?? DEFAULT_STEP_MS[device.kind];
    if (step < MIN_STEP_MS) throw new RangeError(`step for ${device.kind} under ${MIN_STEP_MS} ms: ${step}`);
    const scenario = flood.has(device.id) ? 'flood' : episode.has(device.id) ? 'episode' : 'normal';
    const model = createDeviceModel(device, {
      seed: options.seed ?? 1,
      scenario,
      faultsPerDay: options.faultsPerDay ?? STREETLIGHT_FAULTS_PER_DAY,
    });
    // Scenarios start with the history: by its end the rivers are past alarm 3 or near their crest, and
    // the ten-hour pollution episode is over.
    let state = model.initial({ t: from, scenarioMs: 0 });
    const readings: DeviceRun['readings'] = [];
    for (let t = from + step; t <= to; t += step) {
      const next = model.step(state, { t, scenarioMs: t - from });
      state = next.state;
      if (Object.keys(next.fields).length > 0) readings.push({ t, fields: next.fields });
    }
    return { id: device.id, kind: device.kind, secret, readings };
  });
}

const connect = (platform: TestPlatform, id: string, secret: string): Promise<MqttClient> =>
  connectClient(platform.mqttUrl, { clientId: id, username: id, password: secret });

/** In time order, each publish acknowledged (so durable) before the next. */
async function publishAll(platform: TestPlatform, run: DeviceRun): Promise<void> {
  const client = await connect(platform, run.id, run.secret);
  try {
    for (const { t, fields } of run.readings) {
      await client.publishAsync(`city/${run.kind}/${run.id}/telemetry`, devicePayload(fields, t), { qos: 1 });
    }
  } finally {
    await client.endAsync();
  }
}

/** PM2.5 at 5,000 µg/m³, past the kind's 1,000 (devices/kinds.ts): refused as INGEST_ERR_RANGE. */
async function publishOutOfRange(platform: TestPlatform, runs: readonly DeviceRun[]): Promise<string> {
  const station = runs.find((r) => r.kind === 'air_quality');
  if (!station) throw new Error('the fleet has no air-quality station');
  const client = await connect(platform, station.id, station.secret);
  try {
    const payload = devicePayload({ pm25: 5000, pm10: 80 }, Date.now() - MINUTE_MS);
    await client.publishAsync(`city/air_quality/${station.id}/telemetry`, payload, { qos: 1 });
  } finally {
    await client.endAsync();
  }
  return station.id;
}

/** A field every reading of the device carried: counting it counts the device's stored points. */
function alwaysPresent(run: DeviceRun): string {
  const [first, ...rest] = run.readings;
  const field = Object.keys(first?.fields ?? {}).find((f) => rest.every((r) => f in r.fields));
  if (field === undefined) throw new Error(`${run.id}: no field in every reading`);
  return field;
}

/** Until every device's readings are in InfluxDB: the writer drains the spool asynchronously. */
async function waitStored(
  platform: TestPlatform,
  runs: readonly DeviceRun[],
  from: number,
  timeoutMs: number,
) {
  const byKind = new Map<Kind, DeviceRun[]>();
  for (const run of runs.filter((r) => r.readings.length > 0)) {
    byKind.set(run.kind, [...(byKind.get(run.kind) ?? []), run]);
  }
  await eventually(async () => {
    for (const [kind, kindRuns] of byKind) {
      const counts = await rows(
        platform,
        `SELECT count(*) FROM "${kind}" WHERE time >= ${from}ms GROUP BY "device"`,
      );
      const stored = new Map(counts.map((r) => [r.device, r]));
      for (const run of kindRuns) {
        if (stored.get(run.id)?.[`count_${alwaysPresent(run)}`] !== run.readings.length) return undefined;
      }
    }
    return true;
  }, timeoutMs);
}

const OpenAlerts = z.object({ alerts: z.array(z.looseObject({ id: z.number() })) });

/** Calls the HTTP API as the admin: GET, or POST with a JSON body. */
async function api(platform: TestPlatform, path: string, body?: unknown): Promise<unknown> {
  const res = await fetch(`http://127.0.0.1:${platform.apiPort}/api${path}`, {
    method: body === undefined ? 'GET' : 'POST',
    headers: {
      authorization: `Bearer ${platform.adminToken}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  if (!res.ok) throw new Error(`${path}: HTTP ${res.status} ${await res.text()}`);
  return res.json();
}

/** The lamp this is sent to. */
export const COMMANDED_LAMP = 'sl-hung-vuong-01';

/** A lamp listening for its commands is switched on through the API and says done; waits for InfluxDB. */
async function commandLamp(platform: TestPlatform, runs: readonly DeviceRun[], timeoutMs: number) {
  const run = runs.find((r) => r.id === COMMANDED_LAMP)!;
  const lamp = await connect(platform, run.id, run.secret);
  try {
    lamp.on('message', (topic, payload) => {
      const { id } = JSON.parse(payload.toString()) as { id: number };
      void lamp.publishAsync(`${topic}/ack`, JSON.stringify({ id, result: 'done' }), { qos: 1 });
    });
    await lamp.subscribeAsync(`city/streetlight/${run.id}/commands`, { qos: 1 });
    await api(platform, '/commands', { target: { device: run.id }, type: 'switch', params: { state: 'on' } });
    await eventually(async () => {
      const lines = await rows(
        platform,
        `SELECT "command_id" FROM "commands" WHERE "state" = 'acknowledged'`,
      );
      return lines.length > 0 ? true : undefined;
    }, timeoutMs);
  } finally {
    await lamp.endAsync();
  }
}

/** Acknowledges one open alert and resolves another, then waits for both events in InfluxDB. */
async function actOnAlerts(platform: TestPlatform, timeoutMs: number) {
  const [first, second] = await eventually(async () => {
    const { alerts } = OpenAlerts.parse(await api(platform, '/alerts?state=open'));
    const [a, b] = alerts;
    return a && b ? ([a, b] as const) : undefined;
  }, timeoutMs);
  await api(platform, `/alerts/${first.id}/acknowledge`, { note: 'crew on the way' });
  await api(platform, `/alerts/${second.id}/resolve`, { note: 'checked on site, cleared' });
  await eventually(async () => {
    const events = await rows(
      platform,
      `SELECT "alert_id", "ack_ms", "resolve_ms" FROM "alerts" ` +
        `WHERE "event" = 'acknowledged' OR "event" = 'resolved'`,
    );
    const acked = events.some((e) => e.alert_id === first.id && typeof e.ack_ms === 'number');
    const resolved = events.some((e) => e.alert_id === second.id && typeof e.resolve_ms === 'number');
    return acked && resolved ? true : undefined;
  }, timeoutMs);
  return { acknowledged: first.id, resolved: second.id };
}
