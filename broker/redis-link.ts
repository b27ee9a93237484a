// The broker's side of a cluster: Aedes' own scale-out parts on one Redis (docs/cluster.md).
// mqemitter-redis carries every publish to the nodes whose clients subscribe to it, and
// aedes-persistence-redis keeps retained messages, QoS 1 sessions, subscriptions and wills where every node
// sees them. Three connections: two for the emitter (a subscribing connection can do nothing else) and one
// for the persistence, each made here so that the link knows whether Redis answers.
//
// Redis is not on the durable path (a PUBACK still means the reading is in this node's spool), but every
// publish passes through it: while Redis does not answer, the broker refuses CONNECTs and closes what is
// connected, so devices reconnect through the balancer to a node that can serve them. "Answers" is a PING
// every second with a deadline: a Redis that stops answering keeps its sockets open.
import type { EventEmitter } from 'node:events';
import { Redis } from 'ioredis';
import type { Logger } from 'pino';
import mqemitterRedis from 'mqemitter-redis';
import redisPersistence from 'aedes-persistence-redis';
import { errorText, redactedUrl } from '../errors/index.ts';
import { BrokerError } from './errors.ts';

export interface ClusterConfig {
  /** `redis://[user:password@]host:port[/db]`. */
  readonly redisUrl: string;
  /** This node's broker id, stable across restarts: wills are kept per broker id. */
  readonly nodeId: string;
}

export interface RedisLink {
  readonly nodeId: string;
  /** For `Aedes.createBroker({ mq, persistence })`. */
  readonly mq: ReturnType<typeof mqemitterRedis>;
  readonly persistence: unknown;
  /** Whether Redis answered the last PING and every connection is ready. */
  up(): boolean;
  /** What went wrong last, while down. */
  problem(): string | undefined;
  /** Told each time the link goes down or comes back. */
  onChange(listener: (up: boolean) => void): void;
  /** Closes the persistence's connection and the ping; Aedes closes the emitter's. */
  close(): Promise<void>;
}

const CONNECT_TIMEOUT_MS = 5_000;
const PING_EVERY_MS = 1_000;
const PING_DEADLINE_MS = 2_000;

function connection(url: string, name: string): Redis {
  return new Redis(url, {
    lazyConnect: true,
    connectionName: name,
    connectTimeout: CONNECT_TIMEOUT_MS,
    // Fail fast while disconnected: the broker refuses clients then, and a queued command would only
    // delay its client's error.
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    commandTimeout: PING_DEADLINE_MS,
    retryStrategy: (times) => Math.min(100 * 2 ** Math.min(times, 5), 2_000),
  });
}

/** Connects to Redis or throws BROKER_ERR_REDIS saying what to do. */
export async function connectRedisLink(config: ClusterConfig, log: Logger): Promise<RedisLink> {
  const where = redactedUrl(config.redisUrl);
  const conns = ['sub', 'pub', 'db'].map((role) =>
    connection(config.redisUrl, `city:${config.nodeId}:${role}`),
  );
  const [sub, pub, db] = conns as [Redis, Redis, Redis];
  let lastError: string | undefined;
  for (const c of conns) {
    c.on('error', (err: Error) => (lastError = errorText(err)));
  }
  try {
    await Promise.all(conns.map((c) => c.connect()));
  } catch (err) {
    for (const c of conns) c.disconnect();
    throw new BrokerError(
      'BROKER_ERR_REDIS',
      `cannot reach Redis at ${where} (${errorText(err)}): start it, or check CITY_REDIS_URL`,
      { cause: err },
    );
  }

  const listeners: Array<(up: boolean) => void> = [];
  let pingOk = true;
  let wasUp = true;
  const up = () => pingOk && conns.every((c) => c.status === 'ready');
  const check = () => {
    const now = up();
    if (now === wasUp) return;
    wasUp = now;
    if (now) log.info({ redis: where }, 'Redis answers again: accepting MQTT clients');
    else log.error({ redis: where, err: lastError }, 'Redis lost: refusing MQTT clients until it answers');
    for (const listener of listeners) listener(now);
  };
  for (const c of conns) {
    c.on('close', check);
    c.on('ready', check);
  }
  let pinging = false;
  const pinger = setInterval(() => {
    if (pinging) return;
    pinging = true;
    db.ping()
      .then(
        () => (pingOk = true),
        (err: unknown) => {
          pingOk = false;
          lastError = errorText(err);
        },
      )
      .finally(() => {
        pinging = false;
        check();
      });
  }, PING_EVERY_MS);
  pinger.unref();

  // matchEmptyLevels: `a/#` matches `a`, as MQTT says (MQTT-4.7.1-2) and Aedes' own emitter does.
  const mq = mqemitterRedis({ subConn: sub, pubConn: pub, matchEmptyLevels: true });
  // The emitter re-emits its connections' errors on an emitter of its own, which throws when nobody
  // listens: they are the connections' errors, already heard above.
  (mq as unknown as { state: EventEmitter }).state.on('error', () => undefined);
  const persistence = redisPersistence({ conn: db });
  let closing: Promise<void> | undefined;
  return {
    nodeId: config.nodeId,
    mq,
    persistence,
    up,
    problem: () => (up() ? undefined : (lastError ?? 'Redis does not answer')),
    onChange: (listener) => void listeners.push(listener),
    close: () =>
      (closing ??= (async () => {
        clearInterval(pinger);
        await persistence.destroy().catch(() => undefined);
        for (const c of conns) c.disconnect();
      })()),
  };
}
