// The custom nodes in Node-RED's test runtime against the real platform (broker, registry, API, alert
// lifecycle), connected as the Huế fleet's `node-red` service account.
import type { MqttClient } from 'mqtt';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  connectClient,
  eventually,
  rows,
  startTestPlatform,
  type TestPlatform,
} from '../../test/kits/platform.ts';
import {
  ALL_NODES,
  TAB,
  callsOf,
  helper,
  lastStatus,
  nextError,
  nextInput,
  within,
} from '../../test/kits/node-red.ts';

const ACCOUNT = 'node-red';

interface AlertMessage {
  alert: { id: number; rule: string; device: string; source: string; state: string; severity: string };
  event: { type: string; message: string; value: number | null };
}

let platform: TestPlatform;
let secret: string;
const devices = new Map<string, MqttClient>();

/** The config node, pointed at the test platform. */
const platformNode = () => ({
  id: 'p',
  type: 'city-platform',
  mqttUrl: platform.mqttUrl,
  apiUrl: `http://127.0.0.1:${platform.apiPort}`,
});
const credentials = () => ({ p: { secret, apiToken: platform.adminToken } });

/** Publishes a reading from a seeded device over its own connection. */
async function publish(device: string, kind: string, fields: Record<string, number>): Promise<void> {
  let client = devices.get(device);
  if (!client) {
    const own = platform.seeded.find((p) => p.id === device)!.secret;
    client = await connectClient(platform.mqttUrl, { clientId: device, username: device, password: own });
    devices.set(device, client);
  }
  await client.publishAsync(`city/${kind}/${device}/telemetry`, JSON.stringify(fields), { qos: 1 });
}

/**
 * Publishes readings until the node outputs one: the node's subscription reaches the broker a moment
 * after it connects, and the platform publishes readings only to those who already listen.
 */
async function firstOutput(
  out: Parameters<typeof nextInput>[0],
  send: () => Promise<void>,
): Promise<Record<string, unknown>> {
  const got = nextInput(out);
  let received = false;
  void got.then(() => (received = true));
  await eventually(async () => {
    if (received) return true;
    await send();
    await Promise.race([got, new Promise((r) => setTimeout(r, 250))]);
    return received ? true : undefined;
  });
  return got;
}

beforeAll(async () => {
  platform = await startTestPlatform({ CITY_SEED_FLEET: 'true' });
  secret = platform.seeded.find((p) => p.id === ACCOUNT)!.secret;
});

afterEach(() => helper.unload());

afterAll(async () => {
  for (const c of devices.values()) await c.endAsync();
  await platform?.destroy();
});

describe('city-platform', () => {
  it('shows the connection on the nodes that use it', async () => {
    await helper.load(
      ALL_NODES,
      [TAB, platformNode(), { id: 't', z: 'tab', type: 'city-telemetry', platform: 'p', flood: true }],
      credentials(),
    );
    const t = helper.getNode('t');
    await eventually(() => ((lastStatus(t) as { text?: string }).text === 'connected' ? true : undefined));
    expect(lastStatus(t)).toEqual({ fill: 'green', shape: 'dot', text: 'connected' });
  });

  it('shows a refusal when the secret is wrong', async () => {
    await helper.load(
      ALL_NODES,
      [TAB, platformNode(), { id: 't', z: 'tab', type: 'city-telemetry', platform: 'p', flood: true }],
      { p: { secret: 'not-the-secret' } },
    );
    const t = helper.getNode('t');
    const refused = await eventually(() => {
      const s = lastStatus(t) as { text?: string };
      return s.text?.startsWith('refused') ? s : undefined;
    });
    expect(refused).toEqual({ fill: 'red', shape: 'dot', text: 'refused: wrong account or secret' });
  });
});

describe('city-telemetry', () => {
  it('outputs each reading decoded: the fields, the reading and the device', async () => {
    await helper.load(
      ALL_NODES,
      [
        TAB,
        platformNode(),
        { id: 't', z: 'tab', type: 'city-telemetry', platform: 'p', flood: true, wires: [['out']] },
        { id: 'out', z: 'tab', type: 'helper' },
      ],
      credentials(),
    );
    const msg = await firstOutput(helper.getNode('out'), () =>
      publish('rain-kim-long', 'flood', { rain_mm: 1.2 }),
    );
    expect(msg).toMatchObject({
      topic: 'rain-kim-long',
      payload: { rain_mm: 1.2 },
      reading: { device: 'rain-kim-long', kind: 'flood', district: 'Kim Long', fields: { rain_mm: 1.2 } },
    });
    expect(Number.isFinite(Date.parse((msg.reading as { time: string }).time))).toBe(true);
  });

  it('keeps to its districts, devices and kinds', async () => {
    await helper.load(
      ALL_NODES,
      [
        TAB,
        platformNode(),
        { id: 'all', z: 'tab', type: 'city-telemetry', platform: 'p', flood: true, wires: [['a']] },
        { id: 'a', z: 'tab', type: 'helper' },
        {
          id: 'px',
          z: 'tab',
          type: 'city-telemetry',
          platform: 'p',
          flood: true,
          air_quality: true,
          districts: 'Phú Xuân',
          wires: [['b']],
        },
        { id: 'b', z: 'tab', type: 'helper' },
        {
          id: 'one',
          z: 'tab',
          type: 'city-telemetry',
          platform: 'p',
          air_quality: true,
          devices: 'aq-dai-noi',
          wires: [['c']],
        },
        { id: 'c', z: 'tab', type: 'helper' },
      ],
      credentials(),
    );
    const seen = { b: [] as unknown[], c: [] as unknown[] };
    helper.getNode('b').on('input', (m: { topic: unknown }) => seen.b.push(m.topic));
    helper.getNode('c').on('input', (m: { topic: unknown }) => seen.c.push(m.topic));
    // Kim Long's rain gauge first, until the unfiltered node hears it; then a Phú Xuân street gauge and
    // two Phú Xuân air stations, one after the other.
    await firstOutput(helper.getNode('a'), () => publish('rain-kim-long', 'flood', { rain_mm: 0.2 }));
    await firstOutput(helper.getNode('b'), () => publish('sf-nhat-le', 'flood', { water_level_m: 0.05 }));
    await publish('aq-dong-ba', 'air_quality', { pm25: 12 });
    await publish('aq-dai-noi', 'air_quality', { pm25: 14 });
    await eventually(() => (seen.b.includes('aq-dai-noi') && seen.c.length > 0 ? true : undefined));
    expect(seen.b.filter((d) => d !== 'sf-nhat-le')).toEqual(['aq-dong-ba', 'aq-dai-noi']);
    expect(seen.b).not.toContain('rain-kim-long');
    expect(seen.c).toEqual(['aq-dai-noi']);
  });
});

describe('raise alert and clear alert', () => {
  const RULE = 'node-red-test-rule';
  const DEVICE = 'sf-le-loi';
  let watcher: MqttClient;
  const transitions: AlertMessage[] = [];

  beforeAll(async () => {
    watcher = await connectClient(platform.mqttUrl, {
      clientId: `${ACCOUNT}:watcher`,
      username: ACCOUNT,
      password: secret,
    });
    watcher.on('message', (_t, payload) => transitions.push(JSON.parse(payload.toString()) as AlertMessage));
    await watcher.subscribeAsync(`city/alerts/flood/${DEVICE}/${RULE}`, { qos: 1 });
  });

  afterAll(() => watcher?.endAsync());

  it('go through the alert lifecycle: raised, then resolved, as source flow', async () => {
    await helper.load(
      ALL_NODES,
      [
        TAB,
        platformNode(),
        {
          id: 'r',
          z: 'tab',
          type: 'city-raise-alert',
          platform: 'p',
          rule: RULE,
          title: 'Test alert from a flow',
          severity: 'warning',
          owner: 'flood-control',
          wires: [['raised']],
        },
        { id: 'raised', z: 'tab', type: 'helper' },
        { id: 'c', z: 'tab', type: 'city-clear-alert', platform: 'p', rule: RULE, wires: [['cleared']] },
        { id: 'cleared', z: 'tab', type: 'helper' },
      ],
      credentials(),
    );
    const sent = nextInput(helper.getNode('raised'));
    helper
      .getNode('r')
      .receive({ device: DEVICE, kind: 'flood', payload: 0.31, message: 'water on the road' });
    expect(await within(sent, 'the broker acknowledging the raise request')).toMatchObject({
      alertRequest: { topic: `city/alerts/flood/${DEVICE}/${RULE}/raise`, rule: RULE, device: DEVICE },
    });
    const raised = await eventually(() => transitions.find((t) => t.event.type === 'raised'));
    expect(raised.alert).toMatchObject({
      rule: RULE,
      device: DEVICE,
      source: 'flow',
      state: 'open',
      severity: 'warning',
    });
    expect(raised.event).toMatchObject({ message: 'water on the road', value: 0.31 });

    helper.getNode('c').receive({ reading: { device: DEVICE, kind: 'flood' }, message: 'dry again' });
    const resolved = await eventually(() => transitions.find((t) => t.event.type === 'resolved'));
    expect(resolved.alert).toMatchObject({ id: raised.alert.id, state: 'resolved', source: 'flow' });

    const res = await fetch(`http://127.0.0.1:${platform.apiPort}/api/alerts?rule=${RULE}`, {
      headers: { authorization: `Bearer ${platform.adminToken}` },
    });
    const { alerts } = (await res.json()) as { alerts: Array<{ id: number; state: string; source: string }> };
    expect(alerts.map((a) => [a.id, a.state, a.source])).toEqual([[raised.alert.id, 'resolved', 'flow']]);
    const stored = await eventually(async () => {
      // InfluxQL answers a query only when it selects a field: `open` (event and source are tags).
      const r = await rows(
        platform,
        `SELECT "event", "source", "open" FROM "alerts" WHERE "rule" = '${RULE}'`,
      );
      return r.length === 2 ? r : undefined;
    });
    expect(stored.map((r) => [r.event, r.source, r.open])).toEqual([
      ['raised', 'flow', 1],
      ['resolved', 'flow', 0],
    ]);
  });

  it('publish nothing when the message is bad', async () => {
    await helper.load(
      ALL_NODES,
      [
        TAB,
        platformNode(),
        { id: 'r', z: 'tab', type: 'city-raise-alert', platform: 'p', rule: RULE, wires: [['raised']] },
        { id: 'raised', z: 'tab', type: 'helper' },
      ],
      credentials(),
    );
    const r = helper.getNode('r');
    const error = nextError(r);
    r.receive({ device: DEVICE, kind: 'flood', severity: 'warning', owner: 'flood-control' });
    expect((await error).text).toContain('title: missing');
    expect(callsOf(r, 'send')).toEqual([]);
  });
});

describe('device info', () => {
  const flow = () => [
    TAB,
    platformNode(),
    { id: 'd', z: 'tab', type: 'city-device-info', platform: 'p', wires: [['out']] },
    { id: 'out', z: 'tab', type: 'helper' },
  ];

  it("sets the registry's record as msg.deviceInfo", async () => {
    await helper.load(ALL_NODES, flow(), credentials());
    const out = nextInput(helper.getNode('out'));
    helper.getNode('d').receive({ reading: { device: 'rg-kim-long' }, payload: { water_level_m: 1.1 } });
    expect(await out).toMatchObject({
      payload: { water_level_m: 1.1 },
      deviceInfo: {
        id: 'rg-kim-long',
        kind: 'flood',
        district: 'Kim Long',
        meta: { alarm_levels_m: [1, 2, 3.5] },
      },
    });
  });

  it("reports an unknown device with the API's code", async () => {
    await helper.load(ALL_NODES, flow(), credentials());
    const d = helper.getNode('d');
    const error = nextError(d);
    d.receive({ device: 'no-such-device' });
    expect((await error).text).toContain('404 API_ERR_NOT_FOUND');
  });

  it('reports a token the API refuses', async () => {
    await helper.load(ALL_NODES, flow(), { p: { secret, apiToken: 'not-a-token' } });
    const d = helper.getNode('d');
    const error = nextError(d);
    d.receive({ device: 'rg-kim-long' });
    expect((await error).text).toMatch(/answered 401/);
  });
});

describe('send command', () => {
  const flow = () => [
    TAB,
    platformNode(),
    {
      id: 's',
      z: 'tab',
      type: 'city-send-command',
      platform: 'p',
      wires: [['out']],
    },
    { id: 'out', z: 'tab', type: 'helper' },
  ];
  const withCommand = (settings: Record<string, unknown>) =>
    flow().map((n) => (n.id === 's' ? { ...n, ...settings } : n));

  it('sends a command to the reading’s device, which receives it; the answer is msg.payload', async () => {
    const lamp = 'sl-hung-vuong-01';
    const own = platform.seeded.find((p) => p.id === lamp)!.secret;
    const client = await connectClient(platform.mqttUrl, { clientId: lamp, username: lamp, password: own });
    const received: Array<{ id: number; type: string; params: unknown }> = [];
    client.on('message', (_t, payload) =>
      received.push(JSON.parse(payload.toString()) as (typeof received)[number]),
    );
    await client.subscribeAsync(`city/streetlight/${lamp}/commands`, { qos: 1 });
    try {
      await helper.load(
        ALL_NODES,
        withCommand({ command: 'set_dim', params: '{"level_pct": 30}' }),
        credentials(),
      );
      const out = nextInput(helper.getNode('out'));
      helper.getNode('s').receive({ reading: { device: lamp }, payload: { lamp_on: true } });
      const answer = (await out) as {
        payload: { batch: number; commands: Array<{ id: number; state: string }> };
      };
      expect(answer.payload.commands).toEqual([expect.objectContaining({ state: 'sent' })]);
      const got = await eventually(() => received.find((m) => m.id === answer.payload.commands[0]!.id));
      expect(got).toMatchObject({ type: 'set_dim', params: { level_pct: 30 } });
    } finally {
      await client.endAsync();
    }
  });

  it("reports a command the platform refuses, with the API's code and the command's", async () => {
    await helper.load(
      ALL_NODES,
      withCommand({ command: 'set_dim', params: '{"level_pct": 30}' }),
      credentials(),
    );
    const s = helper.getNode('s');
    const error = nextError(s);
    s.receive({ device: 'sl-hung-vuong-01', command: { params: { level_pct: 140 } } });
    expect((await error).text).toContain('400 API_ERR_COMMAND COMMAND_ERR_PARAMS');
  });
});
