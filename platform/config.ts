// Configuration from the environment, parsed once here with every problem reported together, then frozen.
// Components never read process.env: they get their slice of this object.
import path from 'node:path';
import { z } from 'zod';
import { CodedError } from '../errors/index.ts';

const port = (fallback: number) => z.coerce.number().int().min(0).max(65_535).default(fallback);
const optionalPort = z.coerce.number().int().min(0).max(65_535).optional();
const bytes = (fallback: number) => z.coerce.number().int().positive().default(fallback);
const flag = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'])
  .default('false')
  .transform((v) => v === 'true' || v === '1' || v === 'yes');
const flagOn = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'])
  .default('true')
  .transform((v) => v === 'true' || v === '1' || v === 'yes');
const optionalText = z
  .string()
  .optional()
  .transform((v) => (v === '' ? undefined : v));

/** Every variable, its default, and why (README, "Configuration"). */
/** Whether the runtime knows `zone` as an IANA time zone. */
function isTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

export const Env = z
  .object({
    /** Interface the MQTT and HTTP listeners bind to. */
    CITY_HOST: z.string().default('0.0.0.0'),
    /** MQTT over TCP (or TLS when a certificate is set): the IANA port for MQTT. */
    CITY_MQTT_PORT: port(1883),
    /** MQTT over WebSocket, for browser clients and gateways behind HTTP proxies; empty: off. */
    CITY_MQTT_WS_PORT: optionalPort,
    /** PEM files; when both are set the MQTT listener speaks TLS (port 8883 by convention). */
    CITY_MQTT_TLS_CERT: optionalText,
    /** Behind a load balancer: every MQTT TCP connection starts with a PROXY protocol header (v1 or v2). */
    CITY_MQTT_PROXY_PROTOCOL: flag,
    CITY_MQTT_TLS_KEY: optionalText,
    /** Largest MQTT packet accepted; a larger one closes the connection. 64 KiB holds a gateway's SenML
     * pack for dozens of devices, and bounds what one client can make the broker buffer. */
    CITY_MAX_PACKET_BYTES: bytes(64 * 1024),
    /** Failed CONNECTs from one client address before its attempts are refused unchecked for a while
     * (1 s, doubling to 5 min). High, because one address may be a NAT in front of a district's lamps. */
    CITY_MQTT_AUTH_FAILURES_PER_ADDRESS: z.coerce.number().int().min(1).default(50),
    /** Failed CONNECTs for one user name before its attempts are refused unchecked (1 s, doubling to 60 s). */
    CITY_MQTT_AUTH_FAILURES_PER_USER: z.coerce.number().int().min(1).default(5),
    CITY_TOPIC_PREFIX: z.string().default('city'),
    CITY_API_PORT: port(8080),
    /** Spool, registry, dead letters and, when INFLUX_URL is unset, the local InfluxDB's files. */
    CITY_DATA_DIR: z.string().default('./var'),
    /** Unconfirmed bytes the spool holds (while InfluxDB is down) before refusing publishes: 1 GiB is
     * about 10 million readings, hours of a city's traffic. */
    CITY_SPOOL_MAX_BYTES: bytes(1024 ** 3),
    /** Bytes of refused payloads and their details kept for inspection (GET /api/dead-letters); the
     * oldest go first. 64 MiB holds thousands of the largest payloads, and cannot fill a disk. */
    CITY_DEAD_LETTERS_MAX_BYTES: bytes(64 * 1024 * 1024),
    /** How long a graceful stop waits for InfluxDB to confirm the spool; what is left stays for the next
     * start, so this only bounds the wait. */
    CITY_STOP_DRAIN_MS: z.coerce.number().int().nonnegative().default(10_000),
    CITY_ADMIN_TOKEN: optionalText,
    /** Seed the registry with the Huế fleet file at start (the demo does). */
    CITY_SEED_FLEET: flag,
    /** Agencies created at start when the registry lacks them: the ones the rules in CITY_RULES_DIR name
     * (Huế's by default, beside Huế's rules). Empty: none. */
    CITY_AGENCIES_FILE: z.string().default('./devices/hue-agencies.json'),
    CITY_LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
    /** `pretty`: readable, coloured lines; `json`: one JSON object per line (journald, files, shippers);
     * `auto`: pretty on a terminal, JSON otherwise. */
    CITY_LOG_FORMAT: z.enum(['auto', 'json', 'pretty']).default('auto'),
    /** The folder of rule files, by default the Huế rule set shipped here (`*.yaml`; `*.test.yaml` are rule tests and not loaded). */
    CITY_RULES_DIR: z.string().default('./rules/hue'),
    /** The SMTP server e-mail receivers are sent through (`smtp://user:pass@host:587`, `smtps://…`). */
    CITY_SMTP_URL: optionalText,
    /** The sender of notification e-mails. */
    CITY_SMTP_FROM: z.string().min(3).default('City telemetry <alerts@localhost>'),
    /** The console map's base map: a tile URL template ({z}/{x}/{y}), and its attribution. */
    CITY_MAP_TILES: z
      .string()
      .regex(/^https?:\/\/[^\s]+\{z\}[^\s]*$/, 'an http(s) tile URL template with {z}, {x} and {y}')
      .default('https://tile.openstreetmap.org/{z}/{x}/{y}.png'),
    CITY_MAP_ATTRIBUTION: z.string().max(300).default('© OpenStreetMap contributors'),
    /** How long a console session lasts before its user signs in again, hours. */
    CITY_SESSION_HOURS: z.coerce.number().min(0.25).max(720).default(12),
    /** Attempts of a notification's delivery before it is given up as dead. */
    CITY_NOTIFY_MAX_ATTEMPTS: z.coerce.number().int().min(1).max(100).default(8),
    /** A receiver that has not answered a delivery in this long has failed it (ms). */
    CITY_NOTIFY_TIMEOUT_MS: z.coerce.number().int().min(100).max(120_000).default(10_000),
    /** How long after a device says a command is done its readings may take to show it (s). */
    CITY_COMMAND_CHECK_S: z.coerce.number().int().min(1).max(86_400).default(600),
    /** The city's time zone (IANA): agencies' working hours are read in it, and notifications give its times. */
    CITY_TIMEZONE: z
      .string()
      .default('Asia/Ho_Chi_Minh')
      .refine(isTimeZone, 'an IANA time zone, such as Asia/Ho_Chi_Minh'),
    /** Where people reach the platform's API from a notification's link (an alert's page). */
    CITY_PUBLIC_URL: z
      .url({ protocol: /^https?$/, error: 'an http or https URL, such as https://ioc.hue.gov.vn' })
      .default('http://localhost:8080'),
    /** Which receivers each alert goes to (notify/routing.ts); by default Huế's. */
    CITY_ROUTING_FILE: z.string().default('./notify/hue/routing.yaml'),
    /** Reload the rules when a file in the folder changes; a file that does not validate is refused and
     * the rules in force stay. */
    CITY_RULES_WATCH: flagOn,
    /** How often time passes for absence and window rules: a silent device is seen within this. */
    CITY_RULES_TICK_MS: z.coerce.number().int().min(100).max(60_000).default(1_000),
    /** How often the platform writes its own health (`platform` and `rejections` in InfluxDB): the
     * resolution of the dashboards' platform-health panels. A second at least, an hour at most (a
     * dashboard needs points; a timer cannot wait more than about 24 days anyway). */
    CITY_HEALTH_INTERVAL_MS: z.coerce.number().int().min(1_000).max(3_600_000).default(10_000),
    /** How often every device's status (`device_status`: place, ok/alerting/silent) is written for the
     * city map: a minute keeps a 10 000-device city at 170 points a second, a sliver of its readings. */
    CITY_STATUS_INTERVAL_MS: z.coerce.number().int().min(1_000).max(3_600_000).default(60_000),
    /** Cluster mode: the Redis every node's broker shares publishes, sessions, retained messages and wills
     * through (redis://[user:password@]host:port[/db]). Unset: a single node. */
    CITY_REDIS_URL: optionalText.pipe(z.url({ protocol: /^rediss?$/ }).optional()),
    /** PostgreSQL for the state the nodes of a cluster share, the registry first (postgres://user:password@
     * host:port/database). Unset: SQLite files in the data folder. */
    CITY_DATABASE_URL: optionalText.pipe(z.url({ protocol: /^postgres(ql)?$/ }).optional()),
    /** This node's name in a cluster: unique among the nodes and the same across its restarts. */
    CITY_NODE_ID: optionalText.pipe(
      z
        .string()
        .regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/, 'letters, digits, ".", "_" and "-", up to 63')
        .optional(),
    ),
    /** Unset: start Debian's influxd under the data folder. Set: use that InfluxDB (1.x, 2.x or 3.x). */
    INFLUX_URL: optionalText.pipe(z.url().optional()),
    INFLUX_DB: z.string().min(1).default('city'),
    /** Retention policy to use (2.x/3.x: the one mapped through DBRP); empty: the database default. */
    INFLUX_RP: optionalText,
    /** Retention for a database the platform creates itself (InfluxQL duration, or INF). */
    INFLUX_RETENTION: z.string().default('INF'),
    INFLUX_TOKEN: optionalText,
    INFLUX_USERNAME: optionalText,
    INFLUX_PASSWORD: optionalText,
    /** Port of the local influxd when INFLUX_URL is unset; 0 picks a free one. */
    INFLUX_LOCAL_PORT: port(8086),
  })
  .superRefine(
    (env, ctx) => {
      if (Boolean(env.CITY_MQTT_TLS_CERT) !== Boolean(env.CITY_MQTT_TLS_KEY)) {
        ctx.addIssue({
          code: 'custom',
          path: ['CITY_MQTT_TLS_KEY'],
          message: 'CITY_MQTT_TLS_CERT and CITY_MQTT_TLS_KEY go together',
        });
      }
      if (env.CITY_MQTT_PROXY_PROTOCOL && env.CITY_MQTT_TLS_CERT) {
        ctx.addIssue({
          code: 'custom',
          path: ['CITY_MQTT_PROXY_PROTOCOL'],
          message: 'the PROXY protocol is for a plain TCP listener: terminate TLS at the load balancer',
        });
      }
      const ports = [
        ['CITY_MQTT_PORT', env.CITY_MQTT_PORT],
        ['CITY_MQTT_WS_PORT', env.CITY_MQTT_WS_PORT],
        ['CITY_API_PORT', env.CITY_API_PORT],
      ] as const;
      for (const [i, [name, port]] of ports.entries()) {
        const same = ports
          .slice(0, i)
          .find(([, other]) => typeof port === 'number' && port !== 0 && other === port);
        if (same !== undefined) {
          ctx.addIssue({
            code: 'custom',
            path: [name],
            message: `the same port as ${same[0]} (${port}): each listener needs its own`,
          });
        }
      }
      if (env.CITY_REDIS_URL && !env.CITY_DATABASE_URL) {
        ctx.addIssue({
          code: 'custom',
          path: ['CITY_DATABASE_URL'],
          message: "a cluster's nodes share their registry in PostgreSQL: set it with CITY_REDIS_URL",
        });
      }
      if (env.CITY_REDIS_URL && !env.CITY_NODE_ID) {
        ctx.addIssue({
          code: 'custom',
          path: ['CITY_NODE_ID'],
          message:
            'a cluster node needs a name of its own, unique among the nodes and stable across restarts (e.g. node-1)',
        });
      }
      if (env.INFLUX_TOKEN && env.INFLUX_USERNAME) {
        ctx.addIssue({
          code: 'custom',
          path: ['INFLUX_TOKEN'],
          message: 'set INFLUX_TOKEN or INFLUX_USERNAME, not both',
        });
      }
      // Runs even when another variable already failed (zod skips refinements then), so every problem is
      // reported at once. It reads only optional strings, so a partly parsed object is safe here.
    },
    { when: () => true },
  );

export interface Config {
  readonly host: string;
  readonly mqtt: {
    readonly port: number;
    readonly wsPort: number | undefined;
    readonly tls: { readonly certFile: string; readonly keyFile: string } | undefined;
    readonly maxPacketBytes: number;
    /** Connections come through a load balancer that names each device's address (PROXY protocol). */
    readonly proxyProtocol: boolean;
    /** Failed CONNECTs that start a block, per client address and per user name. */
    readonly authFailures: { readonly perAddress: number; readonly perUser: number };
    readonly topicPrefix: string;
  };
  /** PostgreSQL for the shared state; undefined: SQLite files in the data folder. */
  readonly databaseUrl: string | undefined;
  /** A node of a cluster (CITY_REDIS_URL); undefined: a single node. */
  readonly cluster: { readonly redisUrl: string; readonly nodeId: string } | undefined;
  readonly api: { readonly port: number; readonly adminToken: string | undefined };
  readonly dataDir: string;
  readonly spoolMaxBytes: number;
  readonly deadLettersMaxBytes: number;
  readonly stopDrainMs: number;
  readonly seedFleet: boolean;
  /** The routing file, read again on change when the rules are (CITY_RULES_WATCH). */
  readonly routingFile: string;
  /** E-mail receivers' SMTP server (none: e-mail deliveries fail, saying so) and sender. */
  readonly smtp: { readonly url: string | undefined; readonly from: string };
  /** The platform's address as people reach it: notifications link to alerts under it. */
  readonly publicUrl: string;
  /** The city's time zone (IANA). */
  readonly timeZone: string;
  /** The console map's base map. */
  readonly map: { readonly tiles: string; readonly attribution: string };
  /** Console sessions: how long they last; their cookie is Secure when CITY_PUBLIC_URL is https. */
  readonly sessions: { readonly ttlMs: number; readonly secureCookie: boolean };
  /** Notification delivery: attempts before a delivery is dead, and each send's timeout. */
  readonly notify: { readonly maxAttempts: number; readonly timeoutMs: number };
  /** Commands to devices: how long a reading may take to show a command carried out. */
  readonly commands: { readonly checkWindowMs: number };
  /** Seeded into the registry at every start (missing agencies only). */
  readonly agenciesFile: string | undefined;
  readonly rules: { readonly dir: string; readonly watch: boolean; readonly tickMs: number };
  readonly health: { readonly intervalMs: number; readonly statusIntervalMs: number };
  readonly logLevel: z.infer<typeof Env>['CITY_LOG_LEVEL'];
  readonly logFormat: z.infer<typeof Env>['CITY_LOG_FORMAT'];
  readonly influx: {
    /** undefined: start a local influxd. */
    readonly url: string | undefined;
    readonly db: string;
    readonly retentionPolicy: string | undefined;
    readonly retention: string;
    readonly token: string | undefined;
    readonly username: string | undefined;
    readonly password: string | undefined;
    readonly localPort: number;
  };
}

export const PLATFORM_ERRORS = {
  PLATFORM_ERR_CONFIG:
    'the environment does not configure a platform that can start; every problem is listed',
} as const;

export class ConfigError extends CodedError<keyof typeof PLATFORM_ERRORS> {
  override readonly name = 'ConfigError';
  readonly problems: readonly string[];
  constructor(problems: string[]) {
    super('PLATFORM_ERR_CONFIG', `invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.problems = problems;
  }
}

/** Parses the environment; throws a ConfigError listing every problem at once. */
export function loadConfig(env: Readonly<Record<string, string | undefined>>): Config {
  const parsed = Env.safeParse(env);
  if (!parsed.success) {
    throw new ConfigError(
      parsed.error.issues.map((i) => `${i.path.join('.') || 'environment'}: ${i.message}`),
    );
  }
  const e = parsed.data;
  return deepFreeze({
    host: e.CITY_HOST,
    mqtt: {
      port: e.CITY_MQTT_PORT,
      wsPort: e.CITY_MQTT_WS_PORT,
      tls:
        e.CITY_MQTT_TLS_CERT && e.CITY_MQTT_TLS_KEY
          ? { certFile: e.CITY_MQTT_TLS_CERT, keyFile: e.CITY_MQTT_TLS_KEY }
          : undefined,
      maxPacketBytes: e.CITY_MAX_PACKET_BYTES,
      proxyProtocol: e.CITY_MQTT_PROXY_PROTOCOL,
      authFailures: {
        perAddress: e.CITY_MQTT_AUTH_FAILURES_PER_ADDRESS,
        perUser: e.CITY_MQTT_AUTH_FAILURES_PER_USER,
      },
      topicPrefix: e.CITY_TOPIC_PREFIX,
    },
    databaseUrl: e.CITY_DATABASE_URL,
    cluster:
      e.CITY_REDIS_URL && e.CITY_NODE_ID ? { redisUrl: e.CITY_REDIS_URL, nodeId: e.CITY_NODE_ID } : undefined,
    api: { port: e.CITY_API_PORT, adminToken: e.CITY_ADMIN_TOKEN },
    dataDir: path.resolve(e.CITY_DATA_DIR),
    spoolMaxBytes: e.CITY_SPOOL_MAX_BYTES,
    deadLettersMaxBytes: e.CITY_DEAD_LETTERS_MAX_BYTES,
    stopDrainMs: e.CITY_STOP_DRAIN_MS,
    seedFleet: e.CITY_SEED_FLEET,
    agenciesFile: e.CITY_AGENCIES_FILE === '' ? undefined : path.resolve(e.CITY_AGENCIES_FILE),
    rules: { dir: path.resolve(e.CITY_RULES_DIR), watch: e.CITY_RULES_WATCH, tickMs: e.CITY_RULES_TICK_MS },
    routingFile: path.resolve(e.CITY_ROUTING_FILE),
    smtp: { url: e.CITY_SMTP_URL, from: e.CITY_SMTP_FROM },
    publicUrl: e.CITY_PUBLIC_URL.replace(/\/+$/, ''),
    timeZone: e.CITY_TIMEZONE,
    notify: { maxAttempts: e.CITY_NOTIFY_MAX_ATTEMPTS, timeoutMs: e.CITY_NOTIFY_TIMEOUT_MS },
    commands: { checkWindowMs: e.CITY_COMMAND_CHECK_S * 1000 },
    map: { tiles: e.CITY_MAP_TILES, attribution: e.CITY_MAP_ATTRIBUTION },
    sessions: {
      ttlMs: Math.round(e.CITY_SESSION_HOURS * 3_600_000),
      secureCookie: e.CITY_PUBLIC_URL.startsWith('https:'),
    },
    health: { intervalMs: e.CITY_HEALTH_INTERVAL_MS, statusIntervalMs: e.CITY_STATUS_INTERVAL_MS },
    logLevel: e.CITY_LOG_LEVEL,
    logFormat: e.CITY_LOG_FORMAT,
    influx: {
      url: e.INFLUX_URL,
      db: e.INFLUX_DB,
      retentionPolicy: e.INFLUX_RP,
      retention: e.INFLUX_RETENTION,
      token: e.INFLUX_TOKEN,
      username: e.INFLUX_USERNAME,
      password: e.INFLUX_PASSWORD,
      localPort: e.INFLUX_LOCAL_PORT,
    },
  });
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null) {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}
