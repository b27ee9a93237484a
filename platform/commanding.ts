// Commands to devices: the command store and service (commands/), wired to the broker (publish, who
// listens, answers), the spool (the `commands` measurement), the dead letters (bad answers), the readings
// (the check of a result) and the alerts (a command not carried out). Its timer expires what waited too
// long and ends checks whose window passed; one failure is logged and the next second tries again.
import path from 'node:path';
import type { Logger } from 'pino';
import type { AlertService } from '../alerts/index.ts';
import type { Broker } from '../broker/index.ts';
import {
  createCommandService,
  openCommandStore,
  openPostgresCommandStore,
  type CommandRecord,
  type CommandService,
} from '../commands/index.ts';
import type { Registry, Topics } from '../devices/index.ts';
import type { CommandCheck } from '../measurements/index.ts';
import type { DeadLetterStore, Spool } from '../ingest/index.ts';
import type { RuleEngine } from '../rules/index.ts';
import type { CloseStack } from './close-stack.ts';
import type { Config } from './config.ts';

/** The alert of a command a device did not carry out (TALQ's "command not executed"). */
export const COMMAND_ALERT_RULE = 'command-not-executed';
const TICK_MS = 1000;

export interface CommandingDeps {
  readonly log: Logger;
  readonly clock: () => number;
  readonly topics: Topics;
  readonly registry: Registry;
  readonly spool: Pick<Spool, 'append'>;
  readonly deadLetters: Pick<DeadLetterStore, 'record'>;
  readonly broker: Pick<Broker, 'publish' | 'listensForCommands'>;
  readonly alerts: Pick<AlertService, 'trigger' | 'openFor' | 'subscribe'>;
  readonly rules: Pick<RuleEngine, 'status'>;
}

export async function startCommands(
  config: Config,
  deps: CommandingDeps,
  stack: CloseStack,
): Promise<CommandService> {
  const { log, clock, registry, alerts } = deps;
  // A cluster's nodes share the commands in PostgreSQL (docs/cluster.md); one process keeps them in SQLite.
  const store = stack.push(
    'command store',
    config.databaseUrl === undefined
      ? openCommandStore(path.join(config.dataDir, 'commands.db'))
      : await openPostgresCommandStore({
          url: config.databaseUrl,
          origin: config.cluster?.nodeId ?? 'single',
          log,
        }),
    (s) => s.close(),
  );

  /** Who answers for a kind's devices: the owner of the rules in force for that kind (Huế: hepco). */
  const ownerOf = (kind: string): string =>
    deps.rules.status().rules.find((r) => r.rule.select.kind === kind)?.rule.owner ??
    registry.listAgencies()[0]?.id ??
    'ioc';

  const checking = new Map<string, Promise<void>>();
  async function onCheck(c: CommandRecord, check: CommandCheck, detail: string): Promise<void> {
    if (check === 'unverified') return;
    const matched = check === 'matched';
    const device = registry.getDevice(c.device);
    const open = await alerts.openFor(COMMAND_ALERT_RULE, c.device);
    if (matched && open === undefined) return;
    const what = `${c.type} ${JSON.stringify(c.params)}`;
    await alerts.trigger({
      type: matched ? 'clear' : 'raise',
      rule: COMMAND_ALERT_RULE,
      device: c.device,
      kind: c.kind,
      district: c.district,
      owner: open?.owner ?? ownerOf(c.kind),
      title: 'Command not carried out',
      severity: 'warning',
      message: matched
        ? `${device?.name ?? c.device}: command ${c.id} (${what}) carried out: ${detail}`
        : `${device?.name ?? c.device}: command ${c.id} (${what}) said done, but ${detail}`,
      value: null,
      threshold: null,
      level: 1,
      at: clock(),
      source: 'command',
    });
  }

  const service = createCommandService({
    store,
    devices: { getDevice: (id) => registry.getDevice(id), listDevices: () => registry.listDevices() },
    topics: deps.topics,
    publish: deps.broker.publish,
    listening: (kind, id) => deps.broker.listensForCommands(kind, id),
    append: (text, lines, done) => deps.spool.append(text, lines, done),
    deadLetter: ({ source, topic, payload, code, detail }) =>
      deps.deadLetters.record({ at: clock(), source, topic, payload, code, detail }),
    checkWindowMs: config.commands.checkWindowMs,
    // One device's checks one after the other: a match must see the alert a mismatch just raised.
    onCheck(c, check, detail) {
      const next = (checking.get(c.device) ?? Promise.resolve())
        .then(() => onCheck(c, check, detail))
        .catch((err: unknown) => log.error({ err, command: c.id }, 'command check not recorded as an alert'))
        .finally(() => {
          if (checking.get(c.device) === next) checking.delete(c.device);
        });
      checking.set(c.device, next);
    },
    clock,
    log,
  });
  // A rule's command, sent when it raises an alert (docs/commands.md).
  const unsubscribe = alerts.subscribe(({ alert, event }) => {
    if (event.type !== 'raised' || alert.source !== 'rule') return;
    const command = deps.rules.status().rules.find((r) => r.rule.id === alert.rule)?.rule.command;
    if (command === undefined) return;
    const device = registry.getDevice(alert.device);
    const street = device?.meta !== undefined && 'street' in device.meta ? device.meta.street : undefined;
    const target =
      command.to === 'device'
        ? { device: alert.device }
        : command.to === 'district'
          ? { district: alert.district }
          : street === undefined
            ? undefined
            : { street };
    if (target === undefined) {
      log.warn(
        { rule: alert.rule, device: alert.device },
        "a rule's command to a street: the device names no street",
      );
      return;
    }
    service
      .send(
        {
          target,
          type: command.type,
          ...(command.params === undefined ? {} : { params: command.params }),
          ...(command.expires_in === undefined ? {} : { expires_in: command.expires_in }),
        },
        `rule ${alert.rule}`,
      )
      .catch((err: unknown) =>
        log.error({ err, rule: alert.rule, device: alert.device }, "a rule's command was not sent"),
      );
  });
  stack.push('rule commands', unsubscribe, (u) => u());
  // One tick at a time: a slow store (PostgreSQL far away) makes the next wait, never overlap.
  let ticking: Promise<void> | undefined;
  const timer = setInterval(() => {
    ticking ??= service
      .tick()
      .catch((err: unknown) =>
        log.error({ err }, 'commands not expired or checked this round; trying again in a second'),
      )
      .finally(() => (ticking = undefined));
  }, TICK_MS);
  timer.unref();
  stack.push('command timer', timer, async (t) => {
    clearInterval(t);
    await ticking;
  });
  return service;
}
