// Node-RED's configuration from the environment (README, "Node-RED"), parsed once with every problem
// reported together, like platform/config.ts. Pure: the start command reads the demo's files and passes
// their text in, so every case is unit-tested without a disk.
import path from 'node:path';
import { z } from 'zod';
import { CodedError } from '../../errors/index.ts';

const port = (fallback: number) => z.coerce.number().int().min(0).max(65_535).default(fallback);
const optionalText = z
  .string()
  .optional()
  .transform((v) => (v === undefined || v.trim() === '' ? undefined : v.trim()));
const optionalUrl = optionalText.pipe(z.url().optional());

/** Every variable, its default, and why. */
export const NodeRedEnv = z.object({
  /** The editor and the flows' HTTP endpoints: Node-RED's own default port. */
  CITY_NODE_RED_PORT: port(1880),
  /** Loopback by default: the editor can change every flow, so it is not on the network unless asked. */
  CITY_NODE_RED_HOST: z.string().min(1).default('127.0.0.1'),
  /** bcrypt hash of the editor's `admin` password (`npx node-red admin hash-pw`); required off loopback. */
  CITY_NODE_RED_ADMIN_HASH: optionalText,
  /** Key of the credentials file in the user folder; unset, Node-RED makes one and keeps it there. */
  CITY_NODE_RED_CREDENTIAL_SECRET: optionalText,
  /** The user folder is `<CITY_DATA_DIR>/node-red`: the flows, their credentials and context live there. */
  CITY_DATA_DIR: z.string().default('./var'),
  CITY_MQTT_PORT: port(1883),
  /** The platform's broker; unset: the local platform on CITY_MQTT_PORT. */
  CITY_MQTT_URL: optionalUrl,
  CITY_API_PORT: port(8080),
  /** The platform's HTTP API, for `device info`; unset: the local platform on CITY_API_PORT. */
  CITY_API_URL: optionalUrl,
  CITY_TOPIC_PREFIX: z.string().min(1).default('city'),
  /** The registry's service account the flows use (the Huế fleet seeds `node-red`). */
  CITY_NODE_RED_ACCOUNT: z
    .string()
    .regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/, 'a service account id')
    .default('node-red'),
  /** Its secret; unset: the one `npm run demo` keeps in `<CITY_DATA_DIR>/fleet-credentials.json`. */
  CITY_NODE_RED_SECRET: optionalText,
  /** An API token for `device info` (a viewer token is enough); unset: CITY_ADMIN_TOKEN, then the demo's. */
  CITY_NODE_RED_API_TOKEN: optionalText,
  CITY_ADMIN_TOKEN: optionalText,
  CITY_LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
});

/** The files `npm run demo` leaves in the data folder, read by the start command when they exist. */
export interface DemoFiles {
  /** `<data dir>/fleet-credentials.json`: `[{ id, type, secret }]`. */
  readonly fleetCredentials?: string | undefined;
  /** `<data dir>/admin-token`. */
  readonly adminToken?: string | undefined;
}

export const FLEET_CREDENTIALS_FILE = 'fleet-credentials.json';
export const ADMIN_TOKEN_FILE = 'admin-token';

const KeptCredentials = z.array(z.object({ id: z.string(), secret: z.string().min(1) }));

export interface NodeRedConfig {
  readonly host: string;
  readonly port: number;
  readonly dataDir: string;
  readonly userDir: string;
  readonly adminHash: string | undefined;
  readonly credentialSecret: string | undefined;
  readonly logLevel: z.infer<typeof NodeRedEnv>['CITY_LOG_LEVEL'];
  /** What the `city-platform` config node takes for each setting left empty in the editor. */
  readonly platform: {
    readonly mqttUrl: string;
    readonly account: string;
    readonly secret: string;
    readonly prefix: string;
    readonly apiUrl: string;
    readonly apiToken: string | undefined;
  };
  /** Things that work without, said once at start (no API token: `device info` cannot look up). */
  readonly warnings: readonly string[];
}

export const NODE_RED_ERRORS = {
  NODE_RED_ERR_CONFIG:
    'the environment does not configure a Node-RED that can start; every problem is listed',
} as const;

export class NodeRedConfigError extends CodedError<keyof typeof NODE_RED_ERRORS> {
  override readonly name = 'NodeRedConfigError';
  readonly problems: readonly string[];
  constructor(problems: string[]) {
    super('NODE_RED_ERR_CONFIG', `Node-RED cannot start:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.problems = problems;
  }
}

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '::1']);

/** Parses the environment and the demo's files; throws a NodeRedConfigError listing every problem. */
export function loadNodeRedConfig(
  env: Readonly<Record<string, string | undefined>>,
  files: DemoFiles = {},
): NodeRedConfig {
  const parsed = NodeRedEnv.safeParse(env);
  if (!parsed.success) {
    throw new NodeRedConfigError(
      parsed.error.issues.map((i) => `${i.path.join('.') || 'environment'}: ${i.message}`),
    );
  }
  const e = parsed.data;
  const dataDir = path.resolve(e.CITY_DATA_DIR);
  const problems: string[] = [];
  const kept = keptSecret(files.fleetCredentials, e.CITY_NODE_RED_ACCOUNT, problems);
  const secret = e.CITY_NODE_RED_SECRET ?? kept;
  if (secret === undefined) {
    problems.push(
      `no secret for the service account "${e.CITY_NODE_RED_ACCOUNT}": set CITY_NODE_RED_SECRET to the ` +
        'secret issued when the account was provisioned, or run `npm run demo` once with the same ' +
        `CITY_DATA_DIR (it keeps the fleet's secrets in ${path.join(dataDir, FLEET_CREDENTIALS_FILE)})`,
    );
  }
  if (!LOOPBACK.has(e.CITY_NODE_RED_HOST) && e.CITY_NODE_RED_ADMIN_HASH === undefined) {
    problems.push(
      `CITY_NODE_RED_HOST is ${e.CITY_NODE_RED_HOST}, but the editor has no login: set ` +
        'CITY_NODE_RED_ADMIN_HASH (`npx node-red admin hash-pw`) or keep it on 127.0.0.1',
    );
  }
  if (problems.length > 0 || secret === undefined) throw new NodeRedConfigError(problems);

  const apiToken = e.CITY_NODE_RED_API_TOKEN ?? e.CITY_ADMIN_TOKEN ?? optional(files.adminToken);
  const warnings =
    apiToken === undefined
      ? [
          'no API token: `device info` nodes cannot look devices up; set CITY_NODE_RED_API_TOKEN ' +
            '(a viewer token, from POST /api/tokens)',
        ]
      : [];
  return Object.freeze({
    host: e.CITY_NODE_RED_HOST,
    port: e.CITY_NODE_RED_PORT,
    dataDir,
    userDir: path.join(dataDir, 'node-red'),
    adminHash: e.CITY_NODE_RED_ADMIN_HASH,
    credentialSecret: e.CITY_NODE_RED_CREDENTIAL_SECRET,
    logLevel: e.CITY_LOG_LEVEL,
    platform: Object.freeze({
      mqttUrl: e.CITY_MQTT_URL ?? `mqtt://127.0.0.1:${e.CITY_MQTT_PORT}`,
      account: e.CITY_NODE_RED_ACCOUNT,
      secret,
      prefix: e.CITY_TOPIC_PREFIX,
      apiUrl: e.CITY_API_URL ?? `http://127.0.0.1:${e.CITY_API_PORT}`,
      apiToken,
    }),
    warnings: Object.freeze(warnings),
  });
}

/** The account's secret in the demo's credentials file, if the file is there and names it. */
function keptSecret(text: string | undefined, account: string, problems: string[]): string | undefined {
  if (text === undefined) return undefined;
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    problems.push(`${FLEET_CREDENTIALS_FILE} is not JSON`);
    return undefined;
  }
  const list = KeptCredentials.safeParse(json);
  if (!list.success) {
    problems.push(`${FLEET_CREDENTIALS_FILE} is not a list of { id, secret }`);
    return undefined;
  }
  return list.data.find((c) => c.id === account)?.secret;
}

function optional(text: string | undefined): string | undefined {
  const t = text?.trim();
  return t === undefined || t === '' ? undefined : t;
}

/** One line of Node-RED's log (its levels are 10 fatal … 60 trace, 98 audit, 99 metric). */
export interface NodeRedLogEvent {
  readonly level: number;
  readonly msg?: unknown;
  readonly type?: string;
  readonly id?: string;
  readonly name?: string;
}

export const FLOW_FILE = 'flows.json';
/** The palette section of this project's nodes, first in the editor. */
const PALETTE = ['city', 'common', 'function', 'network', 'sequence', 'parser', 'storage'];

/**
 * The settings `RED.init` takes. The service account's secret and the API token go to the config node
 * through `cityPlatform`, in memory: never into a flow file or the user folder.
 */
export function nodeRedSettings(
  config: NodeRedConfig,
  deps: { readonly nodesDir: string; readonly log: (event: NodeRedLogEvent) => void },
): Record<string, unknown> {
  return {
    userDir: config.userDir,
    flowFile: FLOW_FILE,
    flowFilePretty: true,
    nodesDir: [deps.nodesDir],
    httpAdminRoot: '/',
    httpNodeRoot: '/',
    ...(config.credentialSecret === undefined ? {} : { credentialSecret: config.credentialSecret }),
    ...(config.adminHash === undefined
      ? {}
      : {
          adminAuth: {
            type: 'credentials',
            users: [{ username: 'admin', password: config.adminHash, permissions: '*' }],
          },
        }),
    // A flow's state (the last hour of rain, the day's readings so far) survives a restart: flushed to
    // the user folder every 30 s and at stop.
    contextStorage: { default: { module: 'localfilesystem' } },
    // Node-RED's log lines go to the project's logger only (Node-RED's levels are named as pino's).
    logging: {
      pino: { level: config.logLevel === 'silent' ? 'off' : config.logLevel, handler: () => deps.log },
    },
    telemetry: { enabled: false, updateNotification: false },
    diagnostics: { enabled: false, ui: false },
    editorTheme: {
      page: { title: 'City telemetry · Node-RED' },
      header: { title: 'City telemetry · Node-RED' },
      palette: { categories: PALETTE },
      projects: { enabled: false },
      tours: false,
    },
    cityPlatform: { ...config.platform },
  };
}
