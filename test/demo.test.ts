// The README's first command as a newcomer meets it: `npm run demo`'s entry (platform/demo.ts) run for
// real on a fresh data folder, with the default story. Within its first minute the operator has open
// alerts of every kind of device to handle: the backfilled day left a river past alarm 3, flooded
// streets, poor air and a lamp stuck on above its rating.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, expect, inject, it } from 'vitest';
import { eventually } from './kits/platform.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
let dir: string;
let demo: ChildProcess;
let banner = '';
let liveAt = 0;

interface OpenAlert {
  readonly rule: string;
  readonly kind: string;
  readonly severity: string;
}

beforeAll(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'demo-'));
  demo = spawn(process.execPath, ['--import', 'tsx', 'platform/demo.ts'], {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '',
      CITY_HOST: '127.0.0.1',
      CITY_MQTT_PORT: '0',
      CITY_API_PORT: '0',
      CITY_LOG_LEVEL: 'warn',
      CITY_DATA_DIR: dir,
      INFLUX_URL: inject('influxUrl'),
      INFLUX_DB: `demo_${process.pid}`,
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  demo.stdout!.on('data', (chunk: Buffer) => {
    banner += chunk.toString();
    if (liveAt === 0 && banner.includes('Ctrl-C stops it')) liveAt = Date.now();
  });
  await eventually(() => (liveAt > 0 ? true : undefined), 90_000);
}, 100_000);

afterAll(async () => {
  if (demo.exitCode === null) {
    const exited = new Promise((resolve) => demo.once('exit', resolve));
    demo.kill('SIGTERM');
    await exited;
  }
  await fs.rm(dir, { recursive: true, force: true });
});

it('has open alerts of every kind of device within its first minute', async () => {
  const api = /API +(http:\/\/[^/\s]+)\/api\/devices +\(Authorization: Bearer ([^)\s]+)\)/.exec(banner);
  expect(api, banner).not.toBeNull();
  const [, url, token] = api!;
  const kinds = await eventually(async () => {
    const res = await fetch(`${url}/api/alerts?state=open&limit=500`, {
      headers: { authorization: `Bearer ${token}` },
    });
    const { alerts } = (await res.json()) as { alerts: OpenAlert[] };
    const found = new Set(alerts.map((a) => a.kind));
    return found.size >= 3 ? alerts : undefined;
  }, 60_000);
  expect(Date.now() - liveAt).toBeLessThan(60_000);
  expect(new Set(kinds.map((a) => a.kind))).toEqual(new Set(['air_quality', 'flood', 'streetlight']));
  // The rivers at their crest: alarm level 3 is open, critical.
  expect(kinds).toContainEqual(expect.objectContaining({ rule: 'river-alarm-level', severity: 'critical' }));
  expect(kinds).toContainEqual(expect.objectContaining({ rule: 'street-flooded' }));
  // The overdriven lamp, whatever the hour (the failed lamp's alert clears at dawn).
  expect(kinds).toContainEqual(expect.objectContaining({ rule: 'lamp-power-too-high' }));
}, 70_000);

it('prints the console and a demo admin who can sign in to it', async () => {
  const line = /Console +(http:\/\/[^/\s]+)\/console\/ +\(user (\S+), password (\S+)\)/.exec(banner);
  expect(line, banner).not.toBeNull();
  const [, url, username, password] = line!;
  const page = await fetch(`${url}/console/`);
  expect(page.status).toBe(200);
  const signIn = await fetch(`${url}/api/session`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username, password }),
  });
  expect(signIn.status).toBe(200);
  expect(((await signIn.json()) as { user: { role: string } }).user.role).toBe('admin');
});
