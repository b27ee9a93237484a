// Which routes an alert takes, and so which receivers it reaches and when: the notifier's decision, and
// the answer to "who would be told of this alert" (the rules command line's `route`, POST /api/routing/plan).
// Pure: the routing, the agencies and the alert's facts in, the plan out.
import type { AgencyRecord, ReceiverType } from '../devices/index.ts';
import type { Severity } from '../alerts/index.ts';
import type { GroupLabel, Match, Route, Routing } from './routing.ts';

/** What routing looks at in an alert (and its device's registry tags). */
export interface AlertFacts {
  /** The alert's owner: an agency id. */
  readonly agency: string;
  readonly severity: Severity;
  readonly kind: string;
  readonly district: string;
  readonly rule: string;
  readonly device: string;
  readonly tags: readonly string[];
  /** Whether its owner agency is within its working hours now (undefined: as if it were). */
  readonly inHours?: boolean;
}

export interface PlannedReceiver {
  readonly agency: string;
  readonly receiver: string;
  readonly type: ReceiverType;
}

export interface PlannedStep {
  /** Ms after the alert was raised. */
  readonly afterMs: number;
  readonly receivers: readonly PlannedReceiver[];
}

export interface PlannedRoute {
  /** 1-based position in the routing file, and its line. */
  readonly route: number;
  readonly line: number;
  readonly name: string | undefined;
  /** The labels the alert is grouped by on this route, and their values: one notification per group. */
  readonly group: Readonly<Partial<Record<GroupLabel, string>>>;
  readonly receivers: readonly PlannedReceiver[];
  /** A new group's first notification waits this long for others to join it. */
  readonly groupWaitMs: number;
  /** A group that changed is notified again at most this often. */
  readonly groupIntervalMs: number;
  /** An unchanged group still open is notified again after this long. */
  readonly repeatIntervalMs: number;
  /** Who is told next while the alert is not acknowledged. */
  readonly escalate: readonly PlannedStep[];
  /** References that name nothing for this alert (`$owner` of an owner that is no agency). */
  readonly unresolved: readonly string[];
}

export type Agencies = ReadonlyMap<string, Pick<AgencyRecord, 'receivers' | 'ack_target_minutes'>>;

function oneOf(values: readonly string[] | undefined, value: string): boolean {
  return values === undefined || values.includes(value);
}

export function matches(match: Match, alert: AlertFacts): boolean {
  return (
    oneOf(match.agency, alert.agency) &&
    oneOf(match.severity, alert.severity) &&
    oneOf(match.kind, alert.kind) &&
    oneOf(match.district, alert.district) &&
    oneOf(match.rule, alert.rule) &&
    oneOf(match.device, alert.device) &&
    (match.tags === undefined || match.tags.every((t) => alert.tags.includes(t))) &&
    (match.hours === undefined || (match.hours === 'working') === (alert.inHours ?? true))
  );
}

/** The routes an alert takes: the first that matches, and the next ones while each says `continue`. */
export function routesOf(routing: Routing, alert: AlertFacts): Route[] {
  const taken: Route[] = [];
  for (const route of routing.routes) {
    if (!matches(route.match, alert)) continue;
    taken.push(route);
    if (!route.continue) break;
  }
  return taken;
}

/** Receiver references made concrete for one alert; each receiver once. */
export function resolveReceivers(
  refs: readonly string[],
  owner: string,
  agencies: Agencies,
): { receivers: PlannedReceiver[]; unresolved: string[] } {
  const receivers = new Map<string, PlannedReceiver>();
  const unresolved: string[] = [];
  for (const ref of refs) {
    const [agencyId = '', receiverId] = (ref === '$owner' ? owner : ref).split('/');
    const agency = agencies.get(agencyId);
    const chosen = agency?.receivers.filter((r) => receiverId === undefined || r.id === receiverId) ?? [];
    if (chosen.length === 0) unresolved.push(ref);
    for (const r of chosen)
      receivers.set(`${agencyId}/${r.id}`, { agency: agencyId, receiver: r.id, type: r.type });
  }
  return { receivers: [...receivers.values()], unresolved };
}

function groupOf(route: Route, alert: AlertFacts): Partial<Record<GroupLabel, string>> {
  const group: Partial<Record<GroupLabel, string>> = {};
  for (const label of route.groupBy) group[label] = alert[label];
  return group;
}

/** Every route the alert takes, with its receivers, grouping, timing and escalation chain. */
export function planAlert(routing: Routing, agencies: Agencies, alert: AlertFacts): PlannedRoute[] {
  const target = agencies.get(alert.agency)?.ack_target_minutes[alert.severity];
  return routesOf(routing, alert).map((route) => {
    const main = resolveReceivers(route.receivers, alert.agency, agencies);
    const unresolved = [...main.unresolved];
    const escalate: PlannedStep[] = [];
    for (const step of route.escalate) {
      const afterMs =
        step.after === 'target' ? (target === undefined ? undefined : target * 60_000) : step.after;
      const next = resolveReceivers(step.receivers, alert.agency, agencies);
      unresolved.push(...next.unresolved);
      if (afterMs === undefined)
        unresolved.push(`escalation after the acknowledge target of ${alert.agency}`);
      else escalate.push({ afterMs, receivers: next.receivers });
    }
    return {
      route: route.index,
      line: route.line,
      name: route.name,
      group: groupOf(route, alert),
      receivers: main.receivers,
      groupWaitMs: route.groupWaitMs,
      groupIntervalMs: route.groupIntervalMs,
      repeatIntervalMs: route.repeatIntervalMs,
      escalate,
      unresolved,
    };
  });
}

/** One step of an alert's escalation chains, all its routes' steps together in order of time. */
export interface ReferralStep extends PlannedStep {
  /** The route whose chain it is. */
  readonly route: number;
}

/**
 * The steps an alert not acknowledged goes through: every route's chain, earliest first (a route's own
 * steps keep their order). The n-th `referred` event of an alert is its step n - 1.
 */
export function referralSteps(plans: readonly PlannedRoute[]): ReferralStep[] {
  return plans
    .flatMap((p) => p.escalate.map((step) => ({ ...step, route: p.route })))
    .sort((a, b) => a.afterMs - b.afterMs);
}
