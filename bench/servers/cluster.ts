// A whole cluster on this machine, for the cluster's test and its benchmark: a throwaway Redis and
// PostgreSQL, N platform nodes as processes of their own (`platform/main.ts`, each with its data folder,
// killable with SIGKILL and started again on the same ports and data), and HAProxy in front with the
// deployment's own configuration (deploy/cluster/haproxy.cfg), the nodes' addresses given through its
// environment.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import fs from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { fileURLToPath } from 'node:url';
import { freePort } from '../../influx/index.ts';
import { startPostgres, type TestPostgres } from './postgres.ts';
import { startRedis, type TestRedis } from './redis.ts';

/** Until `check` gives a value, or throws after `ms`. */
async function waitFor<T>(check: () => Promise<T | undefined>, ms: number, what: string): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await check().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`${what}: not within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

interface NodeProcess {
  readonly child: ChildProcess;
  readonly exited: Promise<unknown>;
}

/** `platform/main.ts` with `env`; resolves once it logs that it started (at level info: keep it on). */
async function spawnNode(env: Record<string, string>): Promise<NodeProcess> {
  const main = fileURLToPath(new URL('../../platform/main.ts', import.meta.url));
  const child = spawn(process.execPath, ['--max-semi-space-size=64', '--import', 'tsx', main], {
    env: { ...process.env, CITY_HOST: '127.0.0.1', ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const exited = new Promise((resolve) => child.once('exit', resolve));
  await new Promise<void>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`node ${env.CITY_NODE_ID} exited with ${code}`)));
    readline.createInterface({ input: child.stdout }).on('line', (line) => {
      if (line.includes('"platform started"')) resolve();
    });
  });
  return { child, exited };
}

const HAPROXY_CFG = fileURLToPath(new URL('../../deploy/cluster/haproxy.cfg', import.meta.url));

export interface ClusterNode {
  readonly id: string;
  readonly mqttPort: number;
  readonly apiPort: number;
  readonly apiUrl: string;
  /** The process's id while it runs. */
  pid(): number | undefined;
  /** SIGKILL, and waits for the process to be gone. */
  kill(): Promise<void>;
  /** Starts it again on its ports and data folder; resolves once it logs that it started. */
  start(): Promise<void>;
}

export interface TestCluster {
  /** Through HAProxy: where devices connect, and where people reach the API. */
  readonly mqttUrl: string;
  readonly apiUrl: string;
  readonly nodes: readonly ClusterNode[];
  /** Undefined for a plain single node. */
  readonly redis: TestRedis | undefined;
  readonly postgres: TestPostgres | undefined;
  /** The processes on the path of a reading, for their CPU time: the nodes, Redis, HAProxy. */
  processes(): Array<{ readonly name: string; readonly pid: number }>;
  /** The InfluxDB database the nodes write to. */
  readonly db: string;
  readonly adminToken: string;
  /** Until HAProxy counts `n` nodes up on both its backends. */
  nodesUp(n: number): Promise<void>;
  stop(): Promise<void>;
}

/** Connects to `port` on loopback, or fails: whether something listens there. */
const listening = (port: number) =>
  new Promise<boolean>((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });

export interface ClusterOptions {
  readonly nodes: number;
  /** The InfluxDB every node writes to. */
  readonly influxUrl: string;
  readonly env?: Record<string, string>;
  /** One node as the platform runs alone: SQLite, no Redis, no PostgreSQL, no HAProxy (the baseline). */
  readonly plain?: boolean;
}

export async function startCluster(options: ClusterOptions): Promise<TestCluster> {
  if (options.nodes < 1 || options.nodes > 3) throw new Error('the HAProxy configuration names three nodes');
  const root = await fs.mkdtemp(path.join(os.tmpdir(), 'city-cluster-'));
  const plain = options.plain === true;
  if (plain && options.nodes !== 1) throw new Error('a plain platform is one node');
  const redis = plain ? undefined : await startRedis();
  const postgres = plain ? undefined : await startPostgres();
  const adminToken = 'cluster-admin-token-0123456789';
  const db = `cluster_${process.pid}_${Date.now()}`;
  const env = {
    ...(redis && postgres
      ? {
          CITY_REDIS_URL: redis.url,
          CITY_DATABASE_URL: await postgres.database('city'),
          CITY_MQTT_PROXY_PROTOCOL: 'true',
        }
      : {}),
    CITY_ADMIN_TOKEN: adminToken,
    INFLUX_URL: options.influxUrl,
    INFLUX_DB: db,
    CITY_LOG_LEVEL: 'info',
    CITY_LOG_FORMAT: 'json',
    ...options.env,
  };

  const nodes: ClusterNode[] = [];
  for (let i = 1; i <= options.nodes; i++) {
    const id = `node-${i}`;
    const mqttPort = await freePort();
    const apiPort = await freePort();
    const dataDir = path.join(root, id);
    let running: NodeProcess | undefined;
    const node: ClusterNode = {
      id,
      mqttPort,
      apiPort,
      apiUrl: `http://127.0.0.1:${apiPort}`,
      pid: () => running?.child.pid,
      async kill() {
        const proc = running;
        running = undefined;
        if (proc === undefined || proc.child.exitCode !== null) return;
        proc.child.kill('SIGKILL');
        await proc.exited;
      },
      async start() {
        running = await spawnNode({
          ...env,
          CITY_NODE_ID: id,
          CITY_DATA_DIR: dataDir,
          CITY_MQTT_PORT: String(mqttPort),
          CITY_API_PORT: String(apiPort),
        });
      },
    };
    nodes.push(node);
  }
  // One after the other: the first makes the schema and the registry's key, as a real first start does.
  for (const node of nodes) await node.start();
  const nodeProcesses = () =>
    nodes.flatMap((n) => {
      const pid = n.pid();
      return pid === undefined ? [] : [{ name: n.id, pid }];
    });
  if (plain) {
    const node = nodes[0]!;
    return {
      ...{ mqttUrl: `mqtt://127.0.0.1:${node.mqttPort}`, apiUrl: node.apiUrl, nodes, db, adminToken },
      redis: undefined,
      postgres: undefined,
      processes: nodeProcesses,
      nodesUp: () => Promise.resolve(),
      async stop() {
        await node.kill();
        await fs.rm(root, { recursive: true, force: true });
      },
    };
  }

  const lbMqtt = await freePort();
  const lbApi = await freePort();
  const haproxyEnv: Record<string, string> = {
    PATH: process.env.PATH ?? '',
    CITY_LB_BIND_ADDR: '127.0.0.1',
    CITY_LB_MAXCONN: '5000',
    CITY_LB_MQTT_PORT: String(lbMqtt),
    CITY_LB_API_PORT: String(lbApi),
  };
  for (let i = 1; i <= 3; i++) {
    // A cluster of fewer nodes names the first one again: HAProxy's file has three servers.
    const node = nodes[Math.min(i, nodes.length) - 1]!;
    haproxyEnv[`CITY_NODE${i}_HOST`] = '127.0.0.1';
    haproxyEnv[`CITY_NODE${i}_MQTT_PORT`] = String(node.mqttPort);
    haproxyEnv[`CITY_NODE${i}_API_PORT`] = String(node.apiPort);
  }
  let haproxyOutput = '';
  // Debian puts it in /usr/sbin, which an unprivileged user's PATH may lack.
  const haproxyBin = existsSync('/usr/sbin/haproxy') ? '/usr/sbin/haproxy' : 'haproxy';
  const haproxy: ChildProcess = spawn(haproxyBin, ['-db', '-f', HAPROXY_CFG], {
    env: haproxyEnv,
    stdio: 'pipe',
  });
  const keep = (chunk: Buffer) => (haproxyOutput = (haproxyOutput + chunk.toString()).slice(-4000));
  haproxy.stdout?.on('data', keep);
  haproxy.stderr?.on('data', keep);
  const haproxyExited = new Promise((resolve) => haproxy.once('exit', resolve));

  const stop = async () => {
    if (haproxy.exitCode === null) {
      haproxy.kill('SIGKILL');
      await haproxyExited;
    }
    for (const node of nodes) await node.kill();
    await redis?.stop();
    await postgres?.stop();
    await fs.rm(root, { recursive: true, force: true });
  };

  try {
    await waitFor(async () => ((await listening(lbMqtt)) ? true : undefined), 10_000, 'haproxy').catch(() => {
      throw new Error(`haproxy did not start: ${haproxyOutput}`);
    });
    // The API through HAProxy answers once its checks found a node up.
    await waitFor(
      async () => ((await fetch(`http://127.0.0.1:${lbApi}/health`)).status === 200 ? true : undefined),
      20_000,
      'the API through haproxy',
    );
  } catch (err) {
    await stop();
    throw err;
  }

  return {
    mqttUrl: `mqtt://127.0.0.1:${lbMqtt}`,
    apiUrl: `http://127.0.0.1:${lbApi}`,
    nodes,
    redis,
    postgres,
    db,
    adminToken,
    processes: () => [
      ...nodeProcesses(),
      ...(redis?.pid() === undefined ? [] : [{ name: 'redis', pid: redis.pid()! }]),
      ...(haproxy.pid === undefined ? [] : [{ name: 'haproxy', pid: haproxy.pid }]),
    ],
    async nodesUp(n) {
      // Each node's own /health, as HAProxy checks it.
      await waitFor(
        async () => {
          let up = 0;
          for (const node of nodes) {
            const res = await fetch(`${node.apiUrl}/health`).catch(() => undefined);
            if (res?.status === 200) up++;
          }
          return up >= n ? true : undefined;
        },
        30_000,
        `${n} nodes healthy`,
      );
      // And two of HAProxy's checks (1 s apart) to count them.
      await new Promise((r) => setTimeout(r, 2_500));
    },
    stop,
  };
}
