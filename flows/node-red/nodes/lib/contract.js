// @ts-check
/* global module -- CommonJS for Node-RED's loader */
// The platform's MQTT contract for flows, as these nodes speak it (README, "Node-RED"):
//   <prefix>/readings/<kind>/<deviceId>                 decoded readings, published by the platform
//   <prefix>/alerts/<kind>/<deviceId>/<ruleId>/raise    a flow asks the platform to raise an alert
//   <prefix>/alerts/<kind>/<deviceId>/<ruleId>/clear    ... or to clear it
//   <prefix>/alerts/<kind>/<deviceId>/<ruleId>          the alert's transitions, published by the platform
// Requests are checked here before they are published: the platform acknowledges a bad request and
// dead-letters it, so a flow would never hear of its mistake. Pure: no I/O, unit-tested without a broker.
// The constants mirror devices/kinds.ts, devices/schemas.ts and rules/schema.ts; a unit test compares them.
'use strict';

/** @typedef {'air_quality' | 'flood' | 'streetlight'} Kind */
/** @typedef {'info' | 'warning' | 'critical'} Severity */

/**
 * A reading as the platform publishes it: decoded, validated and stored.
 * @typedef {object} Reading
 * @property {string} device
 * @property {Kind} kind
 * @property {string} district
 * @property {string} time RFC 3339
 * @property {Record<string, number | boolean>} fields
 */

/**
 * @typedef {object} RaiseBody
 * @property {string} title
 * @property {Severity} severity
 * @property {string} owner
 * @property {string} message
 * @property {number} [value]
 * @property {number} [threshold]
 * @property {number} [level]
 * @property {string} [at]
 */

/**
 * @typedef {object} ClearBody
 * @property {string} [message]
 * @property {string} [at]
 */

/**
 * @typedef {object} AlertKey
 * @property {Kind} kind
 * @property {string} device
 * @property {string} rule
 */

/**
 * A node's own settings for a request; each is overridden by the message's property of the same name.
 * @typedef {object} RequestSettings
 * @property {string} [rule]
 * @property {string} [kind]
 * @property {string} [title]
 * @property {string} [severity]
 * @property {string} [owner]
 * @property {string} [message]
 */

/**
 * @template T
 * @typedef {{ ok: true, topic: string, key: AlertKey, body: T } | { ok: false, problems: string[] }} Built
 */

/** @type {readonly Kind[]} */
const KINDS = Object.freeze(['air_quality', 'flood', 'streetlight']);
/** @type {readonly Severity[]} */
const SEVERITIES = Object.freeze(['info', 'warning', 'critical']);
/** A device id, and a rule id (one topic level each): devices/schemas.ts DEVICE_ID_PATTERN. */
const ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;
const DEFAULT_PREFIX = 'city';
/** Lengths of rules/schema.ts: a flow's alert reads like a rule file's. */
const MAX_TITLE = 200;
const MAX_OWNER = 100;
const MAX_MESSAGE = 1000;
/** The owner is an InfluxDB tag of every alert event: no control characters, no backslashes. */
const OWNER_PATTERN = /^[^\p{Cc}\\]*$/u;
const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:\d{2})$/;

/** @param {unknown} s @returns {s is Kind} */
const isKind = (s) => typeof s === 'string' && /** @type {readonly string[]} */ (KINDS).includes(s);
/** @param {unknown} s @returns {s is Severity} */
const isSeverity = (s) => typeof s === 'string' && /** @type {readonly string[]} */ (SEVERITIES).includes(s);
/** @param {unknown} s @returns {s is string} */
const isId = (s) => typeof s === 'string' && ID_PATTERN.test(s);

/**
 * A problem with a topic prefix, or undefined: it may span levels but holds no wildcard and no empty level
 * (MQTT-4.7.1), as devices/topics.ts checks.
 * @param {string} prefix
 * @returns {string | undefined}
 */
function prefixProblem(prefix) {
  const bad = prefix.split('/').some((l) => l === '' || l.includes('+') || l.includes('#'));
  return prefix === '' || bad ? `invalid topic prefix ${JSON.stringify(prefix)}` : undefined;
}

/**
 * The subscription for readings of one kind: one device, or all of them.
 * @param {string} prefix @param {Kind} kind @param {string} [device]
 */
const readingsFilter = (prefix, kind, device) => `${prefix}/readings/${kind}/${device ?? '+'}`;

/** @param {string} prefix @param {AlertKey} key */
const alertTopic = (prefix, key) => `${prefix}/alerts/${key.kind}/${key.device}/${key.rule}`;

/**
 * Whether an MQTT topic filter matches a topic (MQTT-4.7: `+` one level, `#` the rest).
 * @param {string} filter @param {string} topic
 */
function topicMatches(filter, topic) {
  const f = filter.split('/');
  const t = topic.split('/');
  for (let i = 0; i < f.length; i++) {
    if (f[i] === '#') return true;
    if (i >= t.length || (f[i] !== '+' && f[i] !== t[i])) return false;
  }
  return f.length === t.length;
}

/**
 * A comma-separated list from an editor field: trimmed, without empties or repeats.
 * @param {unknown} text
 * @returns {string[]}
 */
function listOf(text) {
  if (typeof text !== 'string') return [];
  return [...new Set(text.split(',').map((s) => s.trim()))].filter((s) => s !== '');
}

/**
 * A reading from the payload of a readings topic, or the reason it is not one.
 * @param {Buffer | string} payload
 * @returns {{ ok: true, reading: Reading } | { ok: false, reason: string }}
 */
function parseReading(payload) {
  /** @type {unknown} */
  let value;
  try {
    value = JSON.parse(payload.toString());
  } catch {
    return { ok: false, reason: 'not JSON' };
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return { ok: false, reason: 'not an object' };
  }
  const r = /** @type {Record<string, unknown>} */ (value);
  if (!isId(r.device)) return { ok: false, reason: 'no device id' };
  if (!isKind(r.kind)) return { ok: false, reason: 'no known kind' };
  if (typeof r.district !== 'string') return { ok: false, reason: 'no district' };
  if (typeof r.time !== 'string' || !Number.isFinite(Date.parse(r.time)))
    return { ok: false, reason: 'no time' };
  if (typeof r.fields !== 'object' || r.fields === null || Array.isArray(r.fields)) {
    return { ok: false, reason: 'no fields' };
  }
  const fields = /** @type {Record<string, number | boolean>} */ (r.fields);
  return {
    ok: true,
    reading: { device: r.device, kind: r.kind, district: r.district, time: r.time, fields },
  };
}

/**
 * The message's property when it is set, else the node's setting (an empty setting counts as unset).
 * @param {Record<string, unknown>} msg @param {string} name @param {unknown} setting
 * @returns {unknown}
 */
function pick(msg, name, setting) {
  if (msg[name] !== undefined && msg[name] !== null) return msg[name];
  return setting === '' ? undefined : setting;
}

/** @param {Record<string, unknown>} msg @returns {Record<string, unknown>} */
function readingOf(msg) {
  const r = msg.reading;
  return typeof r === 'object' && r !== null ? /** @type {Record<string, unknown>} */ (r) : {};
}

/**
 * The alert a message is about: the rule, and the device and kind from the message, its reading, or the
 * node's settings.
 * @param {RequestSettings} s @param {Record<string, unknown>} msg @param {string[]} problems
 * @returns {AlertKey | undefined}
 */
function keyOf(s, msg, problems) {
  const rule = pick(msg, 'rule', s.rule);
  const device = pick(msg, 'device', readingOf(msg).device);
  const kind = pick(msg, 'kind', readingOf(msg).kind ?? s.kind);
  if (!isId(rule)) problems.push(`rule: ${describe(rule)} is not a rule id (letters, digits, _ . -; 1–64)`);
  if (!isId(device))
    problems.push(`device: ${describe(device)} is not a device id (msg.device or msg.reading.device)`);
  if (!isKind(kind)) problems.push(`kind: ${describe(kind)} is not one of ${KINDS.join(', ')}`);
  return isId(rule) && isId(device) && isKind(kind) ? { rule, device, kind } : undefined;
}

/** @param {unknown} v */
const describe = (v) => (v === undefined ? 'missing' : JSON.stringify(v));

/**
 * A text of 1..max characters after trimming, or a problem.
 * @param {string} name @param {unknown} v @param {number} max @param {string[]} problems
 * @returns {string | undefined}
 */
function text(name, v, max, problems) {
  if (typeof v !== 'string' || v.trim() === '') {
    problems.push(`${name}: ${describe(v)} is not a text`);
    return undefined;
  }
  const t = v.trim();
  if (t.length > max) problems.push(`${name}: longer than ${max} characters`);
  return t;
}

/**
 * An optional finite number.
 * @param {string} name @param {unknown} v @param {string[]} problems
 * @returns {number | undefined}
 */
function optionalNumber(name, v, problems) {
  if (v === undefined || v === null || v === '') return undefined;
  if (typeof v === 'number' && Number.isFinite(v)) return v;
  problems.push(`${name}: ${describe(v)} is not a finite number`);
  return undefined;
}

/**
 * `at` as RFC 3339: from a string, epoch milliseconds or a Date; undefined when unset.
 * @param {unknown} v @param {string[]} problems
 * @returns {string | undefined}
 */
function timeOf(v, problems) {
  if (v === undefined || v === null || v === '') return undefined;
  if (v instanceof Date && Number.isFinite(v.getTime())) return v.toISOString();
  if (typeof v === 'number' && Number.isInteger(v) && v >= 0) return new Date(v).toISOString();
  if (typeof v === 'string' && RFC3339.test(v) && Number.isFinite(Date.parse(v))) return v;
  problems.push(`at: ${describe(v)} is not an RFC 3339 time (with offset) or epoch milliseconds`);
  return undefined;
}

/**
 * The raise request a message asks for: topic and body, or every problem found.
 * @param {string} prefix @param {RequestSettings} s @param {Record<string, unknown>} msg
 * @returns {Built<RaiseBody>}
 */
function buildRaise(prefix, s, msg) {
  /** @type {string[]} */
  const problems = [];
  const key = keyOf(s, msg, problems);
  const title = text('title', pick(msg, 'title', s.title), MAX_TITLE, problems);
  const severity = pick(msg, 'severity', s.severity);
  if (!isSeverity(severity)) {
    problems.push(`severity: ${describe(severity)} is not one of ${SEVERITIES.join(', ')}`);
  }
  const owner = text('owner', pick(msg, 'owner', s.owner), MAX_OWNER, problems);
  if (owner !== undefined && !OWNER_PATTERN.test(owner)) {
    problems.push('owner: no control characters or backslashes');
  }
  // Without a message, `<device>: <title>`; when those are missing too, their problems say it all.
  const given = pick(msg, 'message', s.message) ?? (key && title ? `${key.device}: ${title}` : undefined);
  const message = given === undefined ? undefined : text('message', given, MAX_MESSAGE, problems);
  const value = optionalNumber(
    'value',
    msg.value ?? (typeof msg.payload === 'number' ? msg.payload : undefined),
    problems,
  );
  const threshold = optionalNumber('threshold', msg.threshold, problems);
  const level = msg.level === null ? undefined : msg.level;
  if (level !== undefined && !(typeof level === 'number' && Number.isInteger(level) && level >= 1)) {
    problems.push(`level: ${describe(level)} is not a whole number from 1`);
  }
  const at = timeOf(msg.at, problems);
  if (problems.length > 0 || !key || !title || !isSeverity(severity) || !owner || !message) {
    return { ok: false, problems };
  }
  /** @type {RaiseBody} */
  const body = { title, severity, owner, message };
  if (value !== undefined) body.value = value;
  if (threshold !== undefined) body.threshold = threshold;
  if (typeof level === 'number') body.level = level;
  if (at !== undefined) body.at = at;
  return { ok: true, topic: `${alertTopic(prefix, key)}/raise`, key, body };
}

/**
 * The clear request a message asks for.
 * @param {string} prefix @param {RequestSettings} s @param {Record<string, unknown>} msg
 * @returns {Built<ClearBody>}
 */
function buildClear(prefix, s, msg) {
  /** @type {string[]} */
  const problems = [];
  const key = keyOf(s, msg, problems);
  const given = pick(msg, 'message', s.message);
  const message = given === undefined ? undefined : text('message', given, MAX_MESSAGE, problems);
  const at = timeOf(msg.at, problems);
  if (problems.length > 0 || !key) return { ok: false, problems };
  /** @type {ClearBody} */
  const body = {};
  if (message !== undefined) body.message = message;
  if (at !== undefined) body.at = at;
  return { ok: true, topic: `${alertTopic(prefix, key)}/clear`, key, body };
}

module.exports = {
  KINDS,
  SEVERITIES,
  ID_PATTERN,
  DEFAULT_PREFIX,
  isId,
  isKind,
  prefixProblem,
  readingsFilter,
  alertTopic,
  topicMatches,
  listOf,
  parseReading,
  buildRaise,
  buildClear,
};
