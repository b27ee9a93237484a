import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isRegistryError } from './errors.ts';
import { loadFleet, seedFleet, type Fleet } from './fleet.ts';
import { openRegistry, type Registry } from './registry.ts';

let dir: string;
let registry: Registry;
let fleet: Fleet;

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'fleet-'));
  registry = await openRegistry({ file: path.join(dir, 'registry.db') });
  fleet = await loadFleet();
});

afterAll(async () => {
  await registry.close();
  await rm(dir, { recursive: true, force: true });
});

describe('seedFleet', () => {
  it('creates every gateway, device and service account once, with working secrets', async () => {
    const { created } = await seedFleet(registry, fleet);
    expect(created).toHaveLength(fleet.gateways.length + fleet.devices.length + fleet.serviceAccounts.length);
    for (const g of fleet.gateways) {
      const children = fleet.devices.filter((d) => d.gateway === g.id).map((d) => d.id);
      expect(registry.getGateway(g.id)?.children).toEqual(children.sort());
    }
    const nodeRed = created.find((c) => c.id === 'node-red')!;
    expect(await registry.authenticate('node-red', nodeRed.secret)).toEqual({
      type: 'service',
      id: 'node-red',
      mayPublishAlerts: true,
    });
    const lamp = created.find((c) => c.type === 'device' && c.id.startsWith('sl-'))!;
    expect((await registry.authenticate(lamp.id, lamp.secret))?.type).toBe('device');
  });

  it('creates nothing the second time', async () => {
    const before = registry.listDevices().length;
    expect((await seedFleet(registry, fleet)).created).toEqual([]);
    expect(registry.listDevices()).toHaveLength(before);
  });

  it('refuses an unreadable or invalid fleet file with REGISTRY_ERR_FLEET', async () => {
    const bad = path.join(dir, 'bad.json');
    await writeFile(bad, JSON.stringify({ devices: [{ id: 'x' }] }));
    for (const file of [bad, path.join(dir, 'missing.json')]) {
      await expect(loadFleet(file)).rejects.toSatisfy((err) => isRegistryError(err, 'REGISTRY_ERR_FLEET'));
    }
  });
});
