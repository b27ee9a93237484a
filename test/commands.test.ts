// Commands to devices against the real platform, broker and InfluxDB, with real MQTT clients for the
// lamps and the gauge: a lamp receives a command and answers it; a device away gets its command when it
// comes back; a command waits no longer than its expiry; 300 lamps behind one gateway are dimmed by street
// and all answer through it; the ACL keeps a device from answering another's command or publishing on a
// commands topic; a lamp that says done but whose reading shows otherwise raises "command not carried
// out", cleared when a later command shows in its reading; and bad requests are refused with their codes.
// All of it on one process's SQLite files and on PostgreSQL, where a cluster keeps the commands.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DeviceInput } from '../devices/index.ts';
import {
  adminRequest,
  closed,
  connectClient,
  eventually,
  rows,
  startTestPlatform,
  type TestPlatform,
} from './kits/platform.ts';
import { startPostgres, type TestPostgres } from './kits/postgres.ts';

let platform: TestPlatform;
const secrets = new Map<string, string>();

const lamp = (n: number, street = 'Lê Lợi', gateway?: string): DeviceInput => ({
  id: `sl-cmd-${String(n).padStart(3, '0')}`,
  kind: 'streetlight',
  name: `Đèn ${street} ${n}`,
  district: 'Thuận Hóa',
  location: { lat: 16.462 + n * 0.00001, lon: 107.5835 },
  ...(gateway === undefined ? {} : { gateway }),
  meta: { street, rated_w: 150 },
});

interface Received {
  readonly topic: string;
  readonly id: number;
  readonly type: string;
  readonly params: Record<string, unknown>;
  readonly expires_at: string;
}

/** A device (or gateway) connected and subscribed to these devices' commands, keeping what it receives. */
async function listener(id: string, devices: readonly string[], kind = 'streetlight') {
  const client = await connectClient(platform.mqttUrl, {
    clientId: id,
    username: id,
    password: secrets.get(id)!,
  });
  const received: Received[] = [];
  client.on('message', (topic, payload) =>
    received.push({ topic, ...(JSON.parse(payload.toString()) as Omit<Received, 'topic'>) }),
  );
  const granted = await client.subscribeAsync(
    devices.map((d) => `city/${kind}/${d}/commands`),
    { qos: 1 },
  );
  expect(granted.every((g) => g.qos === 1)).toBe(true);
  return { client, received };
}

async function send(body: unknown) {
  return adminRequest(platform, 'POST', '/api/commands', body);
}

async function commandOf(id: number) {
  const res = await adminRequest(platform, 'GET', `/api/commands/${id}`);
  return res.body as {
    command: { state: string; check: string | null; detail: string | null; attempts: number };
    events: Array<{ state: string; detail: string | null }>;
  };
}

let pg: TestPostgres | undefined;
afterAll(async () => pg?.stop());
/** The platform's stores: its SQLite files (one process), or PostgreSQL (as a cluster's nodes keep them). */
const BACKENDS = [
  { name: 'SQLite', env: () => Promise.resolve({}) },
  {
    name: 'PostgreSQL',
    async env() {
      pg ??= await startPostgres();
      return { CITY_DATABASE_URL: await pg.database('commands') };
    },
  },
];

describe.each(BACKENDS)('on $name', (backend) => {
  beforeAll(async () => {
    platform = await startTestPlatform({ CITY_COMMAND_CHECK_S: '1', ...(await backend.env()) });
    for (const d of [lamp(1, 'Hùng Vương'), lamp(2, 'Hùng Vương'), lamp(3, 'Hùng Vương')]) {
      secrets.set(d.id, (await platform.registry.provisionDevice(d)).secret);
    }
    secrets.set(
      'sf-cmd',
      (
        await platform.registry.provisionDevice({
          id: 'sf-cmd',
          kind: 'flood',
          name: 'Ngập đường Lê Lợi',
          district: 'Thuận Hóa',
          location: { lat: 16.4605, lon: 107.5905 },
          meta: { type: 'street' },
        })
      ).secret,
    );
  });
  afterAll(async () => {
    await platform?.destroy();
  });

  describe('a command to a lamp', () => {
    it('reaches the lamp, which answers it; the command is acknowledged, its history and InfluxDB say so', async () => {
      const { client, received } = await listener('sl-cmd-001', ['sl-cmd-001']);
      const res = await send({
        target: { device: 'sl-cmd-001' },
        type: 'set_dim',
        params: { level_pct: 40 },
      });
      expect(res.status).toBe(202);
      const [made] = res.body.commands as Array<{ id: number; state: string }>;
      expect(made!.state).toBe('sent');
      const got = await eventually(() => received.find((m) => m.id === made!.id));
      expect(got).toMatchObject({
        topic: 'city/streetlight/sl-cmd-001/commands',
        type: 'set_dim',
        params: { level_pct: 40 },
      });
      await client.publishAsync(
        'city/streetlight/sl-cmd-001/commands/ack',
        JSON.stringify({ id: made!.id, result: 'done' }),
        { qos: 1 },
      );
      const after = await eventually(async () => {
        const c = await commandOf(made!.id);
        return c.command.state === 'acknowledged' ? c : undefined;
      });
      expect(after.events.map((e) => e.state)).toEqual(['queued', 'sent', 'acknowledged']);
      expect(after.command.check).toBe('pending');
      // The lamp's reading shows the new level: the check is matched.
      await client.publishAsync(
        'city/streetlight/sl-cmd-001/telemetry',
        JSON.stringify({ dim_pct: 40, lamp_on: true }),
        { qos: 1 },
      );
      await eventually(async () =>
        (await commandOf(made!.id)).command.check === 'matched' ? true : undefined,
      );
      const lines = await eventually(async () => {
        const r = await rows(platform, `SELECT state, command_id FROM commands WHERE device = 'sl-cmd-001'`);
        return r.length >= 4 ? r : undefined;
      });
      expect(lines.map((l) => l.state)).toEqual(['queued', 'sent', 'acknowledged', 'matched']);
      await client.endAsync();
    });

    it('waits for a lamp that is away, and reaches it when it comes back', async () => {
      const res = await send({ target: { device: 'sl-cmd-002' }, type: 'switch', params: { state: 'off' } });
      const [made] = res.body.commands as Array<{ id: number; state: string }>;
      expect(made!.state).toBe('queued');
      const { client, received } = await listener('sl-cmd-002', ['sl-cmd-002']);
      const got = await eventually(() => received.find((m) => m.id === made!.id));
      expect(got.params).toEqual({ state: 'off' });
      expect((await commandOf(made!.id)).command.state).toBe('sent');
      // A refusal, with the lamp's reason.
      await client.publishAsync(
        'city/streetlight/sl-cmd-002/commands/ack',
        JSON.stringify({ id: made!.id, result: 'refused', reason: 'driver fault: relay stuck' }),
        { qos: 1 },
      );
      const failed = await eventually(async () => {
        const c = await commandOf(made!.id);
        return c.command.state === 'failed' ? c : undefined;
      });
      expect(failed.command.detail).toBe('driver fault: relay stuck');
      await client.endAsync();
    });

    it('expires, unsent, when the lamp does not come back in time', async () => {
      const res = await send({ target: { device: 'sl-cmd-003' }, type: 'reboot', expires_in: '1s' });
      const [made] = res.body.commands as Array<{ id: number }>;
      await eventually(async () =>
        (await commandOf(made!.id)).command.state === 'expired' ? true : undefined,
      );
      const { client, received } = await listener('sl-cmd-003', ['sl-cmd-003']);
      // Another command after it arrives; the expired one never does.
      const ping = await send({ target: { device: 'sl-cmd-003' }, type: 'ping' });
      const [pinged] = ping.body.commands as Array<{ id: number }>;
      await eventually(() => received.find((m) => m.id === pinged!.id));
      expect(received.map((m) => m.id)).toEqual([pinged!.id]);
      await client.endAsync();
    });
  });

  describe('300 lamps behind one gateway', () => {
    it('are dimmed by street; the gateway receives and answers for each', async () => {
      secrets.set(
        'gw-cmd',
        (
          await platform.registry.provisionGateway({
            id: 'gw-cmd',
            name: 'Gateway chiếu sáng Lê Lợi',
            district: 'Thuận Hóa',
            location: { lat: 16.46225, lon: 107.5835 },
          })
        ).secret,
      );
      const lamps = Array.from({ length: 300 }, (_, i) => lamp(100 + i, 'Lê Lợi', 'gw-cmd'));
      await platform.registry.provisionDevices(lamps);
      const gateway = await listener(
        'gw-cmd',
        lamps.map((l) => l.id),
      );
      gateway.client.on('message', (topic, payload) => {
        const { id } = JSON.parse(payload.toString()) as { id: number };
        void gateway.client.publishAsync(`${topic}/ack`, JSON.stringify({ id, result: 'done' }), { qos: 1 });
      });
      const res = await send({ target: { street: 'Lê Lợi' }, type: 'set_dim', params: { level_pct: 30 } });
      expect(res.status).toBe(202);
      const batch = res.body.batch as number;
      expect((res.body.commands as unknown[]).length).toBe(300);
      await eventually(async () => {
        const list = await adminRequest(
          platform,
          'GET',
          `/api/commands?batch=${batch}&state=acknowledged&limit=1000`,
        );
        return (list.body.commands as unknown[]).length === 300 ? true : undefined;
      }, 30_000);
      expect(new Set(gateway.received.map((m) => m.topic)).size).toBe(300);
      await gateway.client.endAsync();
    });
  });

  describe('the ACL and bad answers', () => {
    it("refuses a device answering on another's ack topic, and dead-letters an answer to another's command", async () => {
      const res = await send({ target: { device: 'sl-cmd-001' }, type: 'ping' });
      const [theirs] = res.body.commands as Array<{ id: number }>;
      const intruder = await connectClient(platform.mqttUrl, {
        clientId: 'sl-cmd-002',
        username: 'sl-cmd-002',
        password: secrets.get('sl-cmd-002')!,
      });
      // Its own ack topic, someone else's command: taken by the broker, refused by the command service.
      await intruder.publishAsync(
        'city/streetlight/sl-cmd-002/commands/ack',
        JSON.stringify({ id: theirs!.id, result: 'done' }),
        { qos: 1 },
      );
      // Not JSON of the form: dead-lettered too.
      await intruder.publishAsync('city/streetlight/sl-cmd-002/commands/ack', 'OK', { qos: 1 });
      const letters = await eventually(async () => {
        const r = await adminRequest(platform, 'GET', '/api/dead-letters?source=sl-cmd-002');
        const list = r.body.deadLetters as Array<{ code: string; detail: string }>;
        return list.length >= 2 ? list : undefined;
      });
      expect(letters.map((l) => l.code).sort()).toEqual(['COMMAND_ERR_ACK', 'COMMAND_ERR_ACK_UNKNOWN']);
      expect((await commandOf(theirs!.id)).command.state).not.toBe('acknowledged');
      // Another's ack topic: the broker refuses it and hangs up.
      const hangup = closed(intruder);
      intruder.publish(
        'city/streetlight/sl-cmd-001/commands/ack',
        JSON.stringify({ id: theirs!.id, result: 'done' }),
        { qos: 1 },
      );
      await hangup;
      expect((await commandOf(theirs!.id)).command.state).not.toBe('acknowledged');
    });

    it('refuses a device publishing on a commands topic, its own included', async () => {
      const device = await connectClient(platform.mqttUrl, {
        clientId: 'sl-cmd-003',
        username: 'sl-cmd-003',
        password: secrets.get('sl-cmd-003')!,
      });
      const hangup = closed(device);
      device.publish(
        'city/streetlight/sl-cmd-003/commands',
        JSON.stringify({ id: 1, type: 'reboot', params: {} }),
        { qos: 1 },
      );
      await hangup;
      const r = await adminRequest(
        platform,
        'GET',
        '/api/dead-letters?source=sl-cmd-003&code=BROKER_ERR_ACL',
      );
      expect((r.body.deadLetters as Array<{ topic: string }>)[0]?.topic).toBe(
        'city/streetlight/sl-cmd-003/commands',
      );
    });
  });

  describe('a command not carried out', () => {
    it('raises an alert when the lamp says done but its reading shows otherwise, cleared when a later one shows', async () => {
      const { client, received } = await listener('sl-cmd-002', ['sl-cmd-002']);
      client.on('message', (_topic, payload) => {
        const { id } = JSON.parse(payload.toString()) as { id: number };
        void client.publishAsync(
          'city/streetlight/sl-cmd-002/commands/ack',
          JSON.stringify({ id, result: 'done' }),
          { qos: 1 },
        );
      });
      const res = await send({
        target: { device: 'sl-cmd-002' },
        type: 'set_dim',
        params: { level_pct: 40 },
      });
      const [made] = res.body.commands as Array<{ id: number }>;
      await eventually(async () =>
        (await commandOf(made!.id)).command.state === 'acknowledged' ? true : undefined,
      );
      await client.publishAsync(
        'city/streetlight/sl-cmd-002/telemetry',
        JSON.stringify({ dim_pct: 100, lamp_on: true }),
        { qos: 1 },
      );
      const alert = await eventually(async () =>
        (await platform.alerts.listOpen()).find(
          (a) => a.rule === 'command-not-executed' && a.device === 'sl-cmd-002',
        ),
      );
      expect(alert.source).toBe('command');
      expect(alert.owner).toBe('hepco');
      expect(alert.message).toContain('dim_pct 100, expected 40');
      expect((await commandOf(made!.id)).command.check).toBe('mismatched');

      const retry = await send({
        target: { device: 'sl-cmd-002' },
        type: 'set_dim',
        params: { level_pct: 40 },
      });
      const [again] = retry.body.commands as Array<{ id: number }>;
      await eventually(async () =>
        (await commandOf(again!.id)).command.state === 'acknowledged' ? true : undefined,
      );
      await client.publishAsync(
        'city/streetlight/sl-cmd-002/telemetry',
        JSON.stringify({ dim_pct: 40, lamp_on: true }),
        { qos: 1 },
      );
      await eventually(async () =>
        (await platform.alerts.listOpen()).some(
          (a) => a.rule === 'command-not-executed' && a.device === 'sl-cmd-002',
        )
          ? undefined
          : true,
      );
      expect(received.length).toBeGreaterThanOrEqual(2);
      await client.endAsync();
    });
  });

  describe('a newer command', () => {
    it("ends an older one's check as superseded, and only the newer is held to the reading", async () => {
      const { client } = await listener('sl-cmd-003', ['sl-cmd-003']);
      client.on('message', (_topic, payload) => {
        const { id } = JSON.parse(payload.toString()) as { id: number };
        void client.publishAsync(
          'city/streetlight/sl-cmd-003/commands/ack',
          JSON.stringify({ id, result: 'done' }),
          {
            qos: 1,
          },
        );
      });
      const ids: number[] = [];
      for (const level of [40, 70]) {
        const res = await send({
          target: { device: 'sl-cmd-003' },
          type: 'set_dim',
          params: { level_pct: level },
        });
        const [made] = res.body.commands as Array<{ id: number }>;
        await eventually(async () =>
          (await commandOf(made!.id)).command.state === 'acknowledged' ? true : undefined,
        );
        ids.push(made!.id);
      }
      await client.publishAsync(
        'city/streetlight/sl-cmd-003/telemetry',
        JSON.stringify({ dim_pct: 70, lamp_on: true }),
        {
          qos: 1,
        },
      );
      const newer = await eventually(async () => {
        const c = await commandOf(ids[1]!);
        return c.command.check === 'matched' ? c : undefined;
      });
      expect(newer.command.check).toBe('matched');
      const older = await commandOf(ids[0]!);
      expect([older.command.check, older.events.at(-1)]).toEqual([
        'unverified',
        expect.objectContaining({ detail: `superseded by command ${ids[1]}` }),
      ]);
      expect(
        (await platform.alerts.listOpen()).some(
          (a) => a.rule === 'command-not-executed' && a.device === 'sl-cmd-003',
        ),
      ).toBe(false);
      await client.endAsync();
    });
  });

  describe("a rule's command", () => {
    it('tells a river gauge to report every minute when the river rises fast (river-fast-rise)', async () => {
      const { secret } = await platform.registry.provisionDevice({
        id: 'rg-cmd',
        kind: 'flood',
        name: 'Trạm thủy văn Kim Long',
        district: 'Kim Long',
        location: { lat: 16.455, lon: 107.56 },
        meta: { type: 'river', station: 'Kim Long', river: 'Hương', alarm_levels_m: [1, 2, 3.5] },
        tags: ['river'],
      });
      secrets.set('rg-cmd', secret);
      const { client, received } = await listener('rg-cmd', ['rg-cmd'], 'flood');
      const now = Date.now();
      for (const [ago, level] of [
        [50, 0.6],
        [1, 1.1],
      ] as const)
        await client.publishAsync(
          'city/flood/rg-cmd/telemetry',
          JSON.stringify({ water_level_m: level, ts: new Date(now - ago * 60_000).toISOString() }),
          { qos: 1 },
        );
      const got = await eventually(() => received.find((m) => m.type === 'set_interval'));
      expect(got.params).toEqual({ seconds: 60 });
      const sent = await commandOf(got.id);
      expect(sent.command).toMatchObject({ state: 'sent' });
      const listed = await adminRequest(platform, 'GET', `/api/commands?device=rg-cmd`);
      expect((listed.body.commands as Array<{ by: string }>)[0]?.by).toBe('rule river-fast-rise');
      await client.endAsync();
    });
  });

  describe('bad requests', () => {
    it.each([
      ['an unknown command', { target: { device: 'sl-cmd-001' }, type: 'blink' }, 'COMMAND_ERR_TYPE', 'type'],
      [
        'a level out of range',
        { target: { device: 'sl-cmd-001' }, type: 'set_dim', params: { level_pct: 140 } },
        'COMMAND_ERR_PARAMS',
        'params.level_pct',
      ],
      [
        'a lamp command to a flood gauge',
        { target: { device: 'sf-cmd' }, type: 'set_dim', params: { level_pct: 40 } },
        'COMMAND_ERR_KIND',
        'target.device',
      ],
      [
        'an unknown device',
        { target: { devices: ['sl-cmd-001', 'sl-nowhere'] }, type: 'ping' },
        'COMMAND_ERR_TARGET',
        'target.devices.1',
      ],
      [
        'a street with no lamps',
        { target: { street: 'Phố Không Có' }, type: 'switch', params: { state: 'on' } },
        'COMMAND_ERR_TARGET',
        'target',
      ],
    ])('refuses %s with its code and field, sending nothing', async (_what, body, code, field) => {
      const before = (await adminRequest(platform, 'GET', '/api/commands?limit=1000')).body
        .commands as unknown[];
      const res = await send(body);
      expect(res.status).toBe(400);
      const error = res.body.error as {
        code: string;
        details: { code: string; problems: Array<{ field: string }> };
      };
      expect([error.code, error.details.code, error.details.problems[0]?.field]).toEqual([
        'API_ERR_COMMAND',
        code,
        field,
      ]);
      const after = (await adminRequest(platform, 'GET', '/api/commands?limit=1000')).body
        .commands as unknown[];
      expect(after.length).toBe(before.length);
    });

    it('refuses a command to a decommissioned lamp', async () => {
      await platform.registry.provisionDevice(lamp(9, 'Hùng Vương'));
      await platform.registry.decommissionDevice('sl-cmd-009');
      const res = await send({ target: { device: 'sl-cmd-009' }, type: 'ping' });
      expect((res.body.error as { details: { code: string } }).details.code).toBe(
        'COMMAND_ERR_DECOMMISSIONED',
      );
    });
  });
});
