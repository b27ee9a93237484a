// Starts the whole platform for a test: real broker on a free port, real InfluxDB (the integration tier's
// influxd, a fresh database per platform), real SQLite registry in a temporary folder.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import pino from 'pino';
import { inject } from 'vitest';
import { loadConfig, startPlatform, type Platform } from '../../platform/index.ts';

export interface TestPlatform extends Platform {
  readonly dataDir: string;
  readonly db: string;
  readonly mqttUrl: string;
  readonly adminToken: string;
  /** Stops the platform; the data folder stays, so `restart` can start it again on the same data. */
  restart(): Promise<TestPlatform>;
  /** Stops the platform and removes its data folder (the database stays until the influxd stops). */
  destroy(): Promise<void>;
}

let counter = 0;

export async function startTestPlatform(
  env: Record<string, string> = {},
  reuse?: { dataDir: string; db: string },
): Promise<TestPlatform> {
  const dataDir = reuse?.dataDir ?? (await fs.mkdtemp(path.join(os.tmpdir(), 'city-platform-')));
  const db = reuse?.db ?? `t_${process.pid}_${Date.now()}_${counter++}`;
  const adminToken = 'test-admin-token-0123456789';
  const config = loadConfig({
    CITY_HOST: '127.0.0.1',
    CITY_MQTT_PORT: '0',
    CITY_API_PORT: '0',
    CITY_DATA_DIR: dataDir,
    CITY_ADMIN_TOKEN: adminToken,
    CITY_LOG_LEVEL: 'silent',
    INFLUX_URL: inject('influxUrl'),
    INFLUX_DB: db,
    ...env,
  });
  const platform = await startPlatform(config, {
    log: pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' }),
  });
  const self: TestPlatform = {
    ...platform,
    dataDir,
    db,
    mqttUrl: `mqtt://127.0.0.1:${platform.mqttPort}`,
    adminToken,
    async restart() {
      await platform.close();
      return startTestPlatform(env, { dataDir, db });
    },
    async destroy() {
      await platform.close();
      await fs.rm(dataDir, { recursive: true, force: true });
    },
  };
  return self;
}

/** Connects a real MQTT client; resolves on CONNACK, rejects with the broker's refusal. */
export function connectClient(url: string, options: IClientOptions): Promise<MqttClient> {
  return new Promise((resolve, reject) => {
    const client = mqtt.connect(url, {
      reconnectPeriod: 0,
      connectTimeout: 5000,
      protocolVersion: 4,
      ...options,
    });
    client.once('connect', () => resolve(client));
    client.once('error', (err) => {
      // Refused: the socket may still report its reset after the CONNACK; this client is done with.
      client.on('error', () => undefined);
      client.end(true);
      reject(err);
    });
    client.once('close', () => reject(new Error('connection closed before CONNACK')));
  });
}

/** Resolves when the client's connection closes (the broker hung up). */
export function closed(client: MqttClient): Promise<void> {
  return new Promise((resolve) => {
    if (!client.connected) return resolve();
    client.once('close', () => resolve());
  });
}

/** A sample's value in the platform's /metrics, by its name with labels as printed; 0 when absent. */
export async function metricValue(platform: Platform, sample: string): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${platform.apiPort}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${sample} `));
  return line === undefined ? 0 : Number(line.slice(sample.length + 1));
}

/** Queries the platform's InfluxDB and returns rows as objects. */
export async function rows(platform: Platform, q: string): Promise<Array<Record<string, unknown>>> {
  const [series = []] = await platform.influx.query(q, { epoch: 'ms' });
  return series.flatMap((s) =>
    s.values.map((v) => ({ ...s.tags, ...Object.fromEntries(s.columns.map((c, i) => [c, v[i]])) })),
  );
}

/** Polls until `check` returns a value that is not undefined, or fails after `timeoutMs`. */
export async function eventually<T>(
  check: () => Promise<T | undefined> | T | undefined,
  timeoutMs = 15_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value !== undefined) return value;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`condition not met in ${timeoutMs} ms`, { cause: last });
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** A request to the platform's API as its admin; the status and the JSON body (empty for a 204). */
export async function adminRequest(
  platform: TestPlatform,
  method: string,
  url: string,
  body?: unknown,
): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(`http://127.0.0.1:${platform.apiPort}${url}`, {
    method,
    headers: {
      authorization: `Bearer ${platform.adminToken}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return {
    status: res.status,
    body: res.status === 204 ? {} : ((await res.json()) as Record<string, unknown>),
  };
}

/** The platform as a process of its own (`platform/main.ts`), to be killed outright. */
export interface PlatformProcess {
  readonly child: ChildProcess;
  readonly mqttUrl: string;
  /** Settles when the process has exited. */
  readonly exited: Promise<unknown>;
}

/**
 * Starts `platform/main.ts` on loopback with free ports, the integration tier's influxd and `env` over
 * that; resolves once it logs that it started.
 */
export async function spawnPlatform(env: {
  CITY_DATA_DIR: string;
  INFLUX_DB: string;
  [name: string]: string;
}): Promise<PlatformProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'platform/main.ts'], {
    env: {
      ...process.env,
      CITY_HOST: '127.0.0.1',
      CITY_MQTT_PORT: '0',
      CITY_API_PORT: '0',
      INFLUX_URL: inject('influxUrl'),
      CITY_LOG_LEVEL: 'info',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const exited = new Promise((resolve) => child.once('exit', resolve));
  const mqttPort = await new Promise<number>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`platform exited with ${code}`)));
    readline.createInterface({ input: child.stdout }).on('line', (line) => {
      const entry = JSON.parse(line) as { msg?: string; mqtt?: number };
      if (entry.msg === 'platform started' && entry.mqtt) resolve(entry.mqtt);
    });
  });
  return { child, mqttUrl: `mqtt://127.0.0.1:${mqttPort}`, exited };
}

/** Two readings a street gauge sends as water rises over the road, minutes apart: street-flooded is raised. */
export async function floodStreet(mqttUrl: string, id: string, secret: string): Promise<void> {
  await floodStreetWith(await connectClient(mqttUrl, { clientId: id, username: id, password: secret }), id);
}

/** The same, from a client already connected as the gauge (to one node of a cluster, say); it is ended. */
export async function floodStreetWith(client: MqttClient, id: string): Promise<void> {
  const now = Date.now();
  for (const [ago, depth] of [
    [3, 0.31],
    [1, 0.34],
  ] as const) {
    const ts = new Date(now - ago * 60_000).toISOString();
    await client.publishAsync(`city/flood/${id}/telemetry`, JSON.stringify({ water_level_m: depth, ts }), {
      qos: 1,
    });
  }
  await client.endAsync();
}
