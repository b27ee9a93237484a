// The notifier: reads the alert store's event log after its cursor (the outbox every transition writes
// in its own transaction), puts each alert in the groups of the routes it takes, and when a group is due
// (Alertmanager's group_wait, group_interval, repeat_interval) queues one delivery per receiver with
// the group's alerts. An alert muted by an open critical alert of the same device and kind is left out of
// the notification (it is still an alert: stored, shown, streamed). Each step is one transaction with
// the cursor, so a crash replays an event instead of losing it; deliveries are keyed, so a replay does
// not queue one twice.
//
// Escalation is written in the alert's own history. The notifier watches each alert it is told of that has
// an escalation chain, from the moment it is told (not the reading's time: an alert raised from a
// gateway's backlog has not been waiting for hours); an open alert past a step gets a `referred` event (the alert store writes each step once, and only while the alert is open, so
// acknowledging stops the chain), and the notifier reads that event from the log like any other and
// queues the step's deliveries. The log stays the one outbox: a crash between the two replays the event.
import { createHash } from 'node:crypto';
import type { Logger } from 'pino';
import type { Alert, AlertChange, AlertEvent, AlertEventType } from '../alerts/index.ts';
import { SEVERITY_RANK } from '../measurements/index.ts';
import { referralSteps, type AlertFacts, type PlannedRoute, type ReferralStep } from './plan.ts';
import type { SilenceStore } from './silence-store.ts';
import { heldUntil, type Silence } from './silences.ts';
import type { GroupRow, NotifyStore, NotifyWrite } from './outbox.ts';

/** Events that are news to a receiver; an `updated` (a new value) or an acknowledgement is not. */
const TOLD: ReadonlySet<AlertEventType> = new Set(['raised', 'escalated', 'resolved']);

export interface NotifierDeps {
  readonly store: NotifyStore;
  readonly alerts: {
    eventsAfter(afterId: number, limit: number): Promise<AlertChange[]>;
    get(id: number): Promise<{ alert: Alert; events: readonly AlertEvent[] } | undefined>;
    getMany(ids: readonly number[]): Promise<Array<{ alert: Alert; events: readonly AlertEvent[] }>>;
    listOpen(): Promise<Alert[]>;
    refer(id: number, step: number, note: string): Promise<AlertChange | undefined>;
  };
  readonly silences: Pick<SilenceStore, 'silences'>;
  /** The routes an alert takes (the routing in force). */
  readonly plan: (alert: AlertFacts) => PlannedRoute[];
  /** A device's registry tags, for routes that match on them. */
  readonly deviceTags: (device: string) => readonly string[];
  /** When a device's maintenance ends (ms), if it is in maintenance: its alerts are held till then. */
  readonly maintenanceUntil?: (device: string) => number | undefined;
  /** The address of an alert's page, for people to follow from a notification. */
  readonly link?: (alertId: number) => string;
  readonly clock: () => number;
  readonly log: Logger;
}

/** An alert as a notification tells it: as it is now, with its latest news and where to see it. */
export type NotifiedAlert = Alert & {
  /** Its latest event a receiver is told of (raised, escalated, referred or resolved). */
  readonly event?: { readonly type: AlertEventType; readonly at: string };
  readonly link?: string;
};

/** One notification: a group of alerts, as every receiver gets it. */
export interface Notification {
  /**
   * `<group id>.<generation>#<sequence>`, stable for this notification of this group (ASCII: it goes in
   * headers); a group that ends and starts again under the same labels is the next generation.
   */
  readonly key: string;
  readonly route: number;
  readonly group: Readonly<Record<string, string>>;
  /** firing while any of its alerts is not resolved. */
  readonly status: 'firing' | 'resolved';
  readonly alerts: readonly NotifiedAlert[];
  /** Set when the notification is a step of the alert's escalation chain (its one alert not acknowledged). */
  readonly referral?: {
    /** 1-based, of `steps`. */
    readonly step: number;
    readonly steps: number;
    /** The step's time after the alert was raised. */
    readonly afterMs: number;
    /** Why and to whom, as the alert's history says it. */
    readonly note: string;
  };
}

export interface Notifier {
  /** Reads new events and queues the deliveries of the groups now due; returns what it did. */
  step(): Promise<{
    readonly events: number;
    readonly notifications: number;
    readonly deliveries: number;
    readonly referred: number;
  }>;
}

const BATCH = 500;
/** How often open alerts are checked for a step of their escalation chain that is due, ms. */
export const REFER_CHECK_MS = 5_000;

/** A group's short id in keys and headers: ASCII whatever its labels (a district's name is not). */
export function groupId(groupKey: string): string {
  return createHash('sha256').update(groupKey).digest('hex').slice(0, 16);
}

export function factsOf(alert: Alert, tags: readonly string[]): AlertFacts {
  const { owner, severity, kind, district, rule, device } = alert;
  return { agency: owner, severity, kind, district, rule, device, tags };
}

function referralNote(step: ReferralStep, index: number, steps: number): string {
  const to = step.receivers.map((r) => `${r.agency}/${r.receiver}`).join(', ');
  const minutes = Math.round(step.afterMs / 60_000);
  return `not acknowledged ${minutes} min after it was raised: referred to ${to} (step ${index + 1} of ${steps})`;
}

/** Events that are news to a receiver of a notification: TOLD, and the steps of escalation. */
const NEWS: ReadonlySet<AlertEventType> = new Set([...TOLD, 'referred']);

/** Alerts read ahead of a transaction, by id. */
type Read = ReadonlyMap<number, { readonly alert: Alert; readonly events: readonly AlertEvent[] }>;

export function createNotifier(deps: NotifierDeps): Notifier {
  const { store, alerts, clock, log } = deps;
  /** The alert as a notification carries it. */
  const asNotified = (alert: Alert, events: readonly AlertEvent[]): NotifiedAlert => {
    const latest = events.findLast((e) => NEWS.has(e.type));
    return {
      ...alert,
      ...(latest === undefined ? {} : { event: { type: latest.type, at: latest.at } }),
      ...(deps.link === undefined ? {} : { link: deps.link(alert.id) }),
    };
  };
  const facts = (alert: Alert) => factsOf(alert, deps.deviceTags(alert.device));
  const stepsOf = (alert: Alert) => referralSteps(deps.plan(facts(alert)));
  const silencesAt = (now: number) => deps.silences.silences({ endingAfter: now });
  const heldAt = (alert: Alert, silences: readonly Silence[], now: number) =>
    heldUntil(facts(alert), silences, deps.maintenanceUntil?.(alert.device), now);
  let nextReferCheck = 0;

  /** Refers each watched alert past its next escalation step; the events are read back by `consume`. */
  async function refer(now: number): Promise<number> {
    if (now < nextReferCheck) return 0;
    nextReferCheck = now + REFER_CHECK_MS;
    let referred = 0;
    const silences = await silencesAt(now);
    for (const { alertId, since } of await store.watched()) {
      try {
        const found = await alerts.get(alertId);
        const steps = found === undefined ? [] : stepsOf(found.alert);
        const done = found?.events.filter((e) => e.type === 'referred').length ?? 0;
        const step = steps[done];
        if (found === undefined || found.alert.state !== 'open' || step === undefined) {
          await store.unwatch(alertId);
          continue;
        }
        if (since + step.afterMs > now || heldAt(found.alert, silences, now) !== undefined) continue;
        if ((await alerts.refer(alertId, done, referralNote(step, done, steps.length))) !== undefined)
          referred++;
      } catch (err) {
        log.error({ err, alert: alertId }, 'alert not referred; will try again');
      }
    }
    return referred;
  }

  /** The deliveries of a `referred` event: the step's receivers, told of the one alert, whose events are `events`. */
  function referral(change: AlertChange, events: readonly AlertEvent[], now: number): NotifyWrite[] {
    const { alert, event } = change;
    const history = events.filter((e) => e.id <= event.id);
    const n = history.filter((e) => e.type === 'referred').length;
    const steps = stepsOf(alert);
    const step = steps[n - 1];
    if (step === undefined) {
      log.warn({ alert: alert.id, step: n }, 'referred alert has no such step in the routing in force');
      return [];
    }
    const notification: Notification = {
      key: `referral-${alert.id}-${n}`,
      route: step.route,
      group: {},
      status: 'firing',
      alerts: [asNotified(alert, history)],
      referral: { step: n, steps: steps.length, afterMs: step.afterMs, note: event.note ?? '' },
    };
    return step.receivers.map((r) => ({
      kind: 'deliver',
      delivery: {
        key: `${notification.key}/${r.agency}/${r.receiver}`,
        groupKey: notification.key,
        ...r,
        payload: notification,
      },
      at: now,
    }));
  }

  async function consume(now: number): Promise<number> {
    const changes = await alerts.eventsAfter(await store.cursor(), BATCH);
    if (changes.length === 0) return 0;
    // The alerts are read before the notifications' transaction, which cannot wait for them.
    const referred = changes.filter((c) => c.event.type === 'referred').map((c) => c.alert.id);
    const histories = await eventsOf(referred);
    // By kind, in the order they were made: the store writes each kind's together.
    const delivers: NotifyWrite[] = [];
    const watches: NotifyWrite[] = [];
    const joins: NotifyWrite[] = [];
    for (const change of changes) {
      const { alert, event } = change;
      if (event.type === 'referred')
        delivers.push(...referral(change, histories.get(alert.id)?.events ?? [], now));
      if (!TOLD.has(event.type)) continue;
      const routes = deps.plan(facts(alert));
      if (event.type === 'raised' && referralSteps(routes).length > 0)
        watches.push({ kind: 'watch', alertId: alert.id, since: now });
      for (const route of routes) {
        const group = {
          key: `${route.route}:${JSON.stringify(route.group)}`,
          route: route.route,
          labels: route.group,
          receivers: route.receivers,
          groupIntervalMs: route.groupIntervalMs,
          repeatIntervalMs: route.repeatIntervalMs,
          nextFlushAt: now + route.groupWaitMs,
        };
        joins.push({ kind: 'join', group, alertId: alert.id, at: now });
      }
    }
    await store.commit([...delivers, ...watches, ...joins], changes.at(-1)!.event.id);
    return changes.length;
  }

  /** The alerts of these ids with their events, read together; a missing id is left out. */
  async function eventsOf(ids: readonly number[]) {
    const found = ids.length === 0 ? [] : await alerts.getMany(ids);
    return new Map(found.map((f) => [f.alert.id, f] as const));
  }

  /** Open critical alerts by device and kind: they mute the lower alerts of theirs. */
  async function mutingAlerts(): Promise<Map<string, Alert>> {
    const muting = new Map<string, Alert>();
    for (const a of await alerts.listOpen())
      if (a.severity === 'critical') muting.set(`${a.device}\u0000${a.kind}`, a);
    return muting;
  }

  /**
   * Tells a due group's receivers what is news: its open alerts neither muted, held nor (on a repeat)
   * acknowledged, and the resolution of those told before. A held or muted alert stays in the group, which
   * looks again when the hold ends (or after its group interval, for a silence ended early or a muting
   * alert resolved).
   */
  function flush(
    group: GroupRow,
    now: number,
    muting: Map<string, Alert>,
    silences: Silence[],
    read: Read,
  ): NotifyWrite[] {
    const current = group.alerts.flatMap((id) => {
      const found = read.get(id);
      return found === undefined ? [] : [asNotified(found.alert, found.events)];
    });
    const repeat = group.nextFlushAt === null;
    let next: number | undefined;
    const later = (at: number) => (next = Math.min(next ?? at, at));
    const tellable = current.filter((a) => {
      if (a.state === 'resolved') return group.told.has(a.id);
      const held = heldAt(a, silences, now);
      const m = muting.get(`${a.device}\u0000${a.kind}`);
      const muted = m !== undefined && m.id !== a.id && SEVERITY_RANK[a.severity] < SEVERITY_RANK[m.severity];
      if (held !== undefined || muted) {
        later(Math.min(held ?? Infinity, now + group.groupIntervalMs));
        return false;
      }
      // A repeat is for what is still waiting for someone: not an acknowledged alert.
      return !(repeat && a.state === 'acknowledged');
    });
    // A repeat tells what still waits; any other flush only what is news: a change, or an alert released.
    const news = repeat || group.changed || tellable.some((a) => !group.told.has(a.id));
    const told = news ? tellable : [];
    const writes: NotifyWrite[] = [];
    if (told.length > 0) {
      const notification: Notification = {
        key: `${groupId(group.key)}.${group.gen}#${group.seq + 1}`,
        route: group.route,
        group: group.labels,
        status: told.some((a) => a.state !== 'resolved') ? 'firing' : 'resolved',
        alerts: told,
      };
      for (const r of group.receivers) {
        const key = `${notification.key}/${r.agency}/${r.receiver}`;
        const delivery = { key, groupKey: group.key, ...r, payload: notification };
        writes.push({ kind: 'deliver', delivery, at: now });
      }
    }
    writes.push({
      kind: 'flushed',
      key: group.key,
      at: now,
      told: told.map((a) => a.id),
      leaving: current.filter((a) => a.state === 'resolved').map((a) => a.id),
      next: next ?? null,
    });
    return writes;
  }

  return {
    async step() {
      const now = clock();
      const referred = await refer(now);
      const events = await consume(now);
      const due = await store.dueGroups(now);
      let deliveries = 0;
      if (due.length > 0) {
        const muting = await mutingAlerts();
        const read = await eventsOf(due.flatMap((g) => g.alerts));
        const silences = await silencesAt(now);
        const writes = due.flatMap((g) => flush(g, now, muting, silences, read));
        // The deliveries first, then the groups' flushes: each kind written together.
        const ordered = [
          ...writes.filter((w) => w.kind === 'deliver'),
          ...writes.filter((w) => w.kind !== 'deliver'),
        ];
        deliveries = (await store.commit(ordered)).queued;
        log.debug({ groups: due.length, deliveries }, 'notification groups flushed');
      }
      return { events, notifications: due.length, deliveries, referred };
    },
  };
}
