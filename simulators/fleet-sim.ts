// The fleet simulator: every device (or its gateway) on its own MQTT connection, publishing what its
// model says, live or as a backfill of the past hours, with the occasional lost connection. Devices obey
// the platform's commands as real controllers do: a lamp dims, switches and follows a schedule, a gauge
// reports at the interval it is given, each answers on its ack topic (a gateway for its children), and a
// lamp reports at once after a change, so that the platform's check of the result sees it.
import type { Logger } from 'pino';
import { COMMAND_KINDS, CommandSpec, type Kind, type Topics } from '../devices/index.ts';
import { SimError } from './errors.ts';
import { createLink, type Link } from './fleet-link.ts';
import {
  createDeviceModel,
  hashSeed,
  HOUR_MS,
  liveScenarioMs,
  mulberry32,
  newLampControl,
  type LampControl,
  type Model,
  type Scenario,
  type SimInstant,
  type StoryRole,
} from './models/index.ts';
import { devicePayload, gatewayPack, type GatewayChildReading } from './payloads.ts';

export interface SimDevice {
  readonly id: string;
  readonly kind: Kind;
  readonly location: { readonly lat: number; readonly lon: number };
  /** Registry metadata of the kind (flood: gauge type and alarms; streetlight: rated power). */
  readonly meta?: unknown;
  /** The device's own MQTT secret; not needed when it reports through a gateway. */
  readonly secret?: string;
  /** The gateway that carries this device's readings as SenML. */
  readonly gateway?: string;
}

export interface SimGateway {
  readonly id: string;
  readonly secret: string;
}

export interface DropoutOptions {
  /** Chance, at each interval, that a connected device loses its link. Default 0.0005. */
  readonly probability: number;
  /** How long a lost link stays down, ms of real time. Default 30 s to 5 min. */
  readonly minMs: number;
  readonly maxMs: number;
}

export interface FleetSimulatorOptions {
  readonly url: string;
  readonly devices: readonly SimDevice[];
  readonly gateways?: readonly SimGateway[];
  readonly topics: Topics;
  readonly log: Logger;
  /** Scenario time per real time: 60 plays a two-day flood in under an hour. Timestamps stay real. */
  readonly speedup?: number;
  /** Real time between two live reports of every device. Default 10 s. */
  readonly intervalMs?: number;
  readonly scenario?: Scenario;
  /** Same seed, same fleet and same instants: same readings. Default 1. */
  readonly seed?: number;
  readonly dropout?: Partial<DropoutOptions>;
  readonly faultsPerDay?: number;
  readonly episodesPerDay?: number;
  /** Unacknowledged publishes allowed during a backfill. Default 500. */
  readonly maxInFlight?: number;
  readonly connectTimeoutMs?: number;
  readonly clock?: () => number;
}

export interface BackfillOptions {
  readonly hours: number;
  /** Time between two backfilled readings of a device. Default 5 min. */
  readonly stepMs?: number;
}

export interface FleetStats {
  readonly published: number;
  readonly failed: number;
  readonly dropouts: number;
}

export interface FleetSimulator {
  /** Publishes the past `hours` of readings with their `ts`, in time order; call before `start()`. */
  backfill(opts: BackfillOptions): Promise<{ readonly messages: number }>;
  /** Starts live reporting; the scenario clock starts now. */
  start(): void;
  stats(): FleetStats;
  /** Stops reporting, publishes `offline` and disconnects every link. Safe to call twice. */
  close(): Promise<void>;
}

interface Runner {
  readonly device: SimDevice;
  readonly model: Model<unknown>;
  state: unknown;
  initialised: boolean;
  /** A lamp's controller as commands leave it (its model reads it). */
  readonly control: LampControl;
  /** set_interval: its own time between reports, ms of real time. */
  intervalMs: number | undefined;
}

interface Node {
  readonly link: Link;
  readonly runners: Runner[];
  /** Set for a gateway: its children's readings go out as one SenML pack. */
  readonly gateway: boolean;
  downUntil: number | undefined;
  /** When it reports next (real time). */
  nextAt: number;
}

/** A command that arrived for one of a node's devices. */
type OnCommand = (node: Node, runner: Runner, payload: Buffer) => void;

function positive(name: string, value: number): number {
  if (!Number.isFinite(value) || value <= 0)
    throw new SimError('SIM_ERR_CONFIG', `${name} must be positive, got ${value}`);
  return value;
}

function buildNodes(
  opts: FleetSimulatorOptions,
  seed: number,
  scenario: Scenario,
  onCommand: OnCommand,
): Node[] {
  const connectTimeoutMs = opts.connectTimeoutMs ?? 30_000;
  // The city story's failed lamp is the fleet's first, its overdriven lamp the second.
  const lamps = scenario === 'city' ? opts.devices.filter((d) => d.kind === 'streetlight') : [];
  const roles = new Map<string, StoryRole>();
  if (lamps[0] !== undefined) roles.set(lamps[0].id, 'failed-lamp');
  if (lamps[1] !== undefined) roles.set(lamps[1].id, 'overdriven-lamp');
  // Each link with its runners first: a link subscribes to its devices' commands when it connects.
  const groups = new Map<string, { secret: string | undefined; gateway: boolean; runners: Runner[] }>();
  for (const gw of opts.gateways ?? []) groups.set(gw.id, { secret: gw.secret, gateway: true, runners: [] });
  for (const device of opts.devices) {
    const control = newLampControl();
    let model: Model<unknown>;
    try {
      model = createDeviceModel(device, {
        seed,
        scenario,
        faultsPerDay: opts.faultsPerDay,
        episodesPerDay: opts.episodesPerDay,
        storyRole: roles.get(device.id),
        control,
      });
    } catch (err) {
      throw new SimError('SIM_ERR_CONFIG', `metadata of ${device.id} does not fit its kind`, { cause: err });
    }
    const runner: Runner = {
      device,
      model,
      state: undefined,
      initialised: false,
      control,
      intervalMs: undefined,
    };
    if (device.gateway !== undefined) {
      const gw = groups.get(device.gateway);
      if (!gw?.gateway)
        throw new SimError('SIM_ERR_CONFIG', `${device.id} names unknown gateway ${device.gateway}`);
      gw.runners.push(runner);
      continue;
    }
    if (device.secret === undefined) throw new SimError('SIM_ERR_CONFIG', `${device.id} has no secret`);
    groups.set(device.id, { secret: device.secret, gateway: false, runners: [runner] });
  }
  const nodes: Node[] = [];
  for (const [id, group] of groups) {
    if (group.runners.length === 0) continue;
    const byTopic = new Map(group.runners.map((r) => [opts.topics.commands(r.device.kind, r.device.id), r]));
    const first = group.runners[0]!.device;
    const link = createLink({
      url: opts.url,
      id,
      secret: group.secret!,
      ...(group.gateway ? {} : { statusTopic: opts.topics.status(first.kind, first.id) }),
      log: opts.log,
      connectTimeoutMs,
      subscriptions: [...byTopic.keys()],
      onMessage: (topic, payload) => {
        const runner = byTopic.get(topic);
        if (runner !== undefined) onCommand(node, runner, payload);
      },
    });
    const node: Node = {
      link,
      runners: group.runners,
      gateway: group.gateway,
      downUntil: undefined,
      nextAt: 0,
    };
    nodes.push(node);
  }
  // Devices on their own links first, then the gateways, as before.
  return [...nodes.filter((n) => !n.gateway), ...nodes.filter((n) => n.gateway)];
}

function stepRunner(r: Runner, at: SimInstant): GatewayChildReading {
  if (!r.initialised) {
    r.state = r.model.initial(at);
    r.initialised = true;
  }
  const out = r.model.step(r.state, at);
  r.state = out.state;
  return { id: r.device.id, kind: r.device.kind, fields: out.fields };
}

export async function createFleetSimulator(opts: FleetSimulatorOptions): Promise<FleetSimulator> {
  const speedup = positive('speedup', opts.speedup ?? 1);
  const intervalMs = positive('intervalMs', opts.intervalMs ?? 10_000);
  const maxInFlight = positive('maxInFlight', opts.maxInFlight ?? 500);
  const seed = opts.seed ?? 1;
  const scenario = opts.scenario ?? 'normal';
  const liveAt = liveScenarioMs(scenario);
  const clock = opts.clock ?? Date.now;
  const dropout: DropoutOptions = { probability: 0.0005, minMs: 30_000, maxMs: 300_000, ...opts.dropout };
  const log = opts.log;
  const random = mulberry32(hashSeed(seed, 'dropout'));
  const nodes = buildNodes(opts, seed, scenario, obey);
  const counts = { published: 0, failed: 0, dropouts: 0 };
  let timer: NodeJS.Timeout | undefined;
  let liveStart: number | undefined;
  let closed = false;

  const results = await Promise.allSettled(nodes.map((n) => n.link.connect()));
  const failures = results.flatMap((r): unknown[] => (r.status === 'rejected' ? [r.reason] : []));
  if (failures.length > 0) {
    await Promise.all(nodes.map((n) => n.link.close()));
    throw new SimError('SIM_ERR_CONNECT', `${failures.length} of ${nodes.length} links could not connect`, {
      cause: failures[0],
    });
  }
  log.info({ links: nodes.length, devices: opts.devices.length, scenario, speedup }, 'fleet connected');

  function publish(node: Node, at: SimInstant): Promise<void> {
    // A device with nothing to say (a silent controller) is left out; a link with none sends nothing.
    const readings = node.runners
      .map((r) => stepRunner(r, at))
      .filter((r) => Object.keys(r.fields).length > 0);
    const [first] = readings;
    if (!first) return Promise.resolve();
    const topic = node.gateway
      ? opts.topics.gatewayTelemetry(node.link.id)
      : opts.topics.telemetry(first.kind, first.id);
    const payload = node.gateway ? gatewayPack(readings, at.t) : devicePayload(first.fields, at.t);
    return node.link.publish(topic, payload).then(
      () => void counts.published++,
      (err: unknown) => {
        counts.failed++;
        log.warn({ err, link: node.link.id }, 'reading not published');
      },
    );
  }

  const instant = (now: number): SimInstant => ({
    t: now,
    scenarioMs: liveAt + (now - (liveStart ?? now)) * speedup,
  });
  /** A node reports at the shortest interval any of its devices was given, else the fleet's. */
  const intervalOf = (node: Node) => Math.min(...node.runners.map((r) => r.intervalMs ?? intervalMs));

  function tick(): void {
    const now = clock();
    for (const node of nodes) {
      if (node.downUntil !== undefined) {
        if (now < node.downUntil) continue; // a device without a link measures nothing we can see
        node.downUntil = undefined;
        node.link.restore();
        log.info({ link: node.link.id }, 'link restored');
      } else {
        if (now < node.nextAt) continue;
        if (random() < dropout.probability) {
          node.downUntil = now + dropout.minMs + random() * (dropout.maxMs - dropout.minMs);
          counts.dropouts++;
          node.link.drop();
          log.info({ link: node.link.id }, 'link dropped');
          continue;
        }
      }
      node.nextAt = now + intervalOf(node);
      void publish(node, instant(now));
    }
  }

  /** A command for one of a node's devices: checked, carried out, answered on its ack topic. */
  function obey(node: Node, runner: Runner, payload: Buffer): void {
    const { kind, id } = runner.device;
    let message: { id?: unknown; type?: unknown; params?: unknown; expires_at?: unknown };
    try {
      message = JSON.parse(payload.toString('utf8')) as typeof message;
    } catch {
      log.warn({ device: id }, 'a command that is not JSON: not answered');
      return;
    }
    if (typeof message.id !== 'number') return;
    const answer = (result: 'done' | 'refused', reason?: string) =>
      void node.link
        .publish(
          opts.topics.commandAck(kind, id),
          JSON.stringify({ id: message.id, result, ...(reason === undefined ? {} : { reason }) }),
        )
        .catch((err: unknown) => log.warn({ err, device: id }, 'command answer not published'));
    if (typeof message.expires_at === 'string' && Date.parse(message.expires_at) < clock())
      return answer('refused', 'expired before it arrived');
    const spec = CommandSpec.safeParse({ type: message.type, params: message.params });
    if (!spec.success) return answer('refused', 'not a command this controller knows');
    if (!COMMAND_KINDS[spec.data.type].includes(kind))
      return answer('refused', `a ${kind} does not take ${spec.data.type}`);
    const c = runner.control;
    switch (spec.data.type) {
      case 'set_dim':
        c.dimPct = spec.data.params.level_pct;
        break;
      case 'switch':
        c.switch = spec.data.params.state;
        if (spec.data.params.state === 'auto') c.dimPct = undefined;
        break;
      case 'schedule':
        c.steps = spec.data.params.steps;
        break;
      case 'set_interval':
        runner.intervalMs = spec.data.params.seconds * 1000;
        node.nextAt = Math.min(node.nextAt, clock() + intervalOf(node));
        break;
      case 'reboot':
        answer('done');
        if (!node.gateway && node.downUntil === undefined) {
          node.link.drop();
          node.downUntil = clock() + 3000; // back within a few seconds, as a controller boots
        }
        return;
      case 'ping':
        break;
    }
    answer('done');
    log.info({ device: id, command: message.id, type: spec.data.type }, 'command carried out');
    // A controller reports its new state at once (TALQ's event on a change).
    if (liveStart !== undefined && spec.data.type !== 'ping' && node.downUntil === undefined) {
      node.nextAt = clock() + intervalOf(node);
      void publish(node, instant(clock()));
    }
  }

  async function backfill({ hours, stepMs = 5 * 60_000 }: BackfillOptions): Promise<{ messages: number }> {
    if (closed || liveStart !== undefined)
      throw new SimError('SIM_ERR_STATE', 'backfill must run before start()');
    positive('stepMs', stepMs);
    const end = clock();
    const from = end - positive('hours', hours) * HOUR_MS;
    const steps = Math.ceil((end - from) / stepMs);
    const total = steps * nodes.length;
    let inFlight = 0;
    let messages = 0;
    let wake: (() => void) | undefined;
    const settled = (): void => {
      inFlight--;
      wake?.();
    };
    const room = (limit: number) =>
      new Promise<void>((resolve) => {
        wake = () => {
          if (inFlight < limit) resolve();
        };
        wake();
      });
    log.info({ hours, stepMs, messages: total }, 'backfill started');
    for (let i = 0; i < steps; i++) {
      // Before going live, scenario time runs at real speed up to where the scenario goes live: negative
      // (not begun) for most, the first day of the city story for `city`.
      const at: SimInstant = { t: from + i * stepMs, scenarioMs: liveAt + from + i * stepMs - end };
      for (const node of nodes) {
        if (inFlight >= maxInFlight) await room(maxInFlight);
        if (closed) throw new SimError('SIM_ERR_STATE', 'closed during backfill');
        inFlight++;
        messages++;
        publish(node, at).then(settled, settled);
      }
      if (Math.floor((i * 10) / steps) !== Math.floor(((i + 1) * 10) / steps)) {
        log.info({ done: messages, total }, 'backfill progress');
      }
    }
    if (inFlight > 0) await room(1);
    log.info({ messages }, 'backfill done');
    return { messages };
  }

  return {
    backfill,
    start() {
      if (closed) throw new SimError('SIM_ERR_STATE', 'start() after close()');
      if (timer) return;
      liveStart = clock();
      tick();
      // Each node keeps its own interval (a gauge may be told to report every minute): a tick a second
      // sends what is due.
      timer = setInterval(tick, Math.min(intervalMs, 1000));
    },
    stats: () => ({ ...counts }),
    async close() {
      if (closed) return;
      closed = true;
      if (timer) clearInterval(timer);
      await Promise.all(nodes.map((n) => n.link.close()));
    },
  };
}
