// `npm run devices -- import` and `-- command` as an engineer runs them: a separate process against the
// real platform's API. A file with a bad row is refused before anything is sent, each problem at its line;
// the fixed file onboards its lamps, their secrets written to a file only the user reads; the same file
// again creates nothing; a wrong token is told plainly. A command to a street's lamps is followed until
// each answered (a lamp connected over MQTT says done); a bad one is refused with its field.
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { lampCsv } from './kits/onboarding.ts';
import { connectClient, startTestPlatform, type TestPlatform } from './kits/platform.ts';

const run = promisify(execFile);
const CLI = path.resolve(import.meta.dirname, '..', 'platform', 'devices-cli.ts');
const TSX = path.resolve(import.meta.dirname, '..', 'node_modules', '.bin', 'tsx');

let platform: TestPlatform;
let dir: string;
beforeAll(async () => {
  platform = await startTestPlatform();
  dir = await mkdtemp(path.join(os.tmpdir(), 'devices-cli-'));
});
afterAll(async () => {
  await platform?.destroy();
  await rm(dir, { recursive: true, force: true });
});

async function cli(args: string[], token = platform.adminToken) {
  try {
    const { stdout, stderr } = await run(TSX, [CLI, ...args], {
      env: { ...process.env, CITY_API_URL: `http://127.0.0.1:${platform.apiPort}`, CITY_API_TOKEN: token },
    });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

describe('npm run devices -- import', () => {
  it('refuses a file with a bad row before sending it, saying the line and field', async () => {
    const file = path.join(dir, 'le-loi.csv');
    const lines = lampCsv(40).trimEnd().split('\n');
    lines[12] = lines[12]!.replace('16.45', '61.45').replace(/,\d+$/, ',nhiều');
    await writeFile(file, lines.join('\n'));
    const res = await cli(['import', file]);
    expect(res.code).toBe(1);
    expect(res.stderr).toContain('1 problem(s); nothing was created');
    expect(res.stderr).toContain('line 13 (sl-bulk-00011), meta.rated_w');
    expect(platform.registry.listDevices({ kind: 'streetlight' })).toEqual([]);
  });

  it('onboards the fixed file, its secrets in a file only the user reads; the same file again creates nothing', async () => {
    const file = path.join(dir, 'le-loi.csv');
    await writeFile(file, lampCsv(40));
    const res = await cli(['import', file]);
    expect(res.stderr).toMatch(/sending .*100%/);
    expect(res.code).toBe(0);
    expect(res.stdout).toContain('40 device(s) created, 0 already there as listed');
    const secrets = path.join(dir, 'le-loi-secrets.csv');
    expect((await stat(secrets)).mode & 0o777).toBe(0o600);
    const [header, first] = (await readFile(secrets, 'utf8')).split('\n');
    expect(header).toBe('id,secret');
    const [id, secret] = first!.split(',');
    expect(await platform.registry.authenticate(id!, secret!)).toMatchObject({ type: 'device' });

    const again = await cli(['import', file]);
    expect(again.stdout).toContain('0 device(s) created, 40 already there as listed');
  });

  it('says so when the token is not allowed to onboard', async () => {
    const viewer = await platform.registry.createApiToken('viewer', 'cli test viewer');
    const file = path.join(dir, 'more.csv');
    await writeFile(file, lampCsv(2, 500));
    const res = await cli(['import', file], viewer);
    expect(res.code).toBe(1);
    expect(res.stderr).toContain('HTTP 403');
    expect(res.stderr).toContain("CITY_API_TOKEN must be an engineer's");
  });

  it('sends a command to a street and follows the answers; a bad one is refused with its field', async () => {
    // Lamp 0 of the onboarded file (Lê Lợi) answers; its secret is in the file the import wrote.
    const [, first] = (await readFile(path.join(dir, 'le-loi-secrets.csv'), 'utf8')).split('\n');
    const [id, secret] = first!.split(',');
    const lamp = await connectClient(platform.mqttUrl, { clientId: id!, username: id!, password: secret! });
    lamp.on('message', (topic, payload) => {
      const { id: command } = JSON.parse(payload.toString()) as { id: number };
      void lamp.publishAsync(`${topic}/ack`, JSON.stringify({ id: command, result: 'done' }), { qos: 1 });
    });
    await lamp.subscribeAsync(`city/streetlight/${id}/commands`, { qos: 1 });
    const street = platform.registry.getDevice(id!)!.meta;
    const res = await cli(['command', 'set_dim', '--device', id!, '--set', 'level_pct=40', '--wait', '20s']);
    expect(res.stdout).toContain('set_dim sent to 1 device(s)');
    expect(res.stdout).toContain('1 acknowledged');
    expect(res.code).toBe(0);
    expect(street).toMatchObject({ street: 'Lê Lợi' });
    await lamp.endAsync();

    const bad = await cli(['command', 'set_dim', '--street', 'Lê Lợi', '--set', 'level_pct=140']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('COMMAND_ERR_PARAMS');
    expect(bad.stderr).toContain('params.level_pct');
  });

  it('answers a command line it cannot read with its usage (exit 2)', async () => {
    const res = await cli(['import']);
    expect(res.code).toBe(2);
    expect(res.stderr).toContain('usage: npm run devices');
  });
});
