// The alert service: the store plus the listeners every change goes to (InfluxDB, MQTT, the API's
// server-sent events). Rule transitions, operators' actions and flows all pass through here, so each
// change is recorded once in the store and then told to every sink in the same order.
import type { Logger } from 'pino';
import type {
  AlertChange,
  AlertStore,
  SavedState,
  TriggerInput,
  TriggerItem,
  TriggerOutcome,
} from './types.ts';

export type AlertListener = (change: AlertChange) => void;

export interface AlertService {
  /** A rule's (or a flow's) transition; see AlertStore.trigger. */
  trigger(input: TriggerInput, state?: SavedState): Promise<AlertChange | undefined>;
  /** Several transitions in one transaction; see AlertStore.triggerAll. Every change is told in order. */
  triggerAll(items: readonly TriggerItem[]): Promise<TriggerOutcome[]>;
  /** An operator acknowledges an open alert; throws ALERTS_ERR_NOT_FOUND / ALERTS_ERR_STATE. */
  acknowledge(id: number, by: string, note?: string): Promise<AlertChange>;
  /** An operator resolves an open or acknowledged alert; throws ALERTS_ERR_NOT_FOUND / ALERTS_ERR_STATE. */
  resolve(id: number, by: string, note?: string): Promise<AlertChange>;
  /** The notifier refers an alert to the next step of its escalation chain; see AlertStore.refer. */
  refer(id: number, step: number, note: string): Promise<AlertChange | undefined>;
  readonly list: AlertStore['list'];
  readonly get: AlertStore['get'];
  readonly getMany: AlertStore['getMany'];
  readonly openFor: AlertStore['openFor'];
  /** Every open or acknowledged alert, newest raised first. */
  readonly listOpen: AlertStore['listOpen'];
  /** The event log after an id: the notifier's outbox (see AlertStore.eventsAfter). */
  readonly eventsAfter: AlertStore['eventsAfter'];
  readonly responseTimes: AlertStore['responseTimes'];
  /**
   * Every change this node makes from now on, in order; with `everywhere`, also those other nodes of a
   * cluster make, soon after they commit (a stream to operators, say; not the sinks, which the node that
   * made a change writes). Returns the unsubscribe function.
   */
  subscribe(listener: AlertListener, options?: { readonly everywhere?: boolean }): () => void;
}

export interface AlertServiceDeps {
  readonly store: AlertStore;
  readonly log: Logger;
  readonly clock: () => number;
}

export function createAlertService({ store, log, clock }: AlertServiceDeps): AlertService {
  const listeners = new Set<AlertListener>();
  const everywhere = new Set<AlertListener>();

  const tellTo = (to: Iterable<AlertListener>, change: AlertChange) => {
    for (const listener of to) {
      try {
        listener(change);
      } catch (err) {
        log.error({ err, alert: change.alert.id }, 'alert listener failed');
      }
    }
  };
  const tell = (change: AlertChange | undefined): AlertChange | undefined => {
    if (change !== undefined) tellTo(listeners, change);
    return change;
  };
  store.onOthers?.((changes) => {
    for (const change of changes) tellTo(everywhere, change);
  });

  return {
    trigger: async (input, state) => tell(await store.trigger(input, state)),
    async triggerAll(items) {
      const outcomes = await store.triggerAll(items);
      for (const o of outcomes) if (o.ok) tell(o.change);
      return outcomes;
    },
    acknowledge: async (id, by, note) => tell(await store.acknowledge(id, by, note, clock()))!,
    resolve: async (id, by, note) => tell(await store.resolve(id, by, note, clock()))!,
    refer: async (id, step, note) => tell(await store.refer(id, step, note, clock())),
    list: (filter) => store.list(filter),
    get: (id) => store.get(id),
    getMany: (ids) => store.getMany(ids),
    openFor: (rule, device) => store.openFor(rule, device),
    listOpen: () => store.listOpen(),
    eventsAfter: (afterId, limit) => store.eventsAfter(afterId, limit),
    responseTimes: (filter) => store.responseTimes(filter),
    subscribe(listener, options) {
      listeners.add(listener);
      if (options?.everywhere === true) everywhere.add(listener);
      return () => {
        listeners.delete(listener);
        everywhere.delete(listener);
      };
    },
  };
}
