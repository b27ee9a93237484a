// Flows' alert requests, decided without I/O: payload validation, the registry and rule-file checks, and the
// trigger each valid request becomes; then the handler's bookkeeping (dead letters, counts, what is left
// unacknowledged) and the decoded readings, with fakes in place of the alert service and the broker.
import fc from 'fast-check';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { createTopics, type DeviceRecord, type Reading } from '../devices/index.ts';
import { AlertsError } from '../alerts/index.ts';
import type { Alert, TriggerInput } from '../alerts/index.ts';
import { RULES_ERRORS } from '../rules/index.ts';
import {
  createFlowReadings,
  createFlowRequests,
  decideFlowRequest,
  FLOW_ERROR_CODES,
  FLOW_MAX_AGE_MS,
  FLOW_MAX_FUTURE_MS,
  flowReading,
  type FlowContext,
  type FlowDeadLetter,
  type FlowRequestTopic,
} from './index.ts';

const NOW = Date.parse('2026-11-28T02:00:00Z');
const log = pino({ level: 'silent' });

const gauge: DeviceRecord = {
  id: 'rg-kim-long',
  kind: 'flood',
  name: 'Kim Long gauge',
  district: 'Kim Long',
  location: { lat: 16.46, lon: 107.55 },
  tags: ['river'],
  status: 'active',
  meta: { type: 'river' },
  createdAt: '2026-01-01T00:00:00.000Z',
  updatedAt: '2026-01-01T00:00:00.000Z',
};
const station: DeviceRecord = {
  ...gauge,
  id: 'aq-dai-noi',
  kind: 'air_quality',
  name: 'Đại Nội station',
  district: 'Thuận Hòa',
  meta: {},
};
const retired: DeviceRecord = { ...gauge, id: 'rg-old', status: 'decommissioned' };
const devices = new Map([gauge, station, retired].map((d) => [d.id, d]));

const openAlert = (over: Partial<Alert> = {}): Alert => ({
  id: 7,
  rule: 'nr-river-trend',
  device: gauge.id,
  kind: 'flood',
  district: gauge.district,
  owner: 'flood control',
  title: 'River rising fast',
  severity: 'warning',
  state: 'open',
  source: 'flow',
  message: 'rising',
  value: 2.1,
  threshold: 2,
  level: 1,
  raisedAt: '2026-11-28T01:00:00.000Z',
  updatedAt: '2026-11-28T01:00:00.000Z',
  acknowledgedAt: null,
  acknowledgedBy: null,
  acknowledgeNote: null,
  resolvedAt: null,
  resolvedBy: null,
  resolveNote: null,
  resolution: null,
  ...over,
});

function context(over: Partial<FlowContext> = {}): FlowContext {
  return {
    getDevice: (id) => devices.get(id),
    isFileRule: (id) => id === 'river-alarm-level',
    open: undefined,
    now: NOW,
    ...over,
  };
}

const topic = (
  channel: 'raise' | 'clear',
  over: Partial<Omit<FlowRequestTopic, 'type' | 'channel'>> = {},
): FlowRequestTopic => ({
  type: 'alert-request',
  kind: 'flood',
  device: gauge.id,
  rule: 'nr-river-trend',
  channel,
  ...over,
});

const json = (v: unknown) => Buffer.from(JSON.stringify(v));
const raise = {
  title: 'River rising fast',
  severity: 'warning',
  owner: 'flood control',
  message: 'Kim Long: +0.4 m in 1 h',
};

describe('decideFlowRequest: raise', () => {
  it('becomes a raise trigger with source flow, the district from the registry and the defaults', () => {
    expect(decideFlowRequest(topic('raise'), json(raise), context())).toEqual({
      ok: true,
      trigger: {
        type: 'raise',
        rule: 'nr-river-trend',
        device: gauge.id,
        kind: 'flood',
        district: 'Kim Long',
        owner: 'flood control',
        title: 'River rising fast',
        severity: 'warning',
        message: 'Kim Long: +0.4 m in 1 h',
        value: null,
        threshold: null,
        level: 1,
        at: NOW,
        source: 'flow',
      } satisfies TriggerInput,
    });
  });

  it.each([
    ['RFC 3339 with an offset', '2026-11-28T08:30:00+07:00', Date.parse('2026-11-28T01:30:00Z')],
    ['epoch milliseconds', NOW - 60_000, NOW - 60_000],
  ])('takes value, threshold, level and `at` as %s', (_what, at, ms) => {
    const d = decideFlowRequest(
      topic('raise'),
      json({ ...raise, value: 2.4, threshold: 2, level: 2, at }),
      context(),
    );
    expect(d).toMatchObject({ ok: true, trigger: { value: 2.4, threshold: 2, level: 2, at: ms } });
  });

  it('trims the texts as rule files do, and takes null value and threshold', () => {
    const d = decideFlowRequest(
      topic('raise'),
      json({ ...raise, title: '  River  ', owner: ' flood control ', value: null, threshold: null }),
      context(),
    );
    expect(d).toMatchObject({ ok: true, trigger: { title: 'River', owner: 'flood control', value: null } });
  });

  it.each([
    ['an empty payload', Buffer.alloc(0)],
    ['not JSON', Buffer.from('raise!')],
    ['broken UTF-8', Buffer.from([0x7b, 0xff, 0x7d])],
    ['a JSON array', json([raise])],
    ['no title', json({ ...raise, title: undefined })],
    ['an empty title', json({ ...raise, title: '   ' })],
    ['a title over 200 characters', json({ ...raise, title: 'x'.repeat(201) })],
    ['an unknown severity', json({ ...raise, severity: 'urgent' })],
    ['no owner', json({ ...raise, owner: undefined })],
    ['an owner with a backslash', json({ ...raise, owner: 'flood\\control' })],
    ['an owner with a line break', json({ ...raise, owner: 'flood\ncontrol' })],
    ['an owner over 100 characters', json({ ...raise, owner: 'o'.repeat(101) })],
    ['no message', json({ ...raise, message: undefined })],
    ['a message over 1 000 characters', json({ ...raise, message: 'm'.repeat(1001) })],
    ['a value that is text', json({ ...raise, value: '2.4' })],
    ['level 0', json({ ...raise, level: 0 })],
    ['a fractional level', json({ ...raise, level: 1.5 })],
    ['a time without an offset', json({ ...raise, at: '2026-11-28T01:00:00' })],
    ['a negative epoch', json({ ...raise, at: -1 })],
    ['a field the contract does not have', json({ ...raise, severty: 'critical' })],
  ])('refuses %s as RULES_ERR_FLOW_REQUEST', (_what, payload) => {
    const d = decideFlowRequest(topic('raise'), payload, context());
    expect(d).toMatchObject({ ok: false, code: 'RULES_ERR_FLOW_REQUEST' });
    if (!d.ok) expect(d.detail.length).toBeGreaterThan(0);
  });

  it('names the fields at fault', () => {
    const d = decideFlowRequest(topic('raise'), json({ ...raise, severity: 'urgent', level: 0 }), context());
    expect(d.ok).toBe(false);
    if (!d.ok) {
      expect(d.detail).toContain('severity');
      expect(d.detail).toContain('level');
    }
  });

  it.each([
    ['more than 5 minutes ahead', NOW + FLOW_MAX_FUTURE_MS + 1],
    ['more than a year behind', NOW - FLOW_MAX_AGE_MS - 1],
  ])('refuses a time %s', (_what, at) => {
    expect(decideFlowRequest(topic('raise'), json({ ...raise, at }), context())).toMatchObject({
      ok: false,
      code: 'RULES_ERR_FLOW_REQUEST',
    });
  });

  it('refuses a rule id that is not a rule file id', () => {
    const d = decideFlowRequest(topic('raise', { rule: 'bad rule' }), json(raise), context());
    expect(d).toMatchObject({ ok: false, code: 'RULES_ERR_FLOW_REQUEST' });
  });

  it.each([
    ['not registered', topic('raise', { device: 'rg-nowhere' })],
    ['decommissioned', topic('raise', { device: retired.id })],
    ['of another kind than the topic says', topic('raise', { kind: 'air_quality' })],
  ])('refuses a device %s as RULES_ERR_FLOW_DEVICE', (_what, t) => {
    expect(decideFlowRequest(t, json(raise), context())).toMatchObject({
      ok: false,
      code: 'RULES_ERR_FLOW_DEVICE',
    });
  });

  it('refuses an owner that is not an agency of the registry as RULES_ERR_FLOW_AGENCY', () => {
    const agencies = context({ isAgency: (id) => id === 'flood-control' });
    const d = decideFlowRequest(topic('raise'), json(raise), agencies);
    expect(d).toMatchObject({ ok: false, code: 'RULES_ERR_FLOW_AGENCY' });
    if (!d.ok) expect(d.detail).toContain('flood control');
    const named = decideFlowRequest(topic('raise'), json({ ...raise, owner: 'flood-control' }), agencies);
    expect(named).toMatchObject({ ok: true });
  });

  it("refuses a rule file's id as RULES_ERR_FLOW_RULE", () => {
    const d = decideFlowRequest(topic('raise', { rule: 'river-alarm-level' }), json(raise), context());
    expect(d).toMatchObject({ ok: false, code: 'RULES_ERR_FLOW_RULE' });
  });

  it('refuses to touch an open alert a rule file raised, even after its file is gone', () => {
    const ctx = context({ open: openAlert({ source: 'rule' }) });
    expect(decideFlowRequest(topic('raise'), json(raise), ctx)).toMatchObject({
      ok: false,
      code: 'RULES_ERR_FLOW_RULE',
    });
    expect(decideFlowRequest(topic('clear'), Buffer.alloc(0), ctx)).toMatchObject({
      ok: false,
      code: 'RULES_ERR_FLOW_RULE',
    });
  });

  it('never throws, and refuses only with a flow code (property)', () => {
    const anyJson = fc.oneof(fc.jsonValue(), fc.record({ title: fc.string(), severity: fc.string() }));
    fc.assert(
      fc.property(fc.constantFrom('raise' as const, 'clear' as const), anyJson, (action, body) => {
        const d = decideFlowRequest(topic(action), json(body), context());
        if (!d.ok) expect(FLOW_ERROR_CODES).toContain(d.code);
      }),
    );
  });
});

describe('decideFlowRequest: clear', () => {
  it('with no open alert asks for nothing, even with an empty payload', () => {
    expect(decideFlowRequest(topic('clear'), Buffer.alloc(0), context())).toEqual({
      ok: true,
      trigger: undefined,
    });
  });

  it('resolves the open alert as it stands, with the message a rule file says by default', () => {
    const d = decideFlowRequest(topic('clear'), Buffer.alloc(0), context({ open: openAlert() }));
    expect(d).toEqual({
      ok: true,
      trigger: {
        type: 'clear',
        rule: 'nr-river-trend',
        device: gauge.id,
        kind: 'flood',
        district: 'Kim Long',
        owner: 'flood control',
        title: 'River rising fast',
        severity: 'warning',
        message: 'Kim Long gauge: cleared (River rising fast)',
        value: 2.1,
        threshold: 2,
        level: 1,
        at: NOW,
        source: 'flow',
      } satisfies TriggerInput,
    });
  });

  it('takes a message and a time', () => {
    const at = '2026-11-28T01:59:00Z';
    const d = decideFlowRequest(
      topic('clear'),
      json({ message: 'back to normal', at }),
      context({ open: openAlert() }),
    );
    expect(d).toMatchObject({ ok: true, trigger: { message: 'back to normal', at: Date.parse(at) } });
  });

  it.each([
    ['an unknown field', json({ note: 'x' })],
    ['an empty message', json({ message: '' })],
    ['JSON that is not an object', json('clear')],
  ])('refuses %s', (_what, payload) => {
    expect(decideFlowRequest(topic('clear'), payload, context())).toMatchObject({
      ok: false,
      code: 'RULES_ERR_FLOW_REQUEST',
    });
  });

  it('checks the device and the rule as a raise does', () => {
    expect(
      decideFlowRequest(topic('clear', { device: retired.id }), Buffer.alloc(0), context()),
    ).toMatchObject({ ok: false, code: 'RULES_ERR_FLOW_DEVICE' });
    expect(
      decideFlowRequest(topic('clear', { rule: 'river-alarm-level' }), Buffer.alloc(0), context()),
    ).toMatchObject({ ok: false, code: 'RULES_ERR_FLOW_RULE' });
  });
});

describe('createFlowRequests', () => {
  function harness(trigger: (input: TriggerInput) => void = () => {}) {
    const triggered: TriggerInput[] = [];
    const letters: FlowDeadLetter[] = [];
    const counts: string[] = [];
    const handle = createFlowRequests({
      alerts: {
        trigger: (input) => {
          trigger(input);
          triggered.push(input);
          return Promise.resolve(undefined);
        },
        openFor: () => Promise.resolve(undefined),
      },
      getDevice: (id) => devices.get(id),
      isFileRule: (id) => id === 'river-alarm-level',
      deadLetter: (letter) => letters.push(letter),
      metrics: { request: (action, outcome) => counts.push(`${action} ${outcome}`) },
      log,
      clock: () => NOW,
    });
    return { handle, triggered, letters, counts };
  }
  const message = (t: FlowRequestTopic, payload: Buffer) => ({
    topic: createTopics().alertRequest(t.kind, t.device, t.rule, t.channel),
    source: 'node-red',
    request: t,
    payload,
  });

  it('triggers the alert service with a valid request and counts it', async () => {
    const h = harness();
    expect(await h.handle(message(topic('raise'), json(raise)))).toBeUndefined();
    expect(h.triggered).toMatchObject([{ type: 'raise', source: 'flow', rule: 'nr-river-trend' }]);
    expect(h.letters).toEqual([]);
    expect(h.counts).toEqual(['raise accepted']);
  });

  it('dead-letters a bad request with its code, the sender, the topic and the payload, and acknowledges it', async () => {
    const h = harness();
    const payload = Buffer.from('{"title":');
    const m = message(topic('raise'), payload);
    expect(await h.handle(m)).toBeUndefined();
    expect(h.triggered).toEqual([]);
    expect(h.letters).toEqual([
      {
        at: NOW,
        source: 'node-red',
        topic: m.topic,
        code: 'RULES_ERR_FLOW_REQUEST',
        detail: expect.stringContaining('JSON') as unknown,
        payload,
      },
    ]);
    expect(h.counts).toEqual(['raise RULES_ERR_FLOW_REQUEST']);
  });

  it('dead-letters what the alert store finds invalid, and acknowledges it', async () => {
    const h = harness(() => {
      throw new AlertsError('ALERTS_ERR_INVALID', 'trigger');
    });
    expect(await h.handle(message(topic('raise'), json(raise)))).toBeUndefined();
    expect(h.letters.map((l) => l.code)).toEqual(['RULES_ERR_FLOW_REQUEST']);
  });

  it('gives back the error when the alert store fails, so the request is not acknowledged', async () => {
    const failure = new AlertsError('ALERTS_ERR_STORE', 'disk full');
    const h = harness(() => {
      throw failure;
    });
    expect(await h.handle(message(topic('raise'), json(raise)))).toBe(failure);
    expect(h.letters).toEqual([]);
    expect(h.counts).toEqual([]);
  });

  it('keeps serving when the dead letters cannot be written', async () => {
    const h = createFlowRequests({
      alerts: { trigger: () => Promise.resolve(undefined), openFor: () => Promise.resolve(undefined) },
      getDevice: () => undefined,
      isFileRule: () => false,
      deadLetter: () => {
        throw new Error('SQLITE_FULL');
      },
      metrics: { request: () => {} },
      log,
      clock: () => NOW,
    });
    expect(await h(message(topic('raise'), json(raise)))).toBeUndefined();
  });

  it('documents every code it can dead-letter in the rules error table', () => {
    for (const code of FLOW_ERROR_CODES) expect(RULES_ERRORS[code].length).toBeGreaterThan(10);
  });
});

describe('decoded readings', () => {
  const reading: Reading = { kind: 'flood', device: gauge.id, time: NOW, fields: { water_level_m: 2.4 } };

  it('are the reading with the district from the registry and its time in RFC 3339', () => {
    expect(flowReading(reading, gauge)).toEqual({
      device: gauge.id,
      kind: 'flood',
      district: 'Kim Long',
      time: '2026-11-28T02:00:00.000Z',
      fields: { water_level_m: 2.4 },
    });
  });

  it('are published one per reading on its readings topic, with the derived fields', () => {
    const sent: Array<[string, unknown]> = [];
    let counted = 0;
    const publish = createFlowReadings({
      topics: createTopics(),
      publish: (t, payload) => {
        sent.push([t, JSON.parse(payload)]);
        return Promise.resolve();
      },
      derive: (r) => ({ ...r, fields: { ...r.fields, derived: true } }),
      onPublished: (n) => (counted += n),
      log,
    });
    publish([reading, { ...reading, time: NOW + 1 }], gauge);
    expect(sent.map(([t]) => t)).toEqual([
      'city/readings/flood/rg-kim-long',
      'city/readings/flood/rg-kim-long',
    ]);
    expect(sent[0]![1]).toMatchObject({
      district: 'Kim Long',
      fields: { water_level_m: 2.4, derived: true },
    });
    expect(counted).toBe(2);
  });

  it('a failed publish is logged, not thrown', async () => {
    const publish = createFlowReadings({
      topics: createTopics(),
      publish: () => Promise.reject(new Error('broker closed')),
      derive: (r) => r,
      onPublished: () => {},
      log,
    });
    expect(() => publish([reading], gauge)).not.toThrow();
    await new Promise((r) => setImmediate(r));
  });
});
