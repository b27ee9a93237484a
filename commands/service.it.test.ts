// The command service over a real command store (SQLite) made slow to answer, as PostgreSQL across a
// network is: a lamp's answer and the reading that shows its result, handled together, are taken in
// order, so the reading is checked against the check the answer began.
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createTopics, DeviceRecord, type Reading } from '../devices/index.ts';
import type { CommandCheck } from '../measurements/index.ts';
import { createCommandService } from './service.ts';
import type { CommandStore } from './store.ts';
import { openCommandStore } from './store-sqlite.ts';

let dir: string;
let store: CommandStore;
beforeEach(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'command-service-'));
  store = openCommandStore(path.join(dir, 'commands.db'));
});
afterEach(async () => {
  await store.close();
  await fs.rm(dir, { recursive: true, force: true });
});

const LAMP = DeviceRecord.parse({
  id: 'sl-hung-vuong-1',
  kind: 'streetlight',
  name: 'Đèn Hùng Vương 1',
  district: 'Thuận Hóa',
  location: { lat: 16.462, lon: 107.5835 },
  tags: [],
  status: 'active',
  createdAt: '2025-11-03T10:00:00.000Z',
  updatedAt: '2025-11-03T10:00:00.000Z',
  meta: { street: 'Hùng Vương', rated_w: 150 },
});

describe('the command service on a slow store', () => {
  it("checks a reading that comes with the lamp's answer against the check the answer began", async () => {
    // Every answer takes 50 ms to be recorded.
    const slow: CommandStore = {
      ...store,
      finish: async (...args) => {
        await sleep(50);
        return store.finish(...args);
      },
    };
    const checks: Array<[CommandCheck, string]> = [];
    const service = createCommandService({
      store: slow,
      devices: { getDevice: (id) => (id === LAMP.id ? LAMP : undefined), listDevices: () => [LAMP] },
      topics: createTopics(),
      publish: () => Promise.resolve(),
      listening: () => true,
      append: (_text, _lines, done) => done(),
      deadLetter: () => undefined,
      checkWindowMs: 60_000,
      onCheck: (_command, check, detail) => checks.push([check, detail]),
      clock: Date.now,
      log: pino({ level: 'silent' }),
    });
    const { commands } = await service.send(
      { target: { device: LAMP.id }, type: 'set_dim', params: { level_pct: 40 } },
      'Trực ban IOC',
    );
    const id = commands[0]!.id;
    const answer = { device: LAMP.id, source: LAMP.id, topic: `city/streetlight/${LAMP.id}/commands/ack` };
    const answered = service.ack({ ...answer, payload: Buffer.from(JSON.stringify({ id, result: 'done' })) });
    const reading: Reading = {
      kind: 'streetlight',
      device: LAMP.id,
      time: Date.now(),
      fields: { lamp_on: true, dim_pct: 40 },
    };
    service.observe(reading);
    expect(await answered).toBeUndefined();
    await expect.poll(() => checks).toEqual([['matched', 'dim_pct 40']]);
    expect((await service.get(id))?.command).toMatchObject({ state: 'acknowledged', check: 'matched' });
  });
});
