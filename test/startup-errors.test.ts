// A start a user can make fail says what happened and which setting or command fixes it, without a stack
// trace: `npm start` (platform/main.ts) run for real with the MQTT or API port taken, the data folder
// unwritable, InfluxDB unreachable, influxd missing, and a cluster node's Redis unreachable.
import { execFile } from 'node:child_process';
import fs from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { freePort } from '../influx/index.ts';
import { startPostgres, type TestPostgres } from './kits/postgres.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
let dir: string;
let taken: net.Server;
let takenPort: number;
let pg: Promise<TestPostgres> | undefined;
/** A PostgreSQL for the cluster node whose Redis is missing: only what is tested may fail. */
const postgresServer = () => (pg ??= startPostgres());

beforeAll(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'startup-errors-'));
  // Only held, never connected to: closing it then waits for no one.
  taken = net.createServer((socket) => socket.destroy());
  await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
  takenPort = (taken.address() as net.AddressInfo).port;
});
afterAll(async () => {
  await new Promise((resolve) => taken.close(resolve));
  await (await pg)?.stop();
  await fs.rm(dir, { recursive: true, force: true });
});

/** Runs `npm start`'s entry with `env`; its exit code and what it wrote on stderr. */
function start(env: Record<string, string>): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', 'platform/main.ts'],
      {
        cwd: ROOT,
        timeout: 60_000,
        env: {
          PATH: process.env.PATH ?? '',
          HOME: process.env.HOME ?? '',
          CITY_HOST: '127.0.0.1',
          CITY_MQTT_PORT: '0',
          CITY_API_PORT: '0',
          CITY_LOG_LEVEL: 'warn',
          CITY_DATA_DIR: path.join(dir, `data-${Math.random().toString(36).slice(2)}`),
          INFLUX_URL: inject('influxUrl'),
          INFLUX_DB: `startup_${process.pid}`,
          ...env,
        },
      },
      (err, _stdout, stderr) =>
        resolve({ code: err ? (typeof err.code === 'number' ? err.code : null) : 0, stderr }),
    );
  });
}

const noStack = (stderr: string) => expect(stderr).not.toMatch(/^\s+at /m);

describe('a start that fails says why and what to do', () => {
  it.concurrent('the MQTT port taken: names CITY_MQTT_PORT', async () => {
    const { code, stderr } = await start({ CITY_MQTT_PORT: String(takenPort) });
    expect(code).toBe(1);
    expect(stderr).toContain(`port ${takenPort} is already in use`);
    expect(stderr).toContain('CITY_MQTT_PORT=');
    noStack(stderr);
  });

  it.concurrent('the API port taken: names CITY_API_PORT', async () => {
    const { code, stderr } = await start({ CITY_API_PORT: String(takenPort) });
    expect(code).toBe(1);
    expect(stderr).toContain('CITY_API_PORT=');
    noStack(stderr);
  });

  it.concurrent('a data folder that cannot be made: names CITY_DATA_DIR', async () => {
    const file = path.join(dir, 'a-file');
    await fs.writeFile(file, 'not a folder');
    const { code, stderr } = await start({ CITY_DATA_DIR: path.join(file, 'var') });
    expect(code).toBe(1);
    expect(stderr).toContain(`the data folder ${path.join(file, 'var')} cannot be written`);
    expect(stderr).toContain('CITY_DATA_DIR');
    noStack(stderr);
  });

  it.concurrent('InfluxDB not answering: names INFLUX_URL', async () => {
    const closedPort = await freePort(); // free a moment ago: nothing listens there
    const { code, stderr } = await start({ INFLUX_URL: `http://127.0.0.1:${closedPort}` });
    expect(code).toBe(1);
    expect(stderr).toContain(`InfluxDB at http://127.0.0.1:${closedPort} cannot be reached`);
    expect(stderr).toContain('INFLUX_URL');
    noStack(stderr);
  });

  it.concurrent('a cluster node whose Redis does not answer: names CITY_REDIS_URL', async () => {
    const closedPort = await freePort();
    const { code, stderr } = await start({
      CITY_REDIS_URL: `redis://:hunter2@127.0.0.1:${closedPort}`,
      CITY_DATABASE_URL: await (await postgresServer()).database(`startup_${process.pid}`),
      CITY_NODE_ID: 'node-1',
    });
    expect(code).toBe(1);
    expect(stderr).toContain(`Redis at redis://:***@127.0.0.1:${closedPort} cannot be reached`);
    expect(stderr).toContain('CITY_REDIS_URL');
    expect(stderr).not.toContain('hunter2');
    noStack(stderr);
  });

  it.concurrent('PostgreSQL not answering: names CITY_DATABASE_URL, without its password', async () => {
    const closedPort = await freePort();
    const { code, stderr } = await start({
      CITY_DATABASE_URL: `postgres://city:hunter2@127.0.0.1:${closedPort}/city`,
    });
    expect(code).toBe(1);
    expect(stderr).toContain(`PostgreSQL at postgres://city:***@127.0.0.1:${closedPort}/city cannot be used`);
    expect(stderr).toContain('CITY_DATABASE_URL');
    expect(stderr).not.toContain('hunter2');
    noStack(stderr);
  });

  it.concurrent('influxd not installed: says how to install it or to set INFLUX_URL', async () => {
    const { code, stderr } = await start({ INFLUX_URL: '', PATH: '/nonexistent' });
    expect(code).toBe(1);
    expect(stderr).toContain('influxd is not installed');
    expect(stderr).toContain('bash scripts/install-deps.sh');
    noStack(stderr);
  });
});
