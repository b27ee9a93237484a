// Configuration: the defaults are the README's, every problem is reported at once, and the result cannot
// be changed by a component that holds it.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, Env, loadConfig, type Config } from './config.ts';

/** The README's configuration table: each variable with the default as written there. */
function readmeDefaults(): Map<string, string> {
  // The README is part of the source tree, read like a fixture: the table is the documented contract.
  const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
  const section = readme.split('\n## Configuration')[1]?.split('\n## ')[0] ?? '';
  const table = new Map<string, string>();
  for (const line of section.split('\n')) {
    const cells = line.split('|').map((c) => c.trim());
    // | `VAR`, `VAR2` | default | meaning |  →  ['', '`VAR`, `VAR2`', 'default', 'meaning', '']
    if (cells.length < 4 || !cells[1]!.startsWith('`')) continue;
    for (const [, name] of cells[1]!.matchAll(/`([A-Z0-9_]+)`/g)) table.set(name!, cells[2]!);
  }
  return table;
}

/** What the README's wording of a default means as a parsed value. */
function documentedValue(text: string): unknown {
  if (text.startsWith('unset')) return undefined;
  const size = /^(\d+) ([MG])iB$/.exec(text);
  if (size) return Number(size[1]) * 1024 ** (size[2] === 'G' ? 3 : 2);
  const code = /^`([^`]*)`$/.exec(text);
  if (!code) throw new Error(`README default not understood: ${text}`);
  const raw = code[1]!;
  if (raw === 'true' || raw === 'false') return raw === 'true';
  return /^\d+$/.test(raw) ? Number(raw) : raw;
}

describe('loadConfig defaults', () => {
  const table = readmeDefaults();

  it('the README documents exactly the variables the platform reads', () => {
    expect([...table.keys()].sort()).toEqual(Object.keys(Env.shape).sort());
  });

  it('every default is the one in the README table', () => {
    const parsed: Record<string, unknown> = Env.parse({});
    const expected = Object.fromEntries([...table].map(([name, text]) => [name, documentedValue(text)]));
    const actual = Object.fromEntries([...table.keys()].map((name) => [name, parsed[name]]));
    expect(actual).toEqual(expected);
  });

  it('an empty environment gives a complete configuration with those defaults', () => {
    const config = loadConfig({});
    expect(config).toEqual({
      host: '0.0.0.0',
      mqtt: {
        ...{ port: 1883, wsPort: undefined, tls: undefined, maxPacketBytes: 65_536, topicPrefix: 'city' },
        proxyProtocol: false,
        authFailures: { perAddress: 50, perUser: 5 },
      },
      databaseUrl: undefined,
      cluster: undefined,
      api: { port: 8080, adminToken: undefined },
      dataDir: path.resolve('./var'),
      spoolMaxBytes: 1024 ** 3,
      deadLettersMaxBytes: 64 * 1024 ** 2,
      stopDrainMs: 10_000,
      seedFleet: false,
      agenciesFile: path.resolve('./devices/hue-agencies.json'),
      rules: { dir: path.resolve('./rules/hue'), watch: true, tickMs: 1_000 },
      routingFile: path.resolve('./notify/hue/routing.yaml'),
      smtp: { url: undefined, from: 'City telemetry <alerts@localhost>' },
      publicUrl: 'http://localhost:8080',
      timeZone: 'Asia/Ho_Chi_Minh',
      notify: { maxAttempts: 8, timeoutMs: 10_000 },
      commands: { checkWindowMs: 600_000 },
      sessions: { ttlMs: 43_200_000, secureCookie: false },
      map: {
        tiles: 'https://tile.openstreetmap.org/{z}/{x}/{y}.png',
        attribution: '© OpenStreetMap contributors',
      },
      logFormat: 'auto',
      health: { intervalMs: 10_000, statusIntervalMs: 60_000 },
      logLevel: 'info',
      influx: {
        url: undefined,
        db: 'city',
        retentionPolicy: undefined,
        retention: 'INF',
        token: undefined,
        username: undefined,
        password: undefined,
        localPort: 8086,
      },
    } satisfies Config);
  });

  it('an empty variable counts as unset for the optional ones', () => {
    const config = loadConfig({ CITY_ADMIN_TOKEN: '', INFLUX_URL: '', INFLUX_RP: '' });
    expect([config.api.adminToken, config.influx.url, config.influx.retentionPolicy]).toEqual([
      undefined,
      undefined,
      undefined,
    ]);
  });
});

describe('loadConfig refusals', () => {
  /** The problems of the ConfigError thrown for `env`. */
  function problems(env: Record<string, string>): readonly string[] {
    try {
      loadConfig(env);
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError);
      expect(err).toMatchObject({ code: 'PLATFORM_ERR_CONFIG' });
      return (err as ConfigError).problems;
    }
    throw new Error('loadConfig accepted a bad environment');
  }
  const named = (list: readonly string[], variable: string) =>
    list.filter((p) => p.startsWith(`${variable}:`));

  it('reports every bad variable in one ConfigError', () => {
    const list = problems({
      CITY_MQTT_PORT: '70000',
      CITY_API_PORT: 'eighty',
      CITY_LOG_LEVEL: 'loud',
      CITY_SEED_FLEET: 'maybe',
      INFLUX_URL: 'not a url',
      CITY_MAX_PACKET_BYTES: '-1',
      CITY_TIMEZONE: 'Asia/Hue',
      CITY_PUBLIC_URL: 'ftp://ioc.example.org',
    });
    for (const variable of [
      'CITY_TIMEZONE',
      'CITY_PUBLIC_URL',
      'CITY_MQTT_PORT',
      'CITY_API_PORT',
      'CITY_LOG_LEVEL',
      'CITY_SEED_FLEET',
      'INFLUX_URL',
      'CITY_MAX_PACKET_BYTES',
    ]) {
      expect(named(list, variable), variable).toHaveLength(1);
    }
  });

  it('reports a mismatched pair together with the bad variables, not only once they are fixed', () => {
    // A value of the wrong type (not only out of range) alongside the pair.
    const list = problems({ CITY_LOG_LEVEL: 'loud', CITY_MQTT_TLS_CERT: '/etc/city/cert.pem' });
    expect(named(list, 'CITY_LOG_LEVEL')).toHaveLength(1);
    expect(named(list, 'CITY_MQTT_TLS_KEY')).toHaveLength(1);
  });

  it('refuses a TLS certificate without its key, and a key without its certificate', () => {
    expect(named(problems({ CITY_MQTT_TLS_CERT: '/etc/city/cert.pem' }), 'CITY_MQTT_TLS_KEY')).toHaveLength(
      1,
    );
    expect(named(problems({ CITY_MQTT_TLS_KEY: '/etc/city/key.pem' }), 'CITY_MQTT_TLS_KEY')).toHaveLength(1);
  });

  it('accepts a certificate with its key as the TLS listener', () => {
    const config = loadConfig({ CITY_MQTT_TLS_CERT: '/c.pem', CITY_MQTT_TLS_KEY: '/k.pem' });
    expect(config.mqtt.tls).toEqual({ certFile: '/c.pem', keyFile: '/k.pem' });
  });

  it('refuses health and status intervals under a second or over an hour, and reads valid ones', () => {
    const list = problems({ CITY_HEALTH_INTERVAL_MS: '999', CITY_STATUS_INTERVAL_MS: '3600001' });
    expect(named(list, 'CITY_HEALTH_INTERVAL_MS')).toHaveLength(1);
    expect(named(list, 'CITY_STATUS_INTERVAL_MS')).toHaveLength(1);
    const config = loadConfig({ CITY_HEALTH_INTERVAL_MS: '1000', CITY_STATUS_INTERVAL_MS: '3600000' });
    expect(config.health).toEqual({ intervalMs: 1_000, statusIntervalMs: 3_600_000 });
  });

  it('refuses two listeners on the same port, naming both', () => {
    expect(() => loadConfig({ CITY_MQTT_PORT: '8080' })).toThrow(
      /CITY_API_PORT: the same port as CITY_MQTT_PORT \(8080\)/,
    );
    expect(loadConfig({ CITY_MQTT_PORT: '0', CITY_API_PORT: '0' }).api.port).toBe(0);
  });

  it('a cluster node needs a name of its own, a Redis URL and PostgreSQL', () => {
    expect(() => loadConfig({ CITY_REDIS_URL: 'redis://10.0.0.5:6379' })).toThrow(
      /CITY_DATABASE_URL: a cluster's nodes share[\s\S]*CITY_NODE_ID: a cluster node/,
    );
    expect(() => loadConfig({ CITY_DATABASE_URL: 'mysql://10.0.0.6/city' })).toThrow(/CITY_DATABASE_URL/);
    expect(() => loadConfig({ CITY_REDIS_URL: 'http://10.0.0.5', CITY_NODE_ID: 'node 1' })).toThrow(
      /CITY_REDIS_URL[\s\S]*CITY_NODE_ID: letters, digits/,
    );
    const config = loadConfig({
      CITY_REDIS_URL: 'redis://10.0.0.5:6379',
      CITY_DATABASE_URL: 'postgres://city@10.0.0.6/city',
      CITY_NODE_ID: 'node-1',
    });
    expect(config.cluster).toEqual({ redisUrl: 'redis://10.0.0.5:6379', nodeId: 'node-1' });
    expect(config.databaseUrl).toBe('postgres://city@10.0.0.6/city');
  });

  it('refuses an InfluxDB token together with a 1.x user name', () => {
    const list = problems({ INFLUX_TOKEN: 't', INFLUX_USERNAME: 'u', INFLUX_PASSWORD: 'p' });
    expect(named(list, 'INFLUX_TOKEN')).toHaveLength(1);
  });
});

describe('loadConfig result', () => {
  it('is frozen all the way down', () => {
    const config = loadConfig({ CITY_MQTT_TLS_CERT: '/c.pem', CITY_MQTT_TLS_KEY: '/k.pem' });
    const unfrozen: string[] = [];
    const walk = (value: unknown, at: string) => {
      if (typeof value !== 'object' || value === null) return;
      if (!Object.isFrozen(value)) unfrozen.push(at);
      for (const [k, v] of Object.entries(value)) walk(v, `${at}.${k}`);
    };
    walk(config, 'config');
    expect(unfrozen).toEqual([]);
    // ES modules run in strict mode: writing to a frozen object throws rather than being ignored.
    expect(() => {
      (config.mqtt as { port: number }).port = 1;
    }).toThrow(TypeError);
    expect(config.mqtt.port).toBe(1883);
  });
});
