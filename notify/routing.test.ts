// The routing file: checked whole with every problem at its line and column, receivers checked against the
// registry's agencies, and what it makes of an alert: the routes it takes, its receivers, its group,
// its timing and its escalation chain. The Huế file is checked against the Huế agencies.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { AgenciesFile, AgencyInput, type AgencyRecord } from '../devices/index.ts';
import { planAlert, type AlertFacts } from './plan.ts';
import { parseRouting, type Routing, type RoutingProblem } from './routing.ts';
import { startRouting } from './service.ts';

const hue = AgenciesFile.parse(
  JSON.parse(readFileSync(new URL('../devices/hue-agencies.json', import.meta.url), 'utf8')),
);
const agency = (input: Parameters<typeof AgencyInput.parse>[0]): AgencyRecord => ({
  ...AgencyInput.parse(input),
  created_at: '2026-12-01T00:00:00.000Z',
  updated_at: '2026-12-01T00:00:00.000Z',
});
const AGENCIES = new Map<string, AgencyRecord>(
  [
    ...hue.agencies.map(agency),
    agency({
      id: 'flood-control',
      name: { vi: 'Ban Chỉ huy PCTT và TKCN', en: 'Flood steering committee' },
      receivers: [
        { id: 'control-room', type: 'mqtt' },
        { id: 'duty-desk', type: 'webhook', url: 'https://ops.example.org/flood' },
        { id: 'head', type: 'email', to: ['head@example.org'] },
      ],
    }),
  ].map((a) => [a.id, a]),
);

const at = (p: RoutingProblem) => `${p.line}:${p.column} ${p.code}`;

function routing(text: string): Routing {
  const r = parseRouting(text, 'routing.yaml', AGENCIES);
  if (!r.ok) throw new Error(JSON.stringify(r.problems));
  return r.routing;
}

const riverAlarm: AlertFacts = {
  agency: 'flood-control',
  severity: 'critical',
  kind: 'flood',
  district: 'Kim Long',
  rule: 'river-alarm-level',
  device: 'rg-kim-long',
  tags: ['river'],
};

describe('parseRouting', () => {
  it('lists every problem at once, each at its line and column', () => {
    const text = `defaults:
  group_wait: soon
routes:
  - match: { agency: flood-control, severity: urgent }
    receivers: [flood-control/duty-desk]
    contine: true
  - receivers: [lighting, flood-control/pager, ioc, $owner]
    escalate:
      - { after: 15m, receivers: [Flood Control] }
`;
    const r = parseRouting(text, 'routing.yaml', AGENCIES);
    expect(r.ok ? [] : r.problems.map(at)).toEqual([
      '2:15 NOTIFY_ERR_SCHEMA',
      '4:47 NOTIFY_ERR_SCHEMA',
      '6:5 NOTIFY_ERR_SCHEMA',
      '9:35 NOTIFY_ERR_SCHEMA',
    ]);
    // Schema first; once it holds, the receivers are checked against the registry.
    const fixed = text
      .replace('soon', '30s')
      .replace('urgent', 'critical')
      .replace('contine', 'continue')
      .replace('Flood Control', 'flood-control/head');
    const unknown = parseRouting(fixed, 'routing.yaml', AGENCIES);
    expect(unknown.ok ? [] : unknown.problems.map((p) => `${at(p)} ${p.message}`)).toEqual([
      expect.stringMatching(
        /^7:17 NOTIFY_ERR_UNKNOWN_RECEIVER lighting: no agency lighting in the registry \(known: environment, flood-control, hepco, ioc\)$/,
      ),
      expect.stringMatching(
        /^7:27 NOTIFY_ERR_UNKNOWN_RECEIVER flood-control\/pager: agency flood-control has no receiver pager \(it has: control-room, duty-desk, head\)$/,
      ),
    ]);
  });

  it('refuses what is not YAML, at the slip', () => {
    const r = parseRouting('routes:\n  - receivers: [ioc\n', 'routing.yaml', AGENCIES);
    expect(r.ok ? [] : r.problems.map((p) => p.code)).toContain('NOTIFY_ERR_YAML');
  });

  it("applies the file's defaults, then Alertmanager's, to each route", () => {
    const r = routing(`defaults: { group_wait: 10s }
routes:
  - { receivers: [ioc], repeat_interval: 1h }
`);
    expect(r.routes[0]).toMatchObject({
      index: 1,
      line: 3,
      groupBy: ['agency', 'rule'],
      groupWaitMs: 10_000,
      groupIntervalMs: 300_000,
      repeatIntervalMs: 3_600_000,
    });
  });

  it('takes 0s for a group to wait (tell at once), but not for it to repeat', () => {
    expect(
      routing('routes:\n  - { receivers: [ioc], group_wait: 0s, group_interval: 0s }\n').routes[0],
    ).toMatchObject({
      groupWaitMs: 0,
      groupIntervalMs: 0,
    });
    const r = parseRouting(
      'routes:\n  - { receivers: [ioc], repeat_interval: 0s }\n',
      'routing.yaml',
      AGENCIES,
    );
    expect(r.ok ? [] : r.problems.map(at)).toEqual(['2:42 NOTIFY_ERR_SCHEMA']);
  });
});

describe('planAlert', () => {
  const text = `routes:
  - name: critical floods
    match: { agency: flood-control, severity: [critical], tags: [river] }
    receivers: [$owner, ioc/control-room]
    group_by: [agency, district]
    continue: true
    escalate:
      - { after: target, receivers: [flood-control/head] }
      - { after: 1h, receivers: [ioc] }
  - name: floods
    match: { kind: flood }
    receivers: [flood-control/control-room]
  - name: everything else
    receivers: [$owner]
`;

  it('takes the first route that matches, and the next ones while a route says continue', () => {
    const plan = planAlert(routing(text), AGENCIES, riverAlarm);
    expect(plan.map((p) => p.name)).toEqual(['critical floods', 'floods']);
    expect(
      planAlert(routing(text), AGENCIES, { ...riverAlarm, severity: 'warning' }).map((p) => p.name),
    ).toEqual(['floods']);
    const lamp = { ...riverAlarm, agency: 'hepco', kind: 'streetlight', tags: [] };
    expect(planAlert(routing(text), AGENCIES, lamp).map((p) => p.name)).toEqual(['everything else']);
  });

  it("resolves $owner to the owner's receivers, each once, with its group and escalation chain", () => {
    const [critical] = planAlert(routing(text), AGENCIES, riverAlarm);
    expect(critical).toMatchObject({
      group: { agency: 'flood-control', district: 'Kim Long' },
      receivers: [
        { agency: 'flood-control', receiver: 'control-room', type: 'mqtt' },
        { agency: 'flood-control', receiver: 'duty-desk', type: 'webhook' },
        { agency: 'flood-control', receiver: 'head', type: 'email' },
        { agency: 'ioc', receiver: 'control-room', type: 'mqtt' },
      ],
      groupWaitMs: 30_000,
      // The owner's acknowledge target for a critical alert (15 minutes unless set), then an hour.
      escalate: [
        { afterMs: 15 * 60_000, receivers: [{ agency: 'flood-control', receiver: 'head', type: 'email' }] },
        { afterMs: 3_600_000, receivers: [{ agency: 'ioc', receiver: 'control-room', type: 'mqtt' }] },
      ],
      unresolved: [],
    });
  });

  it('says what it cannot resolve: $owner of an owner that is no agency', () => {
    const plan = planAlert(routing(text), AGENCIES, { ...riverAlarm, agency: 'nobody', kind: 'air_quality' });
    expect(plan).toMatchObject([{ name: 'everything else', receivers: [], unresolved: ['$owner'] }]);
  });
});

describe('the Huế routing file (notify/hue/routing.yaml)', () => {
  const file = new URL('./hue/routing.yaml', import.meta.url);
  const hueAgencies = new Map(hue.agencies.map((a) => [a.id, agency(a)]));
  const parsed = parseRouting(readFileSync(file, 'utf8'), 'routing.yaml', hueAgencies);

  it('validates against the Huế agencies', () => {
    expect(parsed.ok ? [] : parsed.problems).toEqual([]);
  });

  it('tells the flood steering committee of a critical river alarm within seconds, the operations centre past its target', () => {
    if (!parsed.ok) throw new Error('does not load');
    const [route, ...more] = planAlert(parsed.routing, hueAgencies, riverAlarm);
    expect(more).toEqual([]);
    expect(route).toMatchObject({
      receivers: [{ agency: 'flood-control', receiver: 'control-room', type: 'mqtt' }],
      group: { agency: 'flood-control', rule: 'river-alarm-level', district: 'Kim Long' },
      groupWaitMs: 10_000,
      repeatIntervalMs: 3_600_000,
      escalate: [
        { afterMs: 15 * 60_000, receivers: [{ agency: 'ioc', receiver: 'control-room', type: 'mqtt' }] },
      ],
    });
  });
});

describe('working hours', () => {
  const text = `routes:
  - match: { agency: flood-control, hours: outside }
    receivers: [$owner, ioc]
  - receivers: [$owner]
`;
  const during = (inHours: boolean | undefined) =>
    planAlert(routing(text), AGENCIES, { ...riverAlarm, ...(inHours === undefined ? {} : { inHours }) }).map(
      (p) => p.receivers.map((r) => `${r.agency}/${r.receiver}`),
    );

  it("route an alert outside its owner's working hours to the operations centre as well", () => {
    expect(during(false)).toEqual([
      ['flood-control/control-room', 'flood-control/duty-desk', 'flood-control/head', 'ioc/control-room'],
    ]);
    expect(during(true)).toEqual([
      ['flood-control/control-room', 'flood-control/duty-desk', 'flood-control/head'],
    ]);
    // An owner without working hours is always at work.
    expect(during(undefined)).toEqual(during(true));
  });

  it("are read by the routing in force on the city's clock, from the owner's record", async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'routing-hours-'));
    const file = path.join(dir, 'routing.yaml');
    writeFileSync(file, text);
    const office = { days: [1, 2, 3, 4, 5], from: '07:30', to: '17:00' };
    const owners = [...AGENCIES.values()].map((a) =>
      a.id === 'flood-control' ? { ...a, working_hours: office } : a,
    );
    let now = Date.parse('2026-12-07T01:00:00Z'); // Monday 08:00 in Huế
    const service = await startRouting({
      file,
      watch: false,
      agencies: () => owners,
      log: pino({ level: 'silent' }),
      clock: () => now,
      timeZone: 'Asia/Ho_Chi_Minh',
    });
    const receivers = () => service.plan(riverAlarm).flatMap((p) => p.receivers.map((r) => r.agency));
    expect(receivers()).not.toContain('ioc');
    now = Date.parse('2026-12-07T11:00:00Z'); // 18:00
    expect(receivers()).toContain('ioc');
    service.close();
    rmSync(dir, { recursive: true, force: true });
  });
});
