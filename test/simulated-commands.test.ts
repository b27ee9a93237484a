// The command loop with the simulated fleet, as the demo runs it: the platform sends, the simulated lamps
// (on their own links and behind a gateway) and gauge obey and answer, and their next readings show the
// result, so each check is matched; a gauge told to report every few seconds does.
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTopics, type DeviceInput } from '../devices/index.ts';
import { createFleetSimulator, type FleetSimulator, type SimDevice } from '../simulators/index.ts';
import { adminRequest, eventually, rows, startTestPlatform, type TestPlatform } from './kits/platform.ts';

let platform: TestPlatform;
let fleet: FleetSimulator;

const place = { lat: 16.46225, lon: 107.5835 };
const lamp = (id: string, gateway?: string): DeviceInput => ({
  id,
  kind: 'streetlight',
  name: `Đèn Lê Lợi ${id}`,
  district: 'Thuận Hóa',
  location: place,
  ...(gateway === undefined ? {} : { gateway }),
  meta: { street: 'Lê Lợi', rated_w: 150 },
});

beforeAll(async () => {
  platform = await startTestPlatform({ CITY_COMMAND_CHECK_S: '30' });
  const { registry } = platform;
  const gw = await registry.provisionGateway({
    id: 'gw-sim',
    name: 'Gateway Lê Lợi',
    district: 'Thuận Hóa',
    location: place,
  });
  const made = await registry.provisionDevices([
    lamp('sl-sim-1'),
    lamp('sl-sim-2', 'gw-sim'),
    lamp('sl-sim-3', 'gw-sim'),
  ]);
  const gauge = await registry.provisionDevice({
    id: 'sf-sim',
    kind: 'flood',
    name: 'Ngập đường Lê Lợi',
    district: 'Thuận Hóa',
    location: place,
    meta: { type: 'street' },
  });
  const secretOf = new Map(made.map((m) => [m.device.id, m.secret]));
  const devices: SimDevice[] = [
    {
      id: 'sl-sim-1',
      kind: 'streetlight',
      location: place,
      meta: { street: 'Lê Lợi', rated_w: 150 },
      secret: secretOf.get('sl-sim-1')!,
    },
    {
      id: 'sl-sim-2',
      kind: 'streetlight',
      location: place,
      meta: { street: 'Lê Lợi', rated_w: 150 },
      gateway: 'gw-sim',
    },
    {
      id: 'sl-sim-3',
      kind: 'streetlight',
      location: place,
      meta: { street: 'Lê Lợi', rated_w: 150 },
      gateway: 'gw-sim',
    },
    { id: 'sf-sim', kind: 'flood', location: place, meta: { type: 'street' }, secret: gauge.secret },
  ];
  fleet = await createFleetSimulator({
    url: platform.mqttUrl,
    devices,
    gateways: [{ id: 'gw-sim', secret: gw.secret }],
    topics: createTopics('city'),
    log: pino({ level: 'silent' }),
    // One report each at the start, then none for an hour unless a command asks.
    intervalMs: 3_600_000,
    dropout: { probability: 0 },
  });
  fleet.start();
  // Every link subscribed to its commands: the gateway for both its lamps.
  await eventually(
    () =>
      (['sl-sim-1', 'sl-sim-2', 'sl-sim-3', 'sf-sim'] as const).every((id) =>
        platform.broker.listensForCommands(id.startsWith('sl') ? 'streetlight' : 'flood', id),
      ) || undefined,
  );
});
afterAll(async () => {
  await fleet?.close();
  await platform?.destroy();
});

async function batchOf(body: unknown): Promise<number> {
  const res = await adminRequest(platform, 'POST', '/api/commands', body);
  expect(res.status).toBe(202);
  return res.body.batch as number;
}

async function settled(batch: number, check: string, count: number) {
  return eventually(async () => {
    const res = await adminRequest(platform, 'GET', `/api/commands?batch=${batch}`);
    const list = res.body.commands as Array<{ device: string; state: string; check: string | null }>;
    return list.length === count && list.every((c) => c.state === 'acknowledged' && c.check === check)
      ? list
      : undefined;
  }, 20_000);
}

describe('the simulated fleet', () => {
  it('switches its lamps on and dims them, each answering and its reading showing it', async () => {
    const on = await batchOf({ target: { street: 'Lê Lợi' }, type: 'switch', params: { state: 'on' } });
    expect((await settled(on, 'matched', 3)).map((c) => c.device).sort()).toEqual([
      'sl-sim-1',
      'sl-sim-2',
      'sl-sim-3',
    ]);
    const dim = await batchOf({ target: { street: 'Lê Lợi' }, type: 'set_dim', params: { level_pct: 40 } });
    await settled(dim, 'matched', 3);
    const latest = await eventually(async () => {
      const r = await rows(
        platform,
        `SELECT last(dim_pct) AS dim FROM streetlight WHERE street = 'Lê Lợi' GROUP BY device`,
      );
      return r.length === 3 && r.every((x) => x.dim === 40) ? r : undefined;
    });
    expect(latest).toHaveLength(3);
    expect((await platform.alerts.listOpen()).filter((a) => a.rule === 'command-not-executed')).toEqual([]);
  });

  it('has a gauge report at the interval it is told', async () => {
    const count = async () =>
      (await rows(platform, `SELECT count(water_level_m) AS n FROM flood WHERE device = 'sf-sim'`))[0]?.n ??
      0;
    const before = Number(await count());
    const batch = await batchOf({
      target: { device: 'sf-sim' },
      type: 'set_interval',
      params: { seconds: 10 },
    });
    await eventually(async () => {
      const res = await adminRequest(platform, 'GET', `/api/commands?batch=${batch}`);
      return (res.body.commands as Array<{ state: string }>)[0]?.state === 'acknowledged' ? true : undefined;
    });
    // From an hour between reports to ten seconds: at least two more within 25 s.
    await eventually(async () => (Number(await count()) >= before + 2 ? true : undefined), 25_000);
  });
});
