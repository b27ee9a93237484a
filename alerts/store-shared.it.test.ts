// The alert store shared by two nodes in one PostgreSQL: two nodes raising the same (rule, device) at once
// make one alert and one event log in order, and each node is told the other's changes, not its own.
import { beforeEach, describe, expect, it } from 'vitest';
import { alertStoreBackends, MIN, T0, trigger } from '../test/kits/alert-store-backends.ts';
import { openPostgresAlertStore } from './store-postgres.ts';
import type { AlertStore } from './types.ts';

const { postgres: db, kept } = alertStoreBackends();

describe('the alert store shared by two nodes in PostgreSQL', () => {
  beforeEach(() => db.fresh());
  const open = async (origin: string): Promise<AlertStore> =>
    kept(await openPostgresAlertStore({ url: db.url(), clock: () => T0, origin }));

  it('makes one alert of two nodes raising the same (rule, device) at once, and one event log in order', async () => {
    const [a, b] = [await open('node-a'), await open('node-b')];
    const raises = Array.from({ length: 20 }, (_, i) =>
      (i % 2 === 0 ? a : b).trigger(trigger({ at: T0 + i, value: 3 + i / 100 })),
    );
    const changes = await Promise.all(raises);
    expect(new Set(changes.map((c) => c!.alert.id)).size).toBe(1);
    expect(changes.filter((c) => c!.event.type === 'raised')).toHaveLength(1);
    const log = await b.eventsAfter(0, 100);
    expect(log.map((c) => c.event.id)).toEqual([...log.map((c) => c.event.id)].sort((x, y) => x - y));
    expect(log).toHaveLength(20);
  });

  it("tells each node the other's changes, in order, and not its own", async () => {
    const [a, b] = [await open('node-a'), await open('node-b')];
    const toldA: string[] = [];
    const toldB: string[] = [];
    a.onOthers!((changes) => toldA.push(...changes.map((c) => `${c.alert.device} ${c.event.type}`)));
    b.onOthers!((changes) => toldB.push(...changes.map((c) => `${c.alert.device} ${c.event.type}`)));
    const { alert } = (await a.trigger(trigger()))!;
    await b.acknowledge(alert.id, 'duty-officer', undefined, T0 + MIN);
    await a.trigger(trigger({ type: 'clear', at: T0 + 2 * MIN }));
    await expect.poll(() => toldB).toEqual(['rg-kim-long raised', 'rg-kim-long resolved']);
    await expect.poll(() => toldA).toEqual(['rg-kim-long acknowledged']);
  });
});
