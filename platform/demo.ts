// `npm run demo`: the platform with the simulated Huế fleet. Seeds the registry, keeps the fleet's
// secrets in the data folder (they are stored only as hashes in the registry), backfills the last 24 hours
// on the first run so the dashboards have history, then keeps the fleet publishing live. A demo admin
// is made for the console on the first run, their password kept beside the fleet's secrets.
import crypto from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from 'pino';
import { createTopics, loadFleet, type Fleet, type Registry } from '../devices/index.ts';
import { createFleetSimulator, loadCredentials, toSimFleet, type Credential } from '../simulators/index.ts';
import { readCommandLine } from '../cli/index.ts';
import { ConfigError, loadConfig, type Config } from './config.ts';
import { loadDemoSettings } from './demo-settings.ts';
import { createLogger } from './log.ts';
import { startPlatform } from './platform.ts';
import { stopOnSignals } from './run.ts';
import { startupAdvice } from './startup-errors.ts';

const BACKFILL_HOURS = 24;

/** Read first; the advice on a failed start names its settings. */
let config: Config | undefined;

const USAGE = `usage: npm run demo
  the whole platform with the simulated Huế fleet: installs what is missing, seeds the registry, backfills
  the last 24 hours on the first run, then keeps the fleet publishing live. It takes no options: it is
  configured by the environment: CITY_DEMO_SCENARIO and CITY_DEMO_SPEEDUP (README, "Two commands"), and
  the platform's settings (README, "Configuration").`;

async function main(): Promise<void> {
  readCommandLine({ usage: USAGE });
  // The demo's settings and the platform's are checked together, every problem of both listed at once.
  const checked = checkBoth(
    () => loadDemoSettings(process.env),
    () => loadConfig({ ...process.env, CITY_SEED_FLEET: 'true', CITY_ADMIN_TOKEN: 'checked-later' }),
  );
  const demo = checked[0];
  const dataDir = checked[1].dataDir;
  await fs.mkdir(dataDir, { recursive: true });
  config = loadConfig({
    ...process.env,
    CITY_SEED_FLEET: 'true',
    CITY_ADMIN_TOKEN: process.env.CITY_ADMIN_TOKEN ?? (await keptSecret(path.join(dataDir, 'admin-token'))),
  });
  const log = createLogger(config.logLevel, { format: config.logFormat });
  const platform = await startPlatform(config, { log });
  const fleet = await loadFleet();
  const credentials = await fleetCredentials(platform.registry, fleet, dataDir, platform.seeded, log);

  const { devices, gateways } = toSimFleet(fleet, credentials);
  const host = config.host === '0.0.0.0' ? '127.0.0.1' : config.host;
  const sim = await createFleetSimulator({
    url: `mqtt://${host}:${platform.mqttPort}`,
    devices,
    gateways,
    topics: createTopics(config.mqtt.topicPrefix),
    log: log.child({ component: 'simulators' }),
    ...demo,
  });
  stopOnSignals(platform, log, [() => sim.close()]);

  const marker = path.join(dataDir, 'backfilled');
  if (!(await exists(marker))) {
    log.info({ hours: BACKFILL_HOURS, devices: devices.length }, 'backfilling history (first run only)');
    const { messages } = await sim.backfill({ hours: BACKFILL_HOURS });
    await fs.writeFile(marker, new Date().toISOString());
    log.info({ messages }, 'backfill done');
  }
  sim.start();
  const operator = await demoUser(platform.registry, dataDir);

  const api = `http://${host}:${platform.apiPort}`;
  process.stdout.write(
    [
      '',
      `  The Huế fleet is live: ${devices.length} devices, ${gateways.length} gateway(s).`,
      `  MQTT      mqtt://${host}:${platform.mqttPort}`,
      `  Console   ${api}/console/   (user ${operator.username}, password ${operator.password})`,
      `  API       ${api}/api/devices   (Authorization: Bearer ${config.api.adminToken ?? ''})`,
      `  Docs      ${api}/docs`,
      `  Health    ${api}/health   Metrics ${api}/metrics`,
      `  InfluxDB  ${platform.influxUrl}  database "${config.influx.db}"`,
      `  Secrets   ${path.join(dataDir, 'fleet-credentials.json')}`,
      '  Ctrl-C stops it; the spool is written out first.',
      '',
    ].join('\n') + '\n',
  );
}

/**
 * The demo's user for the console, an admin so that every page shows (users, refused messages): made on
 * the first run, then read back from the data folder.
 */
async function demoUser(
  registry: Registry,
  dataDir: string,
): Promise<{ username: string; password: string }> {
  const file = path.join(dataDir, 'demo-operator.json');
  const saved = await fs.readFile(file, 'utf8').then(
    (text) => JSON.parse(text) as { username: string; password: string },
    () => undefined,
  );
  const existing = saved === undefined ? undefined : registry.users.get(saved.username);
  if (saved !== undefined && existing !== undefined) {
    if (existing.role !== 'admin') await registry.users.update(saved.username, { role: 'admin' });
    return saved;
  }
  const operator = { username: 'demo', password: crypto.randomBytes(12).toString('base64url') };
  if (registry.users.get(operator.username) !== undefined) await registry.users.remove(operator.username);
  await registry.users.create({ ...operator, name: 'Demo admin', role: 'admin' });
  await fs.writeFile(file, JSON.stringify(operator), { mode: 0o600 });
  return operator;
}

/** Both results, or one ConfigError with the problems of both. */
function checkBoth<A, B>(a: () => A, b: () => B): [A, B] {
  const problems: string[] = [];
  const attempt = <T>(load: () => T): T | undefined => {
    try {
      return load();
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err;
      problems.push(...err.problems);
      return undefined;
    }
  };
  const first = attempt(a);
  const second = attempt(b);
  if (problems.length > 0 || first === undefined || second === undefined) throw new ConfigError(problems);
  return [first, second];
}

/** A random secret kept in a file (mode 0600), so it stays the same from one run to the next. */
async function keptSecret(file: string): Promise<string> {
  try {
    return (await fs.readFile(file, 'utf8')).trim();
  } catch {
    const secret = crypto.randomBytes(24).toString('base64url');
    await fs.writeFile(file, secret, { mode: 0o600 });
    return secret;
  }
}

/**
 * The fleet's secrets: those issued by this start's seeding, those kept from earlier runs, and new ones
 * (rotated) for members whose secret was lost — the registry holds only hashes.
 */
async function fleetCredentials(
  registry: Registry,
  fleet: Fleet,
  dataDir: string,
  seeded: readonly Credential[],
  log: Logger,
): Promise<Credential[]> {
  const file = path.join(dataDir, 'fleet-credentials.json');
  const known = new Map<string, Credential>();
  if (await exists(file)) for (const c of await loadCredentials(file)) known.set(c.id, c);
  for (const c of seeded) known.set(c.id, c);
  const members: Array<Pick<Credential, 'id' | 'type'>> = [
    ...fleet.gateways.map((g) => ({ id: g.id, type: 'gateway' as const })),
    ...fleet.devices.filter((d) => !d.gateway).map((d) => ({ id: d.id, type: 'device' as const })),
  ];
  let rotated = 0;
  for (const m of members) {
    if (known.has(m.id)) continue;
    known.set(m.id, { ...m, secret: await registry.rotateSecret(m.id) });
    rotated++;
  }
  if (rotated > 0) log.warn({ rotated }, 'issued new secrets for fleet members whose secret was not kept');
  const all = [...known.values()];
  await fs.writeFile(file, JSON.stringify(all, null, 2), { mode: 0o600 });
  return all;
}

async function exists(file: string): Promise<boolean> {
  return fs.access(file).then(
    () => true,
    () => false,
  );
}

main().catch((err: unknown) => {
  if (err instanceof ConfigError) {
    process.stderr.write(`${err.message}\nSee the README, "Two commands" and "Configuration".\n`);
    process.exit(2);
  }
  process.stderr.write(`the demo could not start: ${startupAdvice(err, config)}\n`);
  process.exit(1);
});
