// The live rules engine: the rule core (core.ts) on the ingest stream. Readings come in once durable;
// each transition goes through the alert service (store, then InfluxDB, MQTT and the API's stream) with
// the (rule, device) state saved in the same transaction. A timer lets time pass (absence, windows), a
// checkpoint saves the other states every few seconds, and the rule folder is watched: a change that
// validates replaces the rule set, one that does not is refused as a whole and the rules in force stay.
import { watch as watchFolder, type FSWatcher } from 'node:fs';
import type { Logger } from 'pino';
import type { Reading } from '../../devices/index.ts';
import type { AlertService } from '../../alerts/index.ts';
import {
  partitionOf,
  type AlertStore,
  type LeaseChange,
  type RuleLeases,
  type SavedState,
  type TriggerInput,
  type TriggerOutcome,
} from '../../alerts/index.ts';
import { loadRuleFiles, type LoadedRule, type RuleContext, type RuleProblem } from '../loader.ts';
import { createAqiWriter, STATION_STATE_KEY } from './aqi-writer.ts';
import { createRuleCore, type Firing, type RuleCore } from './core.ts';
import { createHolds } from './holds.ts';
import type { RuleDevice } from './rule-device.ts';
import { reconcileAlerts } from './reconcile.ts';
import { seal, unseal } from './sealed-states.ts';
import { readRuleFolder } from './rule-files.ts';

export interface RuleEngineConfig {
  /** The folder of rule files (CITY_RULES_DIR). */
  readonly dir: string;
  /** How often time passes for absence and window rules, ms. */
  readonly tickMs: number;
  /** How often changed states are saved, ms; transitions save theirs at once. */
  readonly checkpointMs: number;
  /** How often the registry is read again for new, changed and decommissioned devices, ms. */
  readonly syncMs: number;
  /** Watch the folder and reload on change. */
  readonly watch: boolean;
}

export interface RuleEngineDeps {
  readonly alerts: AlertService;
  readonly store: Pick<AlertStore, 'loadStates' | 'saveStates'>;
  /** Every active device, to watch for silence from the start. */
  readonly devices: () => readonly RuleDevice[];
  /** Appends line protocol to the spool (the `aqi` measurement); leave out to not write the index. */
  readonly appendLines?: (text: string, lines: number) => void;
  /** The agencies a rule's owner may name, read at each load; owners are unchecked when left out. */
  readonly agencies?: () => ReadonlySet<string>;
  /**
   * In a cluster, the partitions of the device space this node holds (alerts/partitions.ts): only their
   * devices are evaluated here, their states taken over and handed back as the leases move. One process
   * evaluates every device.
   */
  readonly leases?: Pick<RuleLeases, 'fenceOf' | 'onChange'>;
  readonly log: Logger;
  readonly clock: () => number;
}

export interface RuleStatus {
  readonly loadedAt: string | null;
  readonly files: readonly string[];
  readonly rules: readonly LoadedRule[];
  /** The problems of the last refused reload; empty when the files in force are the files on disk. */
  readonly problems: readonly RuleProblem[];
}

export interface RuleEngine {
  /** The ingest listener: readings of one device, once durable. */
  onReadings(readings: readonly Reading[], device: RuleDevice): void;
  /** Whether this node evaluates the device's rules (in a cluster, the holder of its partition). */
  owns(device: string): boolean;
  /** Reads the folder again; resolves with the problems (none when the new set is in force). */
  reload(): Promise<readonly RuleProblem[]>;
  status(): RuleStatus;
  /** Lets time pass now (the timer does it every tickMs); resolves once its transitions are recorded. */
  tick(): Promise<void>;
  /** Re-reads the registry: new devices watched, changed ones updated, gone ones forgotten; then reconciles. */
  syncDevices(): Promise<void>;
  /** Resolves when every transition so far is recorded (or refused) and no reading waits. */
  settled(): Promise<void>;
  /** Stops the timers and the watcher, lets the writes in flight settle and saves every state; safe to call twice. */
  close(): Promise<void>;
}

export async function createRuleEngine(config: RuleEngineConfig, deps: RuleEngineDeps): Promise<RuleEngine> {
  const { alerts, store, log, clock } = deps;
  const context = (): RuleContext => (deps.agencies === undefined ? {} : { agencies: deps.agencies() });
  const first = loadRuleFiles(await readRuleFolder(config.dir), context());
  if (!first.ok) throw rulesRefused(first.problems);
  let status: RuleStatus = statusOf(first.rules, [], clock());
  const core: RuleCore = createRuleCore(
    first.rules.map((r) => r.rule),
    { onError: (err, rule, device) => log.error({ err, rule, device }, 'rule not evaluated') },
  );

  let synced = new Set<string>();
  let closed = false;
  // Devices the registry let go: a reading of theirs still in flight must not bring them back.
  const gone = new Set<string>();
  // States a failed checkpoint could not save are kept for the next one (a newer state of the same
  // (rule, device) takes their place).
  let unsaved = new Map<string, SavedState>();
  const keyOf = (st: SavedState) => `${st.rule}\u0000${st.device}`;
  // Rule states are saved with the print of their condition (sealed-states.ts); the stations' are not.
  const sealed = (list: readonly SavedState[]): SavedState[] => {
    const byId = new Map(core.rules().map((r) => [r.id, r]));
    return list.map((st) => {
      const rule = byId.get(st.rule);
      return rule === undefined ? st : seal(st, rule);
    });
  };
  // In a cluster: whether this node evaluates the device, and the lease its states are written under.
  const fenceOf = (device: string) => deps.leases?.fenceOf(partitionOf(device));
  const owns = (device: string) => deps.leases === undefined || fenceOf(device) !== undefined;
  /** The states to save, each with its lease; in a cluster, those of devices not held here are not ours. */
  const leased = (list: readonly SavedState[]): SavedState[] =>
    deps.leases === undefined
      ? [...list]
      : list.flatMap((st) => {
          const fence = fenceOf(st.device);
          return fence === undefined ? [] : [{ ...st, fence }];
        });
  // A state started afresh (an operator's resolve, a reconciliation) is saved at once; should that fail,
  // it is still marked to be saved at the next checkpoint, and an older unsaved one must not win.
  const saveReset = (st: SavedState) => {
    unsaved.delete(keyOf(st));
    store
      .saveStates(leased(sealed([st])))
      .catch((err: unknown) =>
        log.error(
          { err, rule: st.rule, device: st.device },
          'rule state not saved; retrying at the next checkpoint',
        ),
      );
  };
  const append = deps.appendLines;
  const stations = append && createAqiWriter((line) => append(line, 1));
  /** Every state to save: the rules' (sealed) and the stations' index. */
  const everyState = (): SavedState[] => [...sealed(core.allStates()), ...(stations?.all() ?? [])];
  // A device's readings wait while a transition of its own is in flight (holds.ts).
  const holds = createHolds<{ readings: readonly Reading[]; device: RuleDevice }>((_, { readings, device }) =>
    evaluate(readings, device),
  );
  syncDevices();
  // In a cluster the states come with the partitions, once leased.
  const states = deps.leases === undefined ? await store.loadStates() : [];
  // The last save before the stop (every state is saved at a stop, the changed ones every few seconds):
  // the platform was running until about then.
  let downSince = states.length === 0 ? clock() : -Infinity;
  for (const st of states) if (st.savedAt > downSince) downSince = st.savedAt;
  log.info({ rules: first.rules.length, ...restore(states, downSince) }, 'rules loaded, states restored');
  const reconcile = () =>
    holds.exclusive(() => reconcileAlerts({ alerts, core, log, clock, onReset: saveReset, owns, fenceOf }));
  await reconcile();
  // The states of the partitions let go are taken at once, before a registry sync can forget their devices;
  // they are saved in the turn, once the writes in flight are done.
  deps.leases?.onChange((change) => {
    const leaving = new Map(change.lost.map((f) => [f.partition, f]));
    const states = everyState().flatMap((st) => {
      const fence = leaving.get(partitionOf(st.device));
      return fence === undefined ? [] : [{ ...st, fence }];
    });
    for (const [key, st] of unsaved) if (leaving.has(partitionOf(st.device))) unsaved.delete(key);
    return holds.exclusive(() => moved(change, states));
  });

  /** Puts saved states back; the time from `downSince` to now does not count towards an absence. */
  function restore(list: readonly SavedState[], since: number) {
    stations?.restore(list);
    const { states: ruleStates, changed } = unseal(
      list.filter((s) => s.rule !== STATION_STATE_KEY),
      new Map(core.rules().map((r) => [r.id, r])),
    );
    return { ...core.restore(ruleStates, clock(), since), changed };
  }

  /**
   * Partitions given up or lost: their states saved (under the lease they had: refused if another node took
   * it meanwhile) and their devices let go. Partitions taken: their states read and evaluation continued
   * from them, the alerts of their devices reconciled. Runs as an exclusive turn: no reading meanwhile.
   */
  async function moved({ gained, lost }: LeaseChange, leaving: readonly SavedState[]): Promise<void> {
    if (lost.length > 0) {
      await store
        .saveStates(leaving)
        .catch((err: unknown) => log.error({ err }, 'states of partitions let go not saved'));
      syncDevices(); // no longer held: let go
    }
    if (gained.length > 0) {
      const states = await store.loadStates({ partitions: gained.map((f) => f.partition) });
      syncDevices();
      const restored = restore(states, clock());
      log.info({ partitions: gained.length, ...restored }, 'rule partitions taken over');
      await reconcileAlerts({ alerts, core, log, clock, onReset: saveReset, owns, fenceOf });
    }
  }

  // Devices provisioned since the last sync are watched for silence from now on; changed records (new
  // alarm levels, a new district) take effect; decommissioned devices are let go, as are, in a cluster,
  // those of partitions no longer held here.
  function syncDevices(): void {
    const now = clock();
    const seen = new Set<string>();
    const active = new Set<string>();
    for (const d of deps.devices()) {
      active.add(d.id);
      gone.delete(d.id);
      if (!owns(d.id)) continue;
      seen.add(d.id);
      core.watch(d, now);
    }
    for (const id of synced)
      if (!seen.has(id)) {
        core.forget(id);
        if (!active.has(id)) gone.add(id);
      }
    synced = seen;
  }

  // Every sync also reconciles: a registry change (tags, district) can take a device out of a rule.
  // Never rejects: the reconciliation logs what it could not do, and the next sync tries again.
  function sync(): Promise<void> {
    syncDevices();
    return reconcile().catch((err: unknown) => log.error({ err }, 'alerts not reconciled with the rules'));
  }

  // One reading at a time: a transition holds its device's next readings until it is recorded, so that one
  // the store refuses is reverted before they move the state on.
  function evaluate(readings: readonly Reading[], device: RuleDevice): void {
    // In a cluster, readings that waited while the device's partition moved away are the new holder's.
    if (!owns(device.id)) return;
    for (let i = 0; i < readings.length; i++) {
      const r = readings[i]!;
      stations?.onReading(r, device);
      const firings = core.reading(r, device);
      if (firings.length === 0) continue;
      holds.hold([device.id], apply(firings));
      if (i + 1 < readings.length) holds.offer(device.id, { readings: readings.slice(i + 1), device });
      return;
    }
  }

  // A tick leaves the devices with a transition in flight to the next one; its transitions share a transaction.
  function tick(): Promise<void> {
    const firings = core.tick(clock(), (id) => holds.isHeld(id) || !owns(id));
    if (firings.length === 0) return Promise.resolve();
    const write = apply(firings);
    holds.hold([...new Set(firings.map((f) => f.device.id))], write);
    return write;
  }

  // The transitions of one reading, or of one tick, go to the store in one transaction.
  async function apply(firings: readonly Firing[]): Promise<void> {
    let outcomes: TriggerOutcome[];
    try {
      outcomes = await alerts.triggerAll(
        firings.map((f) => ({
          input: triggerOf(f),
          state: seal({ rule: f.rule.id, device: f.device.id, state: f.state }, f.rule),
          fence: fenceOf(f.device.id),
        })),
      );
    } catch (err) {
      const error = err instanceof Error ? err : new Error(String(err));
      outcomes = firings.map(() => ({ ok: false, error }));
    }
    // Last first: two transitions of one (rule, device) in the batch go back in the order they came.
    for (let i = outcomes.length - 1; i >= 0; i--) {
      const o = outcomes[i]!;
      if (o.ok) continue;
      // The state goes back to before the transition, so the next reading or tick makes it again.
      const f = firings[i]!;
      core.revert(f);
      log.error(
        { err: o.error, rule: f.rule.id, device: f.device.id },
        'alert transition not recorded; will retry',
      );
    }
  }

  // An operator who resolves an alert by hand starts its (rule, device) afresh: if the condition still
  // holds, the rule raises a new alert after its sustain, rather than staying silent until it clears. In a
  // cluster the operator may have acted through another node.
  const unsubscribe = alerts.subscribe(
    ({ alert, event }) => {
      if (event.type !== 'resolved' || alert.resolution !== 'operator' || alert.source !== 'rule') return;
      const saved = core.reset(alert.rule, alert.device, clock());
      if (saved) saveReset(saved);
    },
    { everywhere: true },
  );

  const checkpoint = async () => {
    for (const st of [...sealed(core.takeDirty()), ...(stations?.takeDirty() ?? [])])
      unsaved.set(keyOf(st), st);
    if (unsaved.size === 0) return;
    const batch = unsaved;
    unsaved = new Map();
    try {
      await store.saveStates(leased([...batch.values()]));
    } catch (err) {
      for (const [key, st] of batch) if (!unsaved.has(key)) unsaved.set(key, st);
      log.error({ err, states: batch.size }, 'rule states not saved; retrying at the next checkpoint');
    }
  };
  // A timer's work that is still running when the timer fires again is left to finish: no overlap.
  const guarded = (what: string, run: () => Promise<void>) => {
    let running = false;
    return () => {
      if (running) return;
      running = true;
      const done = () => (running = false);
      const failed = (err: unknown) => log.error({ err }, `${what} failed; trying again at the next one`);
      try {
        run().catch(failed).finally(done);
      } catch (err) {
        failed(err);
        done();
      }
    };
  };
  const ticker = setInterval(guarded('tick', tick), config.tickMs);
  const saver = setInterval(guarded('checkpoint', checkpoint), config.checkpointMs);
  const syncer = setInterval(guarded('registry sync', sync), config.syncMs);
  for (const timer of [ticker, saver, syncer]) timer.unref();

  // Reloads run one after the other: a slow read of the folder must not put an older set in force last.
  let reloading: Promise<unknown> = Promise.resolve();
  function reload(): Promise<readonly RuleProblem[]> {
    const next = reloading.then(reloadNow, reloadNow);
    reloading = next;
    return next;
  }

  async function reloadNow(): Promise<readonly RuleProblem[]> {
    const loaded = loadRuleFiles(await readRuleFolder(config.dir), context());
    if (closed) return [];
    if (!loaded.ok) {
      status = { ...status, problems: loaded.problems };
      log.error({ problems: loaded.problems }, 'rule files refused; the rules in force stay');
      return loaded.problems;
    }
    core.setRules(
      loaded.rules.map((r) => r.rule),
      clock(),
    );
    status = statusOf(loaded.rules, [], clock());
    log.info({ rules: loaded.rules.length }, 'rules reloaded');
    await reconcile();
    return [];
  }

  let watcher: FSWatcher | undefined;
  let debounce: NodeJS.Timeout | undefined;
  if (config.watch) {
    // Editors write a file in several steps (truncate, write, rename): wait for the folder to settle.
    watcher = watchFolder(config.dir, () => {
      clearTimeout(debounce);
      debounce = setTimeout(() => {
        reload().catch((err: unknown) => log.error({ err }, 'rule folder not read'));
      }, 250);
    });
    watcher.on('error', (err) => log.error({ err }, 'rule folder watch failed; reload by restarting'));
  }

  return {
    onReadings(readings, device) {
      if (gone.has(device.id)) return;
      holds.offer(device.id, { readings, device });
    },
    owns,
    reload,
    status: () => status,
    tick,
    syncDevices: sync,
    settled: () => holds.settled(),
    async close() {
      if (closed) return;
      closed = true;
      clearInterval(ticker);
      clearInterval(saver);
      clearInterval(syncer);
      clearTimeout(debounce);
      watcher?.close();
      unsubscribe();
      await holds.settled();
      try {
        await store.saveStates(leased(everyState()));
      } catch (err) {
        log.error({ err }, 'rule states not saved at stop; the last checkpoint will be restored');
      }
    },
  };
}

function statusOf(rules: readonly LoadedRule[], problems: readonly RuleProblem[], at: number): RuleStatus {
  return {
    loadedAt: new Date(at).toISOString(),
    files: [...new Set(rules.map((r) => r.file))],
    rules,
    problems,
  };
}

function triggerOf(f: Firing): TriggerInput {
  const t = f.transition;
  const measured = f.rule.condition.type !== 'expr';
  return {
    type: t.type,
    rule: f.rule.id,
    device: f.device.id,
    kind: f.device.kind,
    district: f.device.district,
    owner: f.rule.owner,
    title: f.rule.title,
    severity: t.severity,
    message: f.message,
    value: measured ? t.value : null,
    threshold: measured ? t.threshold : null,
    // The evaluators count levels from 0 (an index into the rule's limits); alerts count as people do.
    level: t.level,
    at: t.at,
    source: 'rule',
  };
}

function rulesRefused(problems: readonly RuleProblem[]): Error {
  const lines = problems.map((p) => `${p.file}:${p.line}:${p.column} ${p.code} ${p.message}`);
  return new Error(`rule files refused, fix them and start again:\n${lines.join('\n')}`);
}
