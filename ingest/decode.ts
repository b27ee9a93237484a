// Payload decoding, the first step of every MQTT message: bytes → JSON → the kind's schema → canonical
// Readings. Pure (the receive time comes in) and lean: one UTF-8 check, one JSON.parse, one schema parse
// per reading; schemas and lookup tables are built once at load. Refusals are results, never throws.
import { isUtf8 } from 'node:buffer';
import {
  FIELDS,
  PAYLOAD_SCHEMAS,
  REQUIRED_ONE_OF,
  fieldSpec,
  type FieldSpec,
  resolveSenml,
  type Kind,
  type Reading,
  type SenmlRecord,
} from '../devices/index.ts';
import { MAX_AGE_MS, MAX_FUTURE_MS, type IngestErrorCode } from './errors.ts';

export type DecodeResult =
  | { readonly ok: true; readonly readings: Reading[] }
  | { readonly ok: false; readonly code: IngestErrorCode; readonly detail: string };

/** Resolves a gateway's child id to its kind; undefined when the device is not the gateway's child. */
export type ChildLookup = (deviceId: string) => { readonly kind: Kind } | undefined;

type Fields = Record<string, number | boolean>;
interface Draft {
  readonly kind: Kind;
  readonly device: string;
  readonly time: number;
  readonly fields: Fields;
}
type Refusal = Extract<DecodeResult, { ok: false }>;

function refuse(code: IngestErrorCode, detail: string): Refusal {
  return { ok: false, code, detail };
}

function parseJson(payload: Buffer): { value: unknown } | Refusal {
  if (!isUtf8(payload)) return refuse('INGEST_ERR_JSON', 'payload is not valid UTF-8');
  try {
    return { value: JSON.parse(payload.toString('utf8')) as unknown };
  } catch (err) {
    return refuse('INGEST_ERR_JSON', err instanceof Error ? err.message : 'malformed JSON');
  }
}

function isObject(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

function checkTime(time: number, receivedAt: number): Refusal | undefined {
  if (!Number.isFinite(time)) return refuse('INGEST_ERR_TIME', 'timestamp is not a valid time');
  if (time > receivedAt + MAX_FUTURE_MS)
    return refuse('INGEST_ERR_TIME', `timestamp ${time} is in the future`);
  if (time < receivedAt - MAX_AGE_MS)
    return refuse('INGEST_ERR_TIME', `timestamp ${time} is older than one year`);
  return undefined;
}

/** The fields a kind takes, for the detail of an unknown-field dead letter (built once per kind). */
const ACCEPTED = new Map<Kind, string>();
function acceptedFields(kind: Kind): string {
  let text = ACCEPTED.get(kind);
  if (text === undefined) {
    text = [...Object.keys(FIELDS[kind]), 'ts'].join(', ');
    ACCEPTED.set(kind, text);
  }
  return text;
}

/** Maps the first schema issue onto the ingest code a dead letter is filed under. */
function schemaRefusal(
  kind: Kind,
  issues: readonly { code: string; path: readonly PropertyKey[]; message: string }[],
): Refusal {
  const issue = issues[0];
  if (issue === undefined) return refuse('INGEST_ERR_SCHEMA', 'invalid payload');
  const where = issue.path.map(String).join('.');
  const detail = where === '' ? issue.message : `${where}: ${issue.message}`;
  if (issue.path[0] === 'ts') return refuse('INGEST_ERR_TIME', detail);
  if (issue.code === 'unrecognized_keys') {
    return refuse('INGEST_ERR_UNKNOWN_FIELD', `${detail}; ${kind} takes ${acceptedFields(kind)}`);
  }
  if (issue.code === 'too_big' || issue.code === 'too_small') return refuse('INGEST_ERR_RANGE', detail);
  return refuse('INGEST_ERR_SCHEMA', detail);
}

/**
 * The common case, checked without allocating: every key a field of the kind (or a numeric `ts`), every
 * value of the field's type and range, at least one required field. It reads the same FIELDS the zod
 * schemas are built from; anything it does not accept goes through the schema, which gives the reason
 * (and accepts what this leaves to it, such as an RFC 3339 `ts`). decode.test.ts checks the two agree.
 */
function isPlainValid(kind: Kind, body: Readonly<Record<string, unknown>>): boolean {
  const fields: Readonly<Record<string, FieldSpec>> = FIELDS[kind];
  for (const key in body) {
    const v = body[key];
    if (key === 'ts') {
      if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) return false;
      continue;
    }
    const spec = Object.hasOwn(fields, key) ? fields[key] : undefined;
    if (spec === undefined) return false;
    if (spec.type === 'boolean') {
      if (typeof v !== 'boolean') return false;
    } else if (
      typeof v !== 'number' ||
      (spec.min !== undefined && v < spec.min) ||
      (spec.max !== undefined && v > spec.max)
    ) {
      return false;
    }
  }
  for (const f of REQUIRED_ONE_OF[kind]) if (body[f] !== undefined) return true;
  return false;
}

/** Validates the fields of one reading against the kind's schema and the time window. */
function validate(draft: Draft, receivedAt: number): Refusal | undefined {
  if (!isPlainValid(draft.kind, draft.fields)) {
    const parsed = PAYLOAD_SCHEMAS[draft.kind].safeParse(draft.fields);
    if (!parsed.success) return schemaRefusal(draft.kind, parsed.error.issues);
  }
  return checkTime(draft.time, receivedAt);
}

function decodeObject(
  kind: Kind,
  device: string,
  body: Record<string, unknown>,
  receivedAt: number,
): DecodeResult {
  if (!isPlainValid(kind, body)) {
    const parsed = PAYLOAD_SCHEMAS[kind].safeParse(body);
    if (!parsed.success) return schemaRefusal(kind, parsed.error.issues);
  }
  const fields: Fields = {};
  let time = receivedAt;
  for (const key in body) {
    const v = body[key];
    if (key === 'ts') time = typeof v === 'string' ? Date.parse(v) : Number(v);
    else if (typeof v === 'number' || typeof v === 'boolean') fields[key] = v;
  }
  const late = checkTime(time, receivedAt);
  return late ?? { ok: true, readings: [{ kind, device, time, fields }] };
}

/** The record's value in the field's contract unit, or why it cannot be one. */
function fieldValue(kind: Kind, field: string, rec: SenmlRecord): number | boolean | Refusal {
  const spec = fieldSpec(kind, field);
  if (spec === undefined) {
    return refuse(
      'INGEST_ERR_UNKNOWN_FIELD',
      `${kind} has no field ${field}; it takes ${acceptedFields(kind)}`,
    );
  }
  const factor = spec.senml[rec.unit ?? ''];
  // A record without a unit is taken to be in the contract unit, as a JSON object payload is.
  if (factor === undefined && rec.unit !== undefined) {
    return refuse('INGEST_ERR_UNIT', `unit ${JSON.stringify(rec.unit)} is not accepted for ${field}`);
  }
  const v = rec.value;
  if (spec.type === 'boolean') {
    return typeof v === 'boolean' ? v : refuse('INGEST_ERR_SCHEMA', `${field} takes a boolean (vb)`);
  }
  if (typeof v !== 'number') return refuse('INGEST_ERR_SCHEMA', `${field} takes a number (v)`);
  return factor === undefined || factor === 1 ? v : convert(v, factor);
}

/** Scales by a unit factor; 1/3.6e6 (J → kWh) is applied as a division so 3.6e6 J is exactly 1 kWh. */
function convert(v: number, factor: number): number {
  if (factor >= 1) return v * factor;
  const inverse = Math.round(1 / factor);
  return Math.abs(1 / factor - inverse) < 1e-9 * inverse ? v / inverse : v * factor;
}

/** Splits `<device>/<field>` (or a bare `<field>`); ids and field names never contain a slash. */
function splitName(name: string): [device: string | undefined, field: string] {
  const slash = name.indexOf('/');
  return slash < 0 ? [undefined, name] : [name.slice(0, slash), name.slice(slash + 1)];
}

/** Who published the pack: a device for itself, or a gateway for its children. */
type Publisher =
  | { readonly type: 'device'; readonly device: string; readonly kind: Kind }
  | { readonly type: 'gateway'; readonly gateway: string; readonly lookupChild: ChildLookup };

function resolveTarget(
  from: Publisher,
  named: string | undefined,
  name: string,
): { device: string; kind: Kind } | Refusal {
  if (from.type === 'device') {
    if (named === undefined || named === from.device) return from;
    return refuse('INGEST_ERR_WRONG_DEVICE', `record ${name} names a device other than ${from.device}`);
  }
  if (named === undefined)
    return refuse('INGEST_ERR_SENML', `record ${name} must be named <deviceId>/<field>`);
  const child = from.lookupChild(named);
  if (child === undefined)
    return refuse('INGEST_ERR_NOT_CHILD', `${named} is not a child of gateway ${from.gateway}`);
  return { device: named, kind: child.kind };
}

function decodeSenml(pack: unknown, receivedAt: number, from: Publisher): DecodeResult {
  const senml = resolveSenml(pack, receivedAt);
  if (!senml.ok) return refuse('INGEST_ERR_SENML', senml.reason);
  const drafts = new Map<string, Draft>();
  for (const rec of senml.records) {
    const [named, field] = splitName(rec.name);
    const target = resolveTarget(from, named, rec.name);
    if ('ok' in target) return target;
    const value = fieldValue(target.kind, field, rec);
    if (typeof value === 'object') return value;
    const key = `${target.device}\u0000${rec.time}`;
    let draft = drafts.get(key);
    if (draft === undefined) {
      draft = { kind: target.kind, device: target.device, time: rec.time, fields: {} };
      drafts.set(key, draft);
    }
    if (field in draft.fields)
      return refuse('INGEST_ERR_SENML', `${rec.name} appears twice at time ${rec.time}`);
    draft.fields[field] = value;
  }
  const readings: Reading[] = [];
  for (const draft of drafts.values()) {
    const bad = validate(draft, receivedAt);
    if (bad !== undefined) return bad;
    readings.push(draft);
  }
  return { ok: true, readings };
}

/**
 * Decodes a message a device published on its own telemetry topic: a JSON object with the kind's fields,
 * or a SenML pack whose names are `<field>` or `<deviceId>/<field>`.
 */
export function decodeDevicePayload(
  kind: Kind,
  deviceId: string,
  payload: Buffer,
  receivedAt: number,
): DecodeResult {
  const json = parseJson(payload);
  if (!('value' in json)) return json;
  const body = json.value;
  if (Array.isArray(body)) return decodeSenml(body, receivedAt, { type: 'device', device: deviceId, kind });
  if (isObject(body)) return decodeObject(kind, deviceId, body, receivedAt);
  return refuse('INGEST_ERR_SCHEMA', 'payload must be a JSON object or a SenML array');
}

/**
 * Decodes a gateway's SenML pack (names `<childId>/<field>`). One record for a device that is not the
 * gateway's child refuses the whole message: nothing of it is accepted.
 */
export function decodeGatewayPayload(
  gatewayId: string,
  payload: Buffer,
  receivedAt: number,
  lookupChild: ChildLookup,
): DecodeResult {
  const json = parseJson(payload);
  if (!('value' in json)) return json;
  if (!Array.isArray(json.value))
    return refuse('INGEST_ERR_SENML', 'a gateway publishes SenML packs (JSON arrays) only');
  return decodeSenml(json.value, receivedAt, { type: 'gateway', gateway: gatewayId, lookupChild });
}
