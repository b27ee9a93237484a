// The command service: a request for a device or a set of them (a street, a district, a tag) checked and
// stored, each command published QoS 1 on its device's commands topic when the device (or its gateway)
// listens, and followed: queued → sent → acknowledged / failed (refused) / expired. A device that comes
// back gets what waits for it (the broker tells when its commands topic gains a subscriber); a command past
// its expiry is never sent again. A device acts on an id once: a command may reach it twice (it is sent
// again until answered), and its answer to an id already answered is ignored.
//
// In a cluster the store is shared (PostgreSQL): a command asked through one node is sent by the node its
// device listens on, told by the store; an answer is recorded wherever it arrives; each expiry and each
// check's end is made by one node, the one whose conditional write wins.
//
// What a request means, and why one is refused: request.ts.
//
// For the commands a reading shows (set_dim, switch on/off), the device's next readings are checked
// against the result (TALQ's "command not executed"): within the check window a reading must show it;
// when the window ends without one, the check fails and `onCheck` is told (the platform raises an alert).
import type { Logger } from 'pino';
import { z } from 'zod';
import {
  CommandAck,
  expectedReading,
  type CommandMessage,
  type CommandSpec,
  type ExpectedReading,
  type Kind,
  type Reading,
  type Topics,
} from '../devices/index.ts';
import { encodeLine, encodeTags, flatText } from '../influx/index.ts';
import { COMMANDS, type CommandCheck, type CommandField, type CommandTag } from '../measurements/index.ts';
import { checkRequest, type CommandRequest, type RequestDevices } from './request.ts';
import type { CommandEvent, CommandFilter, CommandRecord, CommandStore } from './store.ts';

export interface DeadAck {
  readonly source: string;
  readonly topic: string;
  readonly payload: Buffer;
  readonly code: 'COMMAND_ERR_ACK' | 'COMMAND_ERR_ACK_UNKNOWN';
  readonly detail: string;
}

export interface CommandServiceDeps {
  readonly store: CommandStore;
  readonly devices: RequestDevices;
  readonly topics: Topics;
  /** The broker's platform publish. */
  readonly publish: (topic: string, payload: string, options: { qos: 1 }) => Promise<void>;
  /** Whether the device (or its gateway) is subscribed to its commands now. */
  readonly listening: (kind: Kind, device: string) => boolean;
  /** Appends `commands` lines to the spool (ingest), for InfluxDB; `done` once durable. */
  readonly append: (text: string, lines: number, done: (err?: Error) => void) => void;
  /** Keeps a device's bad or foreign answer for inspection (the dead letters). */
  readonly deadLetter: (ack: DeadAck) => void;
  /** How long after a device says done a reading must show the result (ms). */
  readonly checkWindowMs: number;
  /**
   * Told when a check ends: matched, mismatched (a reading showed the command not carried out), or
   * unverified (no reading in the window could show it, as a lamp off by day).
   */
  readonly onCheck?: (command: CommandRecord, check: CommandCheck, detail: string) => void;
  readonly clock: () => number;
  readonly log: Logger;
}

/** A device's answer to a command, as the broker hands it over. */
type AckMessage = { device: string; source: string; topic: string; payload: Buffer };

export interface CommandService {
  /** Checks a request, stores its commands and sends those whose device listens; a CommandError if bad. */
  send(request: CommandRequest, by: string): Promise<{ batch: number; commands: CommandRecord[] }>;
  /** A device's answer (from the broker); an Error only when it could not be recorded. */
  ack(message: {
    device: string;
    source: string;
    topic: string;
    payload: Buffer;
  }): Promise<Error | undefined>;
  /** The device (or its gateway) now listens: what waits for it is sent (a failure is logged). */
  listenerCame(device: string): Promise<void>;
  /** Expires what waited too long, ends checks whose window passed. Run every second. */
  tick(): Promise<void>;
  /**
   * A stored reading: does it show the result of a command being checked? Returns at once; the check is
   * made after, in order per device (a failure is logged).
   */
  observe(reading: Reading): void;
  get(id: number): Promise<{ command: CommandRecord; events: CommandEvent[] } | undefined>;
  list(filter: CommandFilter): Promise<CommandRecord[]>;
}

/** What a stored command's result should look like in a reading, if a reading shows it. */
function expectedOf(c: CommandRecord): ExpectedReading | undefined {
  return expectedReading({ type: c.type, params: c.params } as CommandSpec);
}

export function createCommandService(deps: CommandServiceDeps): CommandService {
  const { store, topics, log, clock } = deps;
  /**
   * Devices with a check pending: the per-reading path asks the store only about these. Read again at each
   * tick, for the checks begun through other nodes.
   */
  let checking = new Set<string>();
  /** Devices whose check began while the set was being read again: kept in it. */
  let checkingSince = new Set<string>();
  const startChecking = (device: string) => {
    checking.add(device);
    checkingSince.add(device);
  };
  /**
   * Each device's answers and checks of readings, one after the other: a reading that comes after an
   * answer is checked once the answer is recorded (its check begun), even when the store is slow.
   */
  const turns = new Map<string, Promise<unknown>>();
  function inTurn<T>(device: string, work: () => Promise<T>): Promise<T> {
    const done = (turns.get(device) ?? Promise.resolve()).then(work);
    const settled = done.then(
      () => undefined,
      () => undefined,
    );
    turns.set(device, settled);
    void settled.then(() => {
      if (turns.get(device) === settled) turns.delete(device);
    });
    return done;
  }
  const refreshChecking = async () => {
    checkingSince = new Set();
    const devices = await store.devicesChecking();
    checking = new Set([...devices, ...checkingSince, ...turns.keys()]);
  };
  refreshChecking().catch((err: unknown) => log.error({ err }, 'commands being checked not read'));
  /** Ticks since the queued commands were last all looked at (a cluster's notices may be lost). */
  let sinceQueuedLook = 0;

  function write(c: CommandRecord, state: string, at: number, detail: string | null): void {
    const tags = encodeTags({
      device: c.device,
      kind: c.kind,
      district: c.district,
      type: c.type,
      state,
    } satisfies Record<CommandTag, string>);
    const fields: Partial<Record<CommandField, number | string>> = {
      command_id: c.id,
      batch_id: c.batch,
      attempt: c.attempts,
      latency_ms: at - c.createdAt,
    };
    if (detail !== null) fields.detail = flatText(detail);
    try {
      deps.append(`${encodeLine(COMMANDS.name, tags, fields, at)}\n`, 1, (err) => {
        if (err) log.warn({ err, command: c.id }, 'a command transition could not be written for InfluxDB');
      });
    } catch (err) {
      log.warn({ err, command: c.id }, 'a command transition could not be written for InfluxDB');
    }
  }

  /**
   * Marks them sent, then publishes each: a failed publish leaves it sent, to go again on reconnect.
   * `queuedOnly`: those another path sent meanwhile (the device came back as a notice arrived) are left.
   */
  async function dispatch(commands: readonly CommandRecord[], queuedOnly = false): Promise<CommandRecord[]> {
    if (commands.length === 0) return [];
    const at = clock();
    const sent = await store.markSent(
      commands.map((c) => c.id),
      at,
      queuedOnly,
    );
    for (const c of sent) {
      write(c, 'sent', at, null);
      const message: CommandMessage = {
        id: c.id,
        type: c.type,
        params: c.params as CommandMessage['params'],
        expires_at: new Date(c.expiresAt).toISOString(),
      };
      deps
        .publish(topics.commands(c.kind, c.device), JSON.stringify(message), { qos: 1 })
        .catch((err: unknown) =>
          log.warn(
            { err, command: c.id, device: c.device },
            'a command could not be published; it goes again when the device comes back',
          ),
        );
    }
    return sent;
  }

  /** Another node queued commands (a batch, or anything while notices were lost): send those for here. */
  async function queuedElsewhere(batch: number | undefined): Promise<void> {
    const now = clock();
    const here = (await store.queued(batch)).filter(
      (c) => c.expiresAt > now && deps.listening(c.kind, c.device),
    );
    await dispatch(here, true);
  }
  store.onQueuedElsewhere?.((batch) => {
    queuedElsewhere(batch).catch((err: unknown) =>
      log.error(
        { err, batch },
        'commands queued through another node not sent; they go when the device comes back',
      ),
    );
  });

  async function endCheck(c: CommandRecord, check: CommandCheck, detail: string, at: number): Promise<void> {
    const ended = await store.setCheck(c.id, check, at, detail);
    if (ended === undefined) return;
    reportCheck(ended, check, detail, at);
    if ((await store.pendingChecks(c.device)).length === 0) checking.delete(c.device);
  }

  /** A check ended here: to InfluxDB, and to `onCheck` (the platform's alert). */
  function reportCheck(c: CommandRecord, check: CommandCheck, detail: string, at: number): void {
    write(c, check, at, detail);
    try {
      deps.onCheck?.(c, check, detail);
    } catch (err) {
      log.error({ err, command: c.id }, 'a command check could not be reported');
    }
  }

  /** The device's pending checks against one reading. */
  async function check(reading: Reading): Promise<void> {
    for (const c of await store.pendingChecks(reading.device)) {
      // Measured before the command was asked for: it cannot show it. A reading between the command and
      // its execution shows the old state: it is only the value seen so far, and a later one may match.
      if (reading.time < c.createdAt) continue;
      const expected = expectedOf(c);
      if (expected === undefined) continue;
      // A reading that cannot show the result (a lamp off by day has no dim level) is not counted.
      if (expected.when !== undefined && reading.fields[expected.when.field] !== expected.when.value)
        continue;
      const value = reading.fields[expected.field];
      if (value === undefined || typeof value === 'string') continue;
      if (value === expected.value)
        await endCheck(c, 'matched', `${expected.field} ${String(value)}`, clock());
      else if (value !== c.checkSeen) await store.seen(c.id, value);
    }
  }

  /** A device's answer, recorded in the device's turn (see `inTurn`). */
  async function ack({ device, source, topic, payload }: AckMessage): Promise<Error | undefined> {
    let answer: CommandAck;
    try {
      answer = CommandAck.parse(JSON.parse(payload.toString('utf8')));
    } catch (err) {
      const detail = err instanceof z.ZodError ? z.prettifyError(err) : 'not JSON';
      deps.deadLetter({ source, topic, payload, code: 'COMMAND_ERR_ACK', detail });
      return undefined;
    }
    const at = clock();
    try {
      const known = await store.get(answer.id);
      if (known === undefined || known.device !== device) {
        deps.deadLetter({
          source,
          topic,
          payload,
          code: 'COMMAND_ERR_ACK_UNKNOWN',
          detail: known === undefined ? `no command ${answer.id}` : `command ${answer.id} is not ${device}'s`,
        });
        return undefined;
      }
      const result = answer.result === 'done' ? 'acknowledged' : 'failed';
      const expected =
        answer.result === 'done'
          ? expectedReading({ type: known.type, params: known.params } as CommandSpec)
          : undefined;
      const checkDue = known.check === 'pending' && expected !== undefined ? at + deps.checkWindowMs : null;
      // A newer command on the same field (set_dim 70 after set_dim 40) makes the older one's check moot.
      if (checkDue !== null)
        for (const older of await store.pendingChecks(device))
          if (older.id < answer.id && expectedOf(older)?.field === expected!.field)
            await endCheck(older, 'unverified', `superseded by command ${answer.id}`, at);
      const finished = await store.finish(answer.id, device, result, at, answer.reason ?? null, checkDue);
      if (finished === undefined) {
        log.debug(
          { command: answer.id, device, state: known.state },
          'an answer to a command answered already, or expired',
        );
        return undefined;
      }
      write(finished, result, at, answer.reason ?? null);
      if (checkDue !== null) startChecking(device);
      return undefined;
    } catch (err) {
      return err instanceof Error ? err : new Error(String(err));
    }
  }

  return {
    async send(request, by) {
      const { spec, expiresInMs, devices } = checkRequest(request, deps.devices);
      const at = clock();
      const checked = expectedReading(spec) !== undefined;
      const made = await store.create(
        { type: spec.type, target: request.target, by, at, expiresAt: at + expiresInMs },
        devices.map((d) => ({
          device: d.id,
          kind: d.kind,
          district: d.district,
          params: spec.params,
          checked,
        })),
      );
      for (const c of made.commands) write(c, 'queued', at, null);
      log.info({ batch: made.batch, type: spec.type, devices: devices.length, by }, 'commands asked for');
      const sent = await dispatch(made.commands.filter((c) => deps.listening(c.kind, c.device)));
      const now = new Map(sent.map((c) => [c.id, c]));
      return { batch: made.batch, commands: made.commands.map((c) => now.get(c.id) ?? c) };
    },

    ack(message) {
      return inTurn(message.device, () => ack(message));
    },

    async listenerCame(device) {
      const now = clock();
      try {
        await dispatch((await store.waiting(device)).filter((c) => c.expiresAt > now));
      } catch (err) {
        log.error({ err, device }, 'commands waiting for a device not sent; they go when it comes back');
      }
    },

    async tick() {
      const now = clock();
      for (const c of await store.expire(now)) write(c, 'expired', now, null);
      // Every due check ended in one statement: a district dimmed by day ends thousands of checks at once.
      const window = `${Math.round(deps.checkWindowMs / 1000)} s`;
      const ended = await store.endDueChecks(now, (c) => {
        const expected = expectedOf(c)!;
        return c.checkSeen === null
          ? { check: 'unverified', detail: `no reading that could show ${expected.field} within ${window}` }
          : {
              check: 'mismatched',
              detail: `${expected.field} ${String(c.checkSeen)}, expected ${String(expected.value)}`,
            };
      });
      for (const { command, check, detail } of ended) reportCheck(command, check, detail, now);
      await refreshChecking();
      // A notice of a batch lost, or its sending failed: every 30 s a node looks at all that is queued.
      if (store.onQueuedElsewhere !== undefined && ++sinceQueuedLook >= 30) {
        sinceQueuedLook = 0;
        await queuedElsewhere(undefined);
      }
    },

    observe(reading) {
      const { device } = reading;
      // The hot path: a device with no check pending and no answer being recorded costs a lookup.
      if (!checking.has(device) && !turns.has(device)) return;
      inTurn(device, () => check(reading)).catch((err: unknown) =>
        log.error({ err, device }, 'a reading not checked against its commands'),
      );
    },

    async get(id) {
      const command = await store.get(id);
      return command === undefined ? undefined : { command, events: await store.events(id) };
    },
    list: (filter) => store.list(filter),
  };
}
