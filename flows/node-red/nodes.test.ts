// The custom nodes in Node-RED's test runtime, without a broker: each loads, and each refuses what it
// cannot use before anything would reach the platform. nodes.it.test.ts runs them against the platform.
import { afterEach, describe, expect, it } from 'vitest';
import {
  ALL_NODES,
  TAB,
  callsOf,
  helper,
  lastStatus,
  nextError,
  nextInput,
} from '../../test/kits/node-red.ts';

/** A config node without a secret: it never opens a connection. */
const platform = { id: 'p', type: 'city-platform', name: 'city platform' };
const reading = {
  device: 'sf-le-loi',
  kind: 'flood',
  district: 'Thuận Hóa',
  time: '2026-11-28T09:00:00.000Z',
  fields: { water_level_m: 0.25 },
};

afterEach(async () => {
  helper.settings({});
  await helper.unload();
});

describe('loading', () => {
  it('loads every node with its settings', async () => {
    await helper.load(ALL_NODES, [
      TAB,
      platform,
      { id: 't', z: 'tab', type: 'city-telemetry', name: 'rain', platform: 'p', flood: true, wires: [[]] },
      { id: 'r', z: 'tab', type: 'city-raise-alert', name: 'raise', platform: 'p', rule: 'x', wires: [[]] },
      { id: 'c', z: 'tab', type: 'city-clear-alert', name: 'clear', platform: 'p', rule: 'x', wires: [[]] },
      { id: 'd', z: 'tab', type: 'city-device-info', name: 'info', platform: 'p', wires: [[]] },
      {
        id: 's',
        z: 'tab',
        type: 'city-send-command',
        name: 'dim',
        platform: 'p',
        command: 'set_dim',
        wires: [[]],
      },
    ]);
    for (const [id, type, name] of [
      ['p', 'city-platform', 'city platform'],
      ['t', 'city-telemetry', 'rain'],
      ['r', 'city-raise-alert', 'raise'],
      ['c', 'city-clear-alert', 'clear'],
      ['d', 'city-device-info', 'info'],
      ['s', 'city-send-command', 'dim'],
    ]) {
      expect(helper.getNode(id as string)).toMatchObject({ type, name });
    }
  });
});

describe('city-platform', () => {
  it('says which setting is missing on the nodes that use it', async () => {
    await helper.load(ALL_NODES, [
      TAB,
      { ...platform, mqttUrl: 'mqtt://127.0.0.1:1' },
      { id: 'r', z: 'tab', type: 'city-raise-alert', platform: 'p', wires: [[]] },
    ]);
    expect(lastStatus(helper.getNode('r'))).toMatchObject({
      fill: 'red',
      text: expect.stringContaining('no secret') as string,
    });
  });

  it("takes what a node leaves empty from the start command's settings", async () => {
    helper.settings({ cityPlatform: { mqttUrl: 'mqtt://127.0.0.1:1', secret: 's', prefix: 'bad/#' } });
    await helper.load(ALL_NODES, [
      TAB,
      platform,
      { id: 'r', z: 'tab', type: 'city-raise-alert', platform: 'p', wires: [[]] },
    ]);
    expect(lastStatus(helper.getNode('r'))).toMatchObject({ text: 'invalid topic prefix "bad/#"' });
  });
});

describe('city-telemetry', () => {
  it('refuses to start without a kind', async () => {
    await helper.load(ALL_NODES, [
      TAB,
      platform,
      { id: 't', z: 'tab', type: 'city-telemetry', platform: 'p' },
    ]);
    const t = helper.getNode('t');
    expect(lastStatus(t)).toMatchObject({ fill: 'red', text: 'no kind chosen' });
    expect(callsOf(t, 'error')).toHaveLength(1);
  });

  it('refuses device lists that are not device ids', async () => {
    await helper.load(ALL_NODES, [
      TAB,
      platform,
      { id: 't', z: 'tab', type: 'city-telemetry', platform: 'p', flood: true, devices: 'rg-kim-long, a/#' },
    ]);
    expect(lastStatus(helper.getNode('t'))).toMatchObject({ text: 'not device ids: a/#' });
  });

  it('refuses to start without a platform', async () => {
    await helper.load(ALL_NODES, [TAB, { id: 't', z: 'tab', type: 'city-telemetry', flood: true }]);
    expect(lastStatus(helper.getNode('t'))).toMatchObject({ text: 'no platform chosen' });
  });
});

describe('city-raise-alert', () => {
  const flow = [
    TAB,
    platform,
    {
      id: 'r',
      z: 'tab',
      type: 'city-raise-alert',
      platform: 'p',
      rule: 'street-flood-likely',
      title: 'Street flooding likely',
      severity: 'warning',
      owner: '',
      wires: [['out']],
    },
    { id: 'out', z: 'tab', type: 'helper' },
    { id: 'k', z: 'tab', type: 'catch', scope: null, uncaught: false, wires: [['caught']] },
    { id: 'caught', z: 'tab', type: 'helper' },
  ];

  it('reports a bad request with the message, so a Catch node sees it, and sends nothing', async () => {
    await helper.load(ALL_NODES, flow);
    const r = helper.getNode('r');
    const caught = nextInput(helper.getNode('caught'));
    const error = nextError(r);
    r.receive({ reading, severity: 'urgent' });
    const { text, msg } = await error;
    expect(text).toMatch(/^raise alert: /);
    expect(text).toContain('severity: "urgent"');
    expect(text).toContain('owner: missing');
    expect(msg).toMatchObject({ reading, severity: 'urgent' });
    expect(await caught).toMatchObject({ error: { message: text }, reading });
    expect(callsOf(helper.getNode('r'), 'send')).toHaveLength(0);
  });

  it('reports a missing device', async () => {
    await helper.load(ALL_NODES, flow);
    const r = helper.getNode('r');
    const error = nextError(r);
    r.receive({ owner: 'flood control', kind: 'flood' });
    expect((await error).text).toContain('device: missing');
  });

  it('checks a good request, then says the platform is not configured', async () => {
    await helper.load(ALL_NODES, flow);
    const r = helper.getNode('r');
    const error = nextError(r);
    r.receive({ reading, owner: 'flood control' });
    expect((await error).text).toBe(
      'raise alert: no MQTT URL (set it here or CITY_MQTT_URL); ' +
        'no secret for node-red (set it here or CITY_NODE_RED_SECRET)',
    );
  });
});

describe('city-clear-alert', () => {
  it('reports a request without a rule', async () => {
    await helper.load(ALL_NODES, [
      TAB,
      platform,
      { id: 'c', z: 'tab', type: 'city-clear-alert', platform: 'p' },
    ]);
    const c = helper.getNode('c');
    const error = nextError(c);
    c.receive({ reading });
    const { text, msg } = await error;
    expect(text).toMatch(/^clear alert: rule: missing/);
    expect(msg).toMatchObject({ reading });
  });
});

describe('city-device-info', () => {
  it('reports a message without a device id', async () => {
    await helper.load(ALL_NODES, [
      TAB,
      platform,
      { id: 'd', z: 'tab', type: 'city-device-info', platform: 'p' },
    ]);
    const d = helper.getNode('d');
    const error = nextError(d);
    d.receive({ payload: 1 });
    expect((await error).text).toContain('is not a device id');
  });

  it('says what the platform node lacks to look a device up', async () => {
    await helper.load(ALL_NODES, [
      TAB,
      platform,
      { id: 'd', z: 'tab', type: 'city-device-info', platform: 'p' },
    ]);
    const d = helper.getNode('d');
    const error = nextError(d);
    d.receive({ reading });
    expect((await error).text).toBe(
      'device info: sf-le-loi: no API URL (set it in the platform node or CITY_API_URL)',
    );
  });
});
