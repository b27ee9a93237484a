// The alert probe's arithmetic, pure so it can be tested: a street-flood gauge's readings that make the Huế
// rule `street-flooded` (rules/hue/flood.yaml: water_level_m >= 0.2 for 1m, clear below 0.15) raise and
// clear over and over, and the matching of the alert messages that come back to the readings that caused
// them. Device time runs 61 s per reading, so the one-minute sustain completes on the second reading of
// each triple (0.3, 0.3, 0.0) and the third clears it: two transitions every three readings.
import { z } from 'zod';
import { createLatencyHistogram } from '../simulators/index.ts';
import { jsonLatency, type JsonLatency } from './workload.ts';

/** Water on the road, m: above the 0.2 m warning twice, then dry. */
export const PROBE_DEPTHS = [0.3, 0.3, 0.0] as const;
/** Device time between two readings: past the rule's `for: 1m`, so the second reading completes it. */
export const PROBE_STEP_MS = 61_000;
/** The rule the probe exercises. */
export const PROBE_RULE = 'street-flooded';

/** The alert event a reading should cause: the store's names for a raise and a clear (alerts/). */
export type ExpectedEvent = 'raised' | 'resolved';

export interface ProbeReading {
  /** The reading's `ts`, epoch ms (whole seconds, so RFC 3339 round-trips it exactly). */
  readonly ts: number;
  readonly depth: number;
  readonly expect: ExpectedEvent | undefined;
}

export function probeReading(seq: number, originMs: number): ProbeReading {
  const phase = seq % PROBE_DEPTHS.length;
  return {
    ts: originMs + seq * PROBE_STEP_MS,
    depth: PROBE_DEPTHS[phase] ?? 0,
    expect: phase === 1 ? 'raised' : phase === 2 ? 'resolved' : undefined,
  };
}

/**
 * The first reading's time: far enough in the past that `readings` readings never reach the real clock
 * (ingest refuses a `ts` more than 5 minutes ahead), a minute of margin, and a whole second.
 */
export function probeOrigin(now: number, readings: number): number {
  return Math.floor((now - (readings + 1) * PROBE_STEP_MS - 60_000) / 1000) * 1000;
}

/** The probe's payload: the flood kind's field and an explicit `ts` (devices/schemas.ts). */
export function probePayload(r: ProbeReading): string {
  return JSON.stringify({ water_level_m: r.depth, ts: r.ts });
}

/** What the probe reads of an alert message (`{ alert, event }`, alerts/sinks.ts). */
export const AlertMessage = z.object({
  alert: z.object({ rule: z.string(), device: z.string() }),
  event: z.object({ type: z.string(), at: z.string() }),
});
export type AlertMessage = z.infer<typeof AlertMessage>;

/** A webhook delivery's body (notify/delivery.ts): each alert with its latest event. */
const WebhookBody = z.object({
  notification: z.object({
    alerts: z.array(
      z.object({
        rule: z.string(),
        device: z.string(),
        event: z.object({ type: z.string(), at: z.string() }).optional(),
      }),
    ),
  }),
});

/** The message, or undefined when it is not JSON of that shape (counted as unexpected by the caller). */
export function parseAlertMessage(text: string): AlertMessage | undefined {
  try {
    const parsed = AlertMessage.safeParse(JSON.parse(text));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

export interface ProbeSummary {
  /** Readings published, and how many of them the broker acknowledged. */
  readonly published: number;
  readonly acked: number;
  /** Transitions the published readings should have caused. */
  readonly expected: number;
  /** Expected transitions whose alert message arrived. */
  readonly received: number;
  /** Expected transitions whose message never arrived. */
  readonly missing: number;
  /** Alert messages for the probe that match no expected transition (wrong type, unknown time, twice). */
  readonly unexpected: number;
  /** Publish to the alert's message, ms. */
  readonly latency: JsonLatency;
  /** Publish to PUBACK of the probe's own readings, ms: the part of the above spent becoming durable. */
  readonly ackLatency: JsonLatency;
  /** The same transitions as told to the owner agency's webhook, publish to webhook received. */
  readonly webhook?: WebhookSummary;
}

export interface WebhookSummary {
  readonly mode: 'webhook' | 'dead';
  readonly expected: number;
  readonly received: number;
  readonly missing: number;
  readonly unexpected: number;
  readonly latency: JsonLatency;
}

/** The alerts of a webhook delivery's body as alert messages, for the matcher (undefined: not one). */
export function webhookAlerts(text: string): AlertMessage[] | undefined {
  try {
    const parsed = WebhookBody.safeParse(JSON.parse(text));
    if (!parsed.success) return undefined;
    return parsed.data.notification.alerts.flatMap((a) =>
      a.event === undefined ? [] : [{ alert: { rule: a.rule, device: a.device }, event: a.event }],
    );
  } catch {
    return undefined;
  }
}

/** Publish times by reading time, and the alert messages matched back to them. */
export function createAlertMatcher(expectAlerts: boolean) {
  const pending = new Map<number, { at: number; expect: ExpectedEvent; timed: boolean }>();
  const latency = createLatencyHistogram();
  const ackLatency = createLatencyHistogram();
  let published = 0;
  let acked = 0;
  let expected = 0;
  let received = 0;
  let unexpected = 0;
  return {
    /** `timed`: published after the warm-up, so its PUBACK and alert count in the latencies. */
    published(r: ProbeReading, at: number, timed = true): void {
      published++;
      if (!expectAlerts || r.expect === undefined) return;
      expected++;
      pending.set(r.ts, { at, expect: r.expect, timed });
    },
    acked(publishedAt: number, at: number, timed = true): void {
      acked++;
      if (timed) ackLatency.record(at - publishedAt);
    },
    /** An alert message for the probe's device, received at `at` (same clock as `published`). */
    received(message: AlertMessage | undefined, at: number): void {
      if (message === undefined) return void unexpected++;
      if (message.alert.rule !== PROBE_RULE) return; // another rule on the gauge (none fires in a run)
      const ts = Date.parse(message.event.at);
      const p = pending.get(ts);
      if (p === undefined || p.expect !== message.event.type) return void unexpected++;
      pending.delete(ts);
      received++;
      if (p.timed) latency.record(at - p.at);
    },
    /** Expected transitions still waiting for their message. */
    outstanding: () => pending.size,
    summary: (): ProbeSummary => ({
      published,
      acked,
      expected,
      received,
      missing: pending.size,
      unexpected,
      latency: jsonLatency(latency.summary()),
      ackLatency: jsonLatency(ackLatency.summary()),
    }),
  };
}
