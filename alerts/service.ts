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
  trigger(input: TriggerInput, state?: SavedState): AlertChange | undefined;
  /** Several transitions in one transaction; see AlertStore.triggerAll. Every change is told in order. */
  triggerAll(items: readonly TriggerItem[]): TriggerOutcome[];
  /** An operator acknowledges an open alert; throws ALERTS_ERR_NOT_FOUND / ALERTS_ERR_STATE. */
  acknowledge(id: number, by: string, note?: string): AlertChange;
  /** An operator resolves an open or acknowledged alert; throws ALERTS_ERR_NOT_FOUND / ALERTS_ERR_STATE. */
  resolve(id: number, by: string, note?: string): AlertChange;
  /** The notifier refers an alert to the next step of its escalation chain; see AlertStore.refer. */
  refer(id: number, step: number, note: string): AlertChange | undefined;
  readonly list: AlertStore['list'];
  readonly get: AlertStore['get'];
  readonly openFor: AlertStore['openFor'];
  /** Every open or acknowledged alert, newest raised first. */
  readonly listOpen: AlertStore['listOpen'];
  /** The event log after an id: the notifier's outbox (see AlertStore.eventsAfter). */
  readonly eventsAfter: AlertStore['eventsAfter'];
  readonly responseTimes: AlertStore['responseTimes'];
  /** Every change from now on, in order; returns the unsubscribe function. */
  subscribe(listener: AlertListener): () => void;
}

export interface AlertServiceDeps {
  readonly store: AlertStore;
  readonly log: Logger;
  readonly clock: () => number;
}

export function createAlertService({ store, log, clock }: AlertServiceDeps): AlertService {
  const listeners = new Set<AlertListener>();

  const tell = (change: AlertChange | undefined): AlertChange | undefined => {
    if (change === undefined) return undefined;
    for (const listener of listeners) {
      try {
        listener(change);
      } catch (err) {
        log.error({ err, alert: change.alert.id }, 'alert listener failed');
      }
    }
    return change;
  };

  return {
    trigger: (input, state) => tell(store.trigger(input, state)),
    triggerAll(items) {
      const outcomes = store.triggerAll(items);
      for (const o of outcomes) if (o.ok) tell(o.change);
      return outcomes;
    },
    acknowledge: (id, by, note) => tell(store.acknowledge(id, by, note, clock()))!,
    resolve: (id, by, note) => tell(store.resolve(id, by, note, clock()))!,
    refer: (id, step, note) => tell(store.refer(id, step, note, clock())),
    list: (filter) => store.list(filter),
    get: (id) => store.get(id),
    openFor: (rule, device) => store.openFor(rule, device),
    listOpen: () => store.listOpen(),
    eventsAfter: (afterId, limit) => store.eventsAfter(afterId, limit),
    responseTimes: (filter) => store.responseTimes(filter),
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
}
