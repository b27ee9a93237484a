// For the API's integration tests: a real registry, dead-letter store and alert store in a temporary
// folder, a fresh database in the test run's influxd, the API over them, and one token per role.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { pino } from 'pino';
import { expect } from 'vitest';
import { encodeLine, encodeTags } from '../../influx/index.ts';
import { localDeadLetterReader, openDeadLetters, type DeadLetterStore } from '../../ingest/index.ts';
import {
  createTopics,
  openRegistry,
  type ApiRole,
  type DeviceInput,
  type Registry,
} from '../../devices/index.ts';
import { loadRuleFiles, createRuleOperations, readRuleFolder } from '../../rules/index.ts';
import { freshDatabase, type FreshDatabase } from './influx.ts';
import {
  API_ERRORS,
  createApi,
  ErrorBody,
  type Api,
  type ApiDeps,
  type HealthReport,
} from '../../api/index.ts';
import type { ApiAlerts, ApiRules } from '../../api/route-kit.ts';
import type { ApiRouting } from '../../api/routing-routes.ts';
import { openNotifyStore, parseRouting, planAlert, sqliteSilences } from '../../notify/index.ts';
import { createCommandService, openCommandStore } from '../../commands/index.ts';
import { createAlertService, openAlertStore, type AlertService } from '../../alerts/index.ts';

export interface Harness {
  readonly api: Api;
  readonly registry: Registry;
  readonly deadLetters: DeadLetterStore;
  readonly db: FreshDatabase;
  readonly tokens: Readonly<Record<ApiRole, string>>;
  readonly decommissioned: string[];
  /** The ids whose MQTT connections the API asked to close, in order. */
  readonly disconnected: string[];
  /** How often the API said the agencies changed (the platform then reloads the rules). */
  readonly agencyChanges: { count: number };
  /** The real alert service over a store in the temporary folder; the API is given the same one. */
  readonly alerts: AlertService;
  /** How many listeners the API has subscribed to the alert service right now (one per open stream). */
  alertListeners(): number;
  /** Sends a request through app.inject() with the role's token (none when `as` is undefined). */
  request(
    options: RequestOptions,
  ): Promise<{ status: number; body: unknown; headers: Record<string, unknown> }>;
  /** Writes readings into the test database as line protocol (precision ms). */
  write(
    measurement: string,
    tags: Record<string, string>,
    points: Array<[number, Record<string, number | boolean>]>,
  ): Promise<void>;
  close(): Promise<void>;
}

export interface RequestOptions {
  readonly method?: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  readonly url: string;
  readonly as?: ApiRole | undefined;
  readonly body?: unknown;
  readonly headers?: Record<string, string>;
}

export const ADMIN_TOKEN = 'admin-token-for-tests-0123456789';
/** 12:00 UTC on 27 October 2025, the day Kim Long peaked near 5.05 m (docs/hue-places.md). */
export const NOW = Date.UTC(2025, 9, 27, 12, 0, 0);

export interface HarnessOptions {
  readonly health?: () => Promise<HealthReport>;
  readonly metricsText?: () => Promise<string>;
  readonly host?: string;
  /** The backtest behind POST /api/rules/backtest; without it the route answers 500. */
  readonly backtest?: ApiRules['backtest'];
}

/** The Huế rule files (rules/hue): the rules in force for GET /api/rules. */
export const HUE_RULES_DIR = fileURLToPath(new URL('../../rules/hue/', import.meta.url));

async function hueRules(backtest: ApiRules['backtest'] | undefined): Promise<ApiRules> {
  const loaded = loadRuleFiles(await readRuleFolder(HUE_RULES_DIR));
  if (!loaded.ok) throw new Error(`the Huế rule files do not load: ${JSON.stringify(loaded.problems)}`);
  const operations = createRuleOperations(() => loaded.rules, undefined);
  return backtest === undefined ? operations : { ...operations, backtest };
}

/** Every alert to its owner's receivers: the routing /api/routing serves here (its own tests are
 * test/routing.test.ts, against the platform). */
function ownerRouting(registry: Registry): ApiRouting {
  const parsed = parseRouting('routes:\n  - receivers: [$owner]\n', 'routing.yaml', new Map());
  if (!parsed.ok) throw new Error('the harness routing does not parse');
  const agencies = () => new Map(registry.listAgencies().map((a) => [a.id, a]));
  return {
    routing: () => parsed.routing,
    status: () => ({ file: 'routing.yaml', loadedAt: new Date(NOW).toISOString(), routes: 1, problems: [] }),
    plan: (alert) => planAlert(parsed.routing, agencies(), alert),
  };
}

/** The service as the API sees it, counting the listeners it holds, so a test can see one go. */
function countingListeners(service: AlertService): { alerts: ApiAlerts; count: () => number } {
  let count = 0;
  const alerts: ApiAlerts = {
    list: service.list,
    listOpen: service.listOpen,
    get: service.get,
    acknowledge: (id, by, note) => service.acknowledge(id, by, note),
    resolve: (id, by, note) => service.resolve(id, by, note),
    responseTimes: service.responseTimes,
    subscribe(listener) {
      const unsubscribe = service.subscribe(listener);
      count += 1;
      let subscribed = true;
      return () => {
        if (subscribed) count -= 1;
        subscribed = false;
        return unsubscribe();
      };
    },
  };
  return { alerts, count: () => count };
}

export async function startHarness(name: string, options: HarnessOptions = {}): Promise<Harness> {
  const dir = await mkdtemp(join(tmpdir(), `city-api-${name}-`));
  const registry = await openRegistry({ file: join(dir, 'registry.db'), clock: () => NOW });
  const deadLetters = openDeadLetters({ file: join(dir, 'dead-letters.db') });
  const db = await freshDatabase(`api_${name}`);
  const decommissioned: string[] = [];
  const disconnected: string[] = [];
  const agencyChanges = { count: 0 };
  const log = pino({ level: 'silent' });
  const alertStore = openAlertStore({ file: join(dir, 'alerts.db'), log, clock: () => NOW });
  const alertService = createAlertService({ store: alertStore, log, clock: () => NOW });
  const counted = countingListeners(alertService);
  const notifyStore = openNotifyStore(join(dir, 'notify.db'));
  // Commands over a real store; no broker here, so no device listens and every command stays queued.
  const commandStore = openCommandStore(join(dir, 'commands.db'));
  const commands = createCommandService({
    store: commandStore,
    devices: registry,
    topics: createTopics('city'),
    publish: () => Promise.resolve(),
    listening: () => false,
    append: (_text, _lines, done) => done(),
    deadLetter: (ack) => deadLetters.record({ ...ack, at: NOW }),
    checkWindowMs: 600_000,
    clock: () => NOW,
    log,
  });
  const deps: ApiDeps = {
    log,
    registry,
    influx: db.client,
    deadLetters: localDeadLetterReader(deadLetters),
    health: options.health ?? (async () => ({ ok: (await db.client.ping()).ok })),
    metricsText: options.metricsText ?? (() => Promise.resolve('# no metrics\n')),
    onDecommission: (id) => decommissioned.push(id),
    disconnect: (id) => disconnected.push(id),
    onAgenciesChanged: () => void agencyChanges.count++,
    clock: () => NOW,
    alerts: counted.alerts,
    rules: await hueRules(options.backtest),
    routing: ownerRouting(registry),
    deliveries: notifyStore,
    silences: sqliteSilences(notifyStore),
    commands,
    // The console's routes with no console built: its settings, and / and /console/ saying how to build it.
    console: {
      dir: join(dir, 'console-not-built'),
      settings: {
        map: {
          tiles: 'https://tile.openstreetmap.org/{z}/{x}/{y}.png',
          attribution: '© OpenStreetMap contributors',
        },
        timeZone: 'Asia/Ho_Chi_Minh',
      },
    },
  };
  const api = await createApi({ host: options.host ?? '127.0.0.1', port: 0, adminToken: ADMIN_TOKEN }, deps);
  const tokens: Record<ApiRole, string> = {
    viewer: await registry.createApiToken('viewer', 'test viewer'),
    operator: await registry.createApiToken('operator', 'test operator'),
    engineer: await registry.createApiToken('engineer', 'test engineer'),
    admin: ADMIN_TOKEN,
  };

  return {
    api,
    registry,
    deadLetters,
    db,
    tokens,
    decommissioned,
    disconnected,
    agencyChanges,
    alerts: alertService,
    alertListeners: counted.count,
    async request({ method = 'GET', url, as, body, headers = {} }) {
      const auth = as === undefined ? {} : { authorization: `Bearer ${tokens[as]}` };
      const json = body === undefined ? {} : { 'content-type': 'application/json' };
      const res = await api.app.inject({
        method,
        url,
        headers: { ...json, ...auth, ...headers },
        ...(body === undefined ? {} : { payload: JSON.stringify(body) }),
      });
      const type = String(res.headers['content-type'] ?? '');
      return {
        status: res.statusCode,
        body: type.includes('json') ? res.json() : res.body,
        headers: res.headers,
      };
    },
    async write(measurement, tags, points) {
      const encoded = encodeTags(tags);
      await db.client.write(
        points.map(([time, fields]) => encodeLine(measurement, encoded, fields, time)).join('\n'),
      );
    },
    async close() {
      await api.close();
      await registry.close();
      deadLetters.close();
      await alertStore.close();
      await notifyStore.close();
      await commandStore.close();
      await db.drop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

// Devices of the Huế fleet (docs/hue-places.md): the Kim Long river gauge, an air station on the south bank
// and an LED lamp on Lê Lợi.
export const KIM_LONG: DeviceInput = {
  id: 'flood-kim-long',
  kind: 'flood',
  name: 'Kim Long gauge',
  district: 'Kim Long',
  location: { lat: 16.455, lon: 107.56 },
  meta: {
    type: 'river',
    station: 'Kim Long',
    river: 'Hương',
    national_id: '71520',
    alarm_levels_m: [1.0, 2.0, 3.5],
  },
};

export const HUNG_VUONG: DeviceInput = {
  id: 'aq-hung-vuong',
  kind: 'air_quality',
  name: 'Air station 83 Hùng Vương',
  district: 'Thuận Hóa',
  location: { lat: 16.457, lon: 107.578 },
  meta: { address: '83 Hùng Vương' },
};

export const LE_LOI_LAMP: DeviceInput = {
  id: 'sl-le-loi-001',
  kind: 'streetlight',
  name: 'Lê Lợi lamp 1',
  district: 'Thuận Hóa',
  location: { lat: 16.468, lon: 107.589 },
  meta: { street: 'Lê Lợi', rated_w: 150 },
};

/** The error of an answer, checked to have its code's status (api/errors.ts). */
export function errorOf(res: { status: number; body: unknown }) {
  const { error } = ErrorBody.parse(res.body);
  expect(res.status).toBe(API_ERRORS[error.code].status);
  return error;
}

/** Raises an alert on the Kim Long gauge (provisioned first): a river past its alarm level 1. */
export async function raiseKimLongAlert(h: Pick<Harness, 'registry' | 'alerts'>): Promise<number> {
  await h.registry.provisionDevice(KIM_LONG);
  const change = await h.alerts.trigger({
    type: 'raise',
    rule: 'river-alarm-level',
    device: KIM_LONG.id,
    kind: 'flood',
    district: 'Kim Long',
    owner: 'flood-control',
    title: 'Hương river at Kim Long above alarm level 1',
    severity: 'warning',
    message: 'water level 3.2 m ≥ 3 m',
    value: 3.2,
    threshold: 3,
    level: 1,
    at: NOW,
    source: 'rule',
  });
  return change!.alert.id;
}
