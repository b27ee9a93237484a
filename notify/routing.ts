// The routing file: which receivers an alert's notifications go to, grouped how and when, and who is
// told next when nobody acknowledges it. Alertmanager's model (routes matched in order, `continue` to go
// on, `group_by`, `group_wait`, `group_interval`, `repeat_interval` as it defines them), with the city's
// additions: receivers are the registry's agencies' own, and a route may escalate along a chain.
//
// Like a rule file, it is checked whole and refused whole: every problem with its line and column, and a
// receiver that no agency of the registry has is a problem too.
import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import { AgencyId, Kind, type AgencyRecord } from '../devices/index.ts';
import { Severity } from '../alerts/index.ts';
import { Duration, parseYamlWith, sortedProblems, type Positions, type YamlProblem } from '../rules/index.ts';
import { NotifyError, type NotifyErrorCode } from './errors.ts';

/** What an alert can be grouped by: the labels of its notification. */
export const GROUP_LABELS = ['agency', 'severity', 'kind', 'district', 'rule', 'device'] as const;
export type GroupLabel = (typeof GROUP_LABELS)[number];

/** Alertmanager's defaults, and grouping per agency and rule. */
export const ROUTING_DEFAULTS = {
  group_by: ['agency', 'rule'] as GroupLabel[],
  group_wait: 30_000,
  group_interval: 5 * 60_000,
  repeat_interval: 4 * 3_600_000,
};

/** One value or several, any of which matches. */
const OneOrMore = <T extends z.ZodType>(value: T) =>
  z.union([value, z.array(value).min(1)]).transform((v) => (Array.isArray(v) ? v : [v]) as z.output<T>[]);

const Text = z.string().trim().min(1).max(200);

/** Which alerts a route takes; every key given must match (none: every alert). */
export const Match = z.strictObject({
  /** The alert's owner. */
  agency: OneOrMore(AgencyId).optional(),
  severity: OneOrMore(Severity).optional(),
  kind: OneOrMore(Kind).optional(),
  district: OneOrMore(Text).optional(),
  rule: OneOrMore(Text).optional(),
  device: OneOrMore(Text).optional(),
  /** The device carries every one of these registry tags. */
  tags: z.array(Text).min(1).optional(),
  /**
   * Within the owner agency's working hours when the notifier reads the alert, or outside them (an
   * agency without working hours is always at work).
   */
  hours: z.enum(['working', 'outside']).optional(),
});
export type Match = z.output<typeof Match>;

/**
 * A receiver: `flood-control/duty-desk` (one receiver of an agency), `flood-control` (all of them), or
 * `$owner` (all receivers of the alert's own agency).
 */
export const RECEIVER_REF = /^(?:\$owner|[a-z0-9][a-z0-9-]{0,39}(?:\/[a-z0-9][a-z0-9-]{0,39})?)$/;
const ReceiverRef = z
  .string()
  .regex(RECEIVER_REF, 'an agency (hepco), one of its receivers (hepco/night-crew) or $owner');

/** A wait that may be none: `0s` tells at once (a group's first notification, or its changes). */
const Wait = z.union([z.literal('0s').transform(() => 0), Duration]);

const Timing = {
  group_by: z.array(z.enum(GROUP_LABELS)).max(GROUP_LABELS.length).optional(),
  group_wait: Wait.optional(),
  group_interval: Wait.optional(),
  repeat_interval: Duration.optional(),
};

/** A step of an escalation chain: `after` the alert was raised (`target`: the owner's acknowledge target). */
const Step = z.strictObject({
  after: z.union([z.literal('target'), Duration]),
  receivers: z.array(ReceiverRef).min(1).max(20),
});

const Route = z.strictObject({
  name: Text.optional(),
  match: Match.default({}),
  receivers: z.array(ReceiverRef).min(1).max(20),
  /** Go on to the next routes after this one matched (Alertmanager's `continue`). */
  continue: z.boolean().default(false),
  ...Timing,
  /** Who is told next while nobody acknowledges: each step once, in order; acknowledging stops it. */
  escalate: z.array(Step).max(5).optional(),
});

export const RoutingFile = z.strictObject({
  /** Group and timing defaults of every route (Alertmanager's when left out). */
  defaults: z.strictObject(Timing).default({}),
  routes: z.array(Route).min(1).max(200),
});

export interface RouteTiming {
  readonly groupBy: readonly GroupLabel[];
  readonly groupWaitMs: number;
  readonly groupIntervalMs: number;
  readonly repeatIntervalMs: number;
}

export interface EscalationStep {
  /** Ms after the alert was raised, or the owner's acknowledge target for the alert's severity. */
  readonly after: number | 'target';
  readonly receivers: readonly string[];
}

/** A route as the notifier uses it: defaults applied, 1-based position kept for messages. */
export interface Route extends RouteTiming {
  readonly index: number;
  readonly line: number;
  readonly name: string | undefined;
  readonly match: Match;
  readonly receivers: readonly string[];
  readonly continue: boolean;
  readonly escalate: readonly EscalationStep[];
}

export interface Routing {
  readonly routes: readonly Route[];
}

export type RoutingProblem = YamlProblem<NotifyErrorCode>;

export type RoutingResult =
  | { readonly ok: true; readonly routing: Routing }
  | { readonly ok: false; readonly problems: RoutingProblem[] };

/** The agencies a routing file may name, with their receivers' ids. */
export type KnownAgencies = ReadonlyMap<string, Pick<AgencyRecord, 'receivers'>>;

/**
 * Parses and checks a routing file. Every receiver it names must be an agency of `agencies` (or one of
 * its receivers); `$owner` is checked when an alert comes.
 */
export function parseRouting(text: string, file: string, agencies: KnownAgencies): RoutingResult {
  const parsed = parseYamlWith(text, file, RoutingFile, {
    yaml: 'NOTIFY_ERR_YAML',
    schema: 'NOTIFY_ERR_SCHEMA',
  });
  if (!parsed.ok) return parsed;
  const { data, positions } = parsed;
  const unknown = unknownReceivers(data, agencies, positions);
  if (unknown.length > 0) return { ok: false, problems: sortedProblems(unknown) };
  const defaults = data.defaults;
  const routes = data.routes.map((r, i): Route => {
    const pick = <K extends keyof typeof defaults>(key: K) => r[key] ?? defaults[key];
    return {
      index: i + 1,
      line: positions.of(['routes', i]).line,
      name: r.name,
      match: r.match,
      receivers: r.receivers,
      continue: r.continue,
      groupBy: pick('group_by') ?? ROUTING_DEFAULTS.group_by,
      groupWaitMs: pick('group_wait') ?? ROUTING_DEFAULTS.group_wait,
      groupIntervalMs: pick('group_interval') ?? ROUTING_DEFAULTS.group_interval,
      repeatIntervalMs: pick('repeat_interval') ?? ROUTING_DEFAULTS.repeat_interval,
      escalate: (r.escalate ?? []).map((s) => ({ after: s.after, receivers: s.receivers })),
    };
  });
  return { ok: true, routing: { routes } };
}

/** Reads and checks a routing file; a file that cannot be read is a NotifyError (NOTIFY_ERR_FILE). */
export async function loadRoutingFile(file: string, agencies: KnownAgencies): Promise<RoutingResult> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new NotifyError('NOTIFY_ERR_FILE', `cannot read the routing file ${file}`, { cause: err });
  }
  return parseRouting(text, file, agencies);
}

function unknownReceivers(
  file: z.output<typeof RoutingFile>,
  agencies: KnownAgencies,
  positions: Positions<NotifyErrorCode>,
): RoutingProblem[] {
  const problems: RoutingProblem[] = [];
  const check = (ref: string, path: (string | number)[]) => {
    const why = whyUnknown(ref, agencies);
    if (why !== undefined) problems.push(positions.at(path, 'NOTIFY_ERR_UNKNOWN_RECEIVER', why));
  };
  file.routes.forEach((r, i) => {
    r.receivers.forEach((ref, j) => check(ref, ['routes', i, 'receivers', j]));
    r.escalate?.forEach((s, k) =>
      s.receivers.forEach((ref, j) => check(ref, ['routes', i, 'escalate', k, 'receivers', j])),
    );
  });
  return problems;
}

/** The routes that name an agency, or one of its receivers, among their receivers or escalation steps. */
export function routesNaming(routing: Routing, agencyId: string): Route[] {
  const names = (ref: string) => ref === agencyId || ref.startsWith(`${agencyId}/`);
  return routing.routes.filter((r) =>
    [...r.receivers, ...r.escalate.flatMap((s) => s.receivers)].some(names),
  );
}

/** Why a receiver reference names nothing the registry has; undefined when it does. */
export function whyUnknown(ref: string, agencies: KnownAgencies): string | undefined {
  if (ref === '$owner') return undefined;
  const [agencyId = '', receiverId] = ref.split('/');
  const agency = agencies.get(agencyId);
  const known = [...agencies.keys()].sort().join(', ') || 'none yet';
  if (agency === undefined) return `${ref}: no agency ${agencyId} in the registry (known: ${known})`;
  if (receiverId === undefined) {
    return agency.receivers.length === 0 ? `${ref}: agency ${agencyId} has no receivers yet` : undefined;
  }
  if (agency.receivers.some((r) => r.id === receiverId)) return undefined;
  const receivers = agency.receivers.map((r) => r.id).join(', ') || 'none';
  return `${ref}: agency ${agencyId} has no receiver ${receiverId} (it has: ${receivers})`;
}
