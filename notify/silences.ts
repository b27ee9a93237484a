// Silences: an operator mutes the notifications (not the alerts) of the alerts that match, for a time
// window, with a reason, as Alertmanager's silences do. A silenced alert is still raised, stored, shown
// and streamed; its notifications are held, and sent when the silence ends if it is still open then. A
// device in maintenance (a registry flag with an end time) is held the same way. Escalation waits too: a
// held alert is not referred until it is released.
import { z } from 'zod';
import { Duration } from '../rules/index.ts';
import { matches, type AlertFacts } from './plan.ts';
import { Match, type Match as MatchOutput } from './routing.ts';

const Iso = z.iso.datetime({ offset: true, error: 'an RFC 3339 time, such as 2026-10-28T18:00:00+07:00' });

/** What an operator gives: which alerts, from when (now), until when (or for how long), and why. */
export const SilenceInput = z
  .strictObject({
    match: Match.omit({ hours: true }).refine(
      (m) => Object.values(m).some((v) => v !== undefined),
      'at least one of agency, severity, kind, district, rule, device, tags: a silence of everything is refused',
    ),
    starts_at: Iso.optional().describe('default: now'),
    ends_at: Iso.optional().describe('either ends_at or duration'),
    duration: Duration.optional().describe('such as 2h: from starts_at'),
    reason: z.string().trim().min(1).max(500),
  })
  .refine((s) => (s.ends_at === undefined) !== (s.duration === undefined), {
    message: 'give either ends_at or duration, not both',
    path: ['ends_at'],
  });
export type SilenceInput = z.input<typeof SilenceInput>;

export interface Silence {
  readonly id: number;
  /** A route's matchers but `hours`: a silence is a window of its own. */
  readonly match: Omit<MatchOutput, 'hours'>;
  readonly startsAt: number;
  readonly endsAt: number;
  readonly reason: string;
  readonly createdBy: string;
  readonly createdAt: number;
  /** Who ended it before its time, if anyone. */
  readonly endedBy: string | null;
}

export type SilenceState = 'pending' | 'active' | 'expired';

export function silenceState(s: Pick<Silence, 'startsAt' | 'endsAt'>, now: number): SilenceState {
  if (now < s.startsAt) return 'pending';
  return now < s.endsAt ? 'active' : 'expired';
}

/** The window of a silence given at `now`; an end not after its start is refused with a message. */
export function silenceWindow(
  input: z.output<typeof SilenceInput>,
  now: number,
): { startsAt: number; endsAt: number } | { problem: string } {
  const startsAt = input.starts_at === undefined ? now : Date.parse(input.starts_at);
  const endsAt = input.ends_at === undefined ? startsAt + input.duration! : Date.parse(input.ends_at);
  if (endsAt <= now) return { problem: 'ends_at is in the past: the silence would hold nothing' };
  if (endsAt <= startsAt) return { problem: 'ends_at must be after starts_at' };
  return { startsAt, endsAt };
}

/**
 * Until when an alert's notifications are held at `now`: the latest end of the active silences that
 * match it and of its device's maintenance; undefined when nothing holds it.
 */
export function heldUntil(
  facts: AlertFacts,
  silences: readonly Silence[],
  maintenanceUntil: number | undefined,
  now: number,
): number | undefined {
  let until = maintenanceUntil !== undefined && maintenanceUntil > now ? maintenanceUntil : undefined;
  for (const s of silences)
    if (silenceState(s, now) === 'active' && matches(s.match, facts)) until = Math.max(until ?? 0, s.endsAt);
  return until;
}
