// Alert requests of flows:
//   <prefix>/alerts/<kind>/<deviceId>/<ruleId>/raise   a service account allowed to publish alerts asks
//   <prefix>/alerts/<kind>/<deviceId>/<ruleId>/clear   the platform to raise or clear an alert
// A valid request becomes a trigger of the alert service with source `flow`: the same lifecycle as a rule
// file's alerts (one open alert per (rule, device), escalation, acknowledgement, history in InfluxDB, the
// transition on the alert topic), so operators cannot tell them apart. A request that cannot be carried
// out is data, not an exception: dead-lettered with a RULES_ERR_FLOW_* code, counted, logged at warn.
import type { Logger } from 'pino';
import { z } from 'zod';
import { Timestamp, type DeviceRecord, type ParsedTopic } from '../devices/index.ts';
import {
  isAlertsError,
  Severity,
  type Alert,
  type AlertService,
  type TriggerInput,
} from '../alerts/index.ts';
import { Rule, RULE_ID_PATTERN, type RulesErrorCode } from '../rules/index.ts';

export const FLOW_ERROR_CODES = [
  'RULES_ERR_FLOW_REQUEST',
  'RULES_ERR_FLOW_DEVICE',
  'RULES_ERR_FLOW_RULE',
  'RULES_ERR_FLOW_AGENCY',
] as const satisfies readonly RulesErrorCode[];
export type FlowErrorCode = (typeof FLOW_ERROR_CODES)[number];

/** How far ahead of the platform's clock `at` may be: ingest's limit for readings (a wrong clock). */
export const FLOW_MAX_FUTURE_MS = 5 * 60 * 1000;
/** How far behind: ingest's limit for readings (a reset clock, not a late request). */
export const FLOW_MAX_AGE_MS = 365 * 24 * 60 * 60 * 1000;

/** A message as rule files render theirs: at most 1 000 characters. */
const Message = z.string().trim().min(1).max(1_000);

/** The body of a raise request. Title and owner are validated as a rule file's are. */
export const RaiseRequest = z.strictObject({
  title: Rule.shape.title,
  severity: Severity,
  owner: Rule.shape.owner,
  message: Message,
  value: z.number().nullable().optional(),
  threshold: z.number().nullable().optional(),
  /** As Alert.level: 1 for the flow's own level, k + 1 at its k-th escalation. */
  level: z.number().int().min(1).default(1),
  /** RFC 3339 with an offset, or epoch milliseconds; the receive time when left out. */
  at: Timestamp.optional(),
});
export type RaiseRequest = z.infer<typeof RaiseRequest>;

/** The body of a clear request; an empty payload is an empty body. */
export const ClearRequest = z.strictObject({ message: Message.optional(), at: Timestamp.optional() });
export type ClearRequest = z.infer<typeof ClearRequest>;

export type FlowRequestTopic = Extract<ParsedTopic, { type: 'alert-request' }>;

/** What deciding a request reads: the registry, the rules loaded from files, the open alerts, the time. */
export interface FlowContext {
  readonly getDevice: (id: string) => DeviceRecord | undefined;
  readonly isFileRule: (ruleId: string) => boolean;
  /** Whether the registry has this agency; owners are unchecked when left out. */
  readonly isAgency?: ((id: string) => boolean) | undefined;
  /** The open alert of (rule, device), read before deciding. */
  readonly open: Alert | undefined;
  readonly now: number;
}

/** A trigger for the alert service (none: a clear with no open alert, nothing to do), or why not. */
export type FlowDecision =
  | { readonly ok: true; readonly trigger: TriggerInput | undefined }
  | { readonly ok: false; readonly code: FlowErrorCode; readonly detail: string };

const refused = (code: FlowErrorCode, detail: string): FlowDecision => ({ ok: false, code, detail });
const utf8 = new TextDecoder('utf-8', { fatal: true });

/** Decides what a request asks for. Pure: reads the context, changes nothing. */
export function decideFlowRequest(topic: FlowRequestTopic, payload: Buffer, ctx: FlowContext): FlowDecision {
  if (!RULE_ID_PATTERN.test(topic.rule)) {
    return refused('RULES_ERR_FLOW_REQUEST', `rule id ${JSON.stringify(topic.rule)} is not a rule id`);
  }
  const body = parseBody(topic.channel, payload);
  if (!body.ok) return refused('RULES_ERR_FLOW_REQUEST', body.detail);
  const at = body.value.at === undefined ? ctx.now : toMs(body.value.at);
  if (at > ctx.now + FLOW_MAX_FUTURE_MS || at < ctx.now - FLOW_MAX_AGE_MS) {
    return refused('RULES_ERR_FLOW_REQUEST', `at: ${new Date(at).toISOString()} is too far from now`);
  }
  const device = ctx.getDevice(topic.device);
  if (device === undefined) {
    return refused('RULES_ERR_FLOW_DEVICE', `device ${topic.device} is not registered`);
  }
  if (device.status !== 'active') {
    return refused('RULES_ERR_FLOW_DEVICE', `device ${device.id} is decommissioned`);
  }
  if (device.kind !== topic.kind) {
    return refused('RULES_ERR_FLOW_DEVICE', `device ${device.id} is ${device.kind}, not ${topic.kind}`);
  }
  // The store keeps one open alert per (rule, device), whatever its source: a file rule's id would let
  // a flow update, escalate or resolve that rule's alerts.
  const open = ctx.open;
  if (ctx.isFileRule(topic.rule) || (open !== undefined && open.source !== 'flow')) {
    return refused('RULES_ERR_FLOW_RULE', `rule ${topic.rule} is a rule file's`);
  }
  if (body.action === 'raise') {
    if (ctx.isAgency !== undefined && !ctx.isAgency(body.value.owner))
      return refused('RULES_ERR_FLOW_AGENCY', `owner ${body.value.owner} is not an agency of the registry`);
    return { ok: true, trigger: raiseOf(body.value, device, topic.rule, at) };
  }
  if (open === undefined) return { ok: true, trigger: undefined };
  return { ok: true, trigger: clearOf(body.value, open, device, at) };
}

type Body =
  | { readonly ok: true; readonly action: 'raise'; readonly value: RaiseRequest }
  | { readonly ok: true; readonly action: 'clear'; readonly value: ClearRequest }
  | { readonly ok: false; readonly detail: string };

function parseBody(action: FlowRequestTopic['channel'], payload: Buffer): Body {
  let json: unknown = {};
  if (payload.length > 0) {
    try {
      json = JSON.parse(utf8.decode(payload));
    } catch (err) {
      return { ok: false, detail: `not well-formed UTF-8 JSON: ${(err as Error).message}` };
    }
  }
  if (action === 'raise') {
    const r = RaiseRequest.safeParse(json);
    return r.success ? { ok: true, action, value: r.data } : { ok: false, detail: issues(r.error) };
  }
  const r = ClearRequest.safeParse(json);
  return r.success ? { ok: true, action, value: r.data } : { ok: false, detail: issues(r.error) };
}

function issues(error: z.ZodError): string {
  return error.issues
    .map((i) => `${i.path.length > 0 ? i.path.join('.') : '(body)'}: ${i.message}`)
    .join('; ');
}

const toMs = (t: string | number): number => (typeof t === 'number' ? t : Date.parse(t));

function raiseOf(r: RaiseRequest, device: DeviceRecord, rule: string, at: number): TriggerInput {
  return {
    type: 'raise',
    rule,
    device: device.id,
    kind: device.kind,
    district: device.district,
    owner: r.owner,
    title: r.title,
    severity: r.severity,
    message: r.message,
    value: r.value ?? null,
    threshold: r.threshold ?? null,
    level: r.level,
    at,
    source: 'flow',
  };
}

/** Resolves the open alert as it stands; without a message, what a rule file's clear says by default. */
function clearOf(c: ClearRequest, open: Alert, device: DeviceRecord, at: number): TriggerInput {
  return {
    type: 'clear',
    rule: open.rule,
    device: open.device,
    kind: open.kind,
    district: open.district,
    owner: open.owner,
    title: open.title,
    severity: open.severity,
    message: c.message ?? `${device.name}: cleared (${open.title})`,
    value: open.value,
    threshold: open.threshold,
    level: open.level,
    at,
    source: 'flow',
  };
}

/** An alert request as the broker hands it over, before it is acknowledged. */
export interface FlowRequestMessage {
  readonly topic: string;
  /** The service account that sent it. */
  readonly source: string;
  readonly request: FlowRequestTopic;
  readonly payload: Buffer;
}

/** A refused request, for the dead letters (ingest/dead-letters.ts). */
export interface FlowDeadLetter {
  readonly at: number;
  readonly source: string;
  readonly topic: string;
  readonly code: FlowErrorCode;
  readonly detail: string;
  readonly payload: Buffer;
}

/** What flow requests report; the composition root maps it onto Prometheus metrics. */
export interface FlowMetrics {
  request(action: FlowRequestTopic['channel'], outcome: 'accepted' | FlowErrorCode): void;
}

export interface FlowRequestDeps {
  readonly alerts: Pick<AlertService, 'trigger' | 'openFor'>;
  readonly getDevice: (id: string) => DeviceRecord | undefined;
  /** Whether a rule loaded from rule files has this id. */
  readonly isFileRule: (ruleId: string) => boolean;
  /** Whether the registry has this agency (a raise's owner must be one); unchecked when left out. */
  readonly isAgency?: (id: string) => boolean;
  readonly deadLetter: (letter: FlowDeadLetter) => void;
  readonly metrics: FlowMetrics;
  readonly log: Logger;
  readonly clock: () => number;
}

/**
 * The broker's alert request handler: undefined once the request is carried out or dead-lettered (either
 * way it is acknowledged), the error when the alert store failed (not acknowledged: the client resends).
 */
export function createFlowRequests(
  deps: FlowRequestDeps,
): (message: FlowRequestMessage) => Promise<Error | undefined> {
  const { alerts, log, metrics, clock } = deps;

  function reject(message: FlowRequestMessage, code: FlowErrorCode, detail: string): undefined {
    metrics.request(message.request.channel, code);
    log.warn({ source: message.source, topic: message.topic, code, detail }, 'alert request dead-lettered');
    try {
      const { source, topic, payload } = message;
      deps.deadLetter({ at: clock(), source, topic, code, detail, payload });
    } catch (err) {
      log.error({ err, topic: message.topic }, 'alert request not dead-lettered');
    }
    return undefined;
  }

  return async (message) => {
    const { request } = message;
    try {
      const ctx: FlowContext = {
        getDevice: deps.getDevice,
        isFileRule: deps.isFileRule,
        isAgency: deps.isAgency,
        open: await alerts.openFor(request.rule, request.device),
        now: clock(),
      };
      const decision = decideFlowRequest(request, message.payload, ctx);
      if (!decision.ok) return reject(message, decision.code, decision.detail);
      if (decision.trigger !== undefined) await alerts.trigger(decision.trigger);
      metrics.request(request.channel, 'accepted');
      return undefined;
    } catch (err) {
      // Everything was validated, so the store refusing a value is a request it cannot hold.
      if (isAlertsError(err, 'ALERTS_ERR_INVALID'))
        return reject(message, 'RULES_ERR_FLOW_REQUEST', err.message);
      log.error({ err, source: message.source, topic: message.topic }, 'alert request not recorded');
      return err instanceof Error ? err : new Error(String(err));
    }
  };
}
