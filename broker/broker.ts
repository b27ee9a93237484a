// Aedes wired to the registry (authentication, ACL), to ingest (the durable-ack hook) and to the alert
// requests of flows, on TCP, TLS and WebSocket listeners that each enforce the maximum packet size. It also
// keeps track of whether anyone subscribes to the decoded readings, so that the platform publishes them
// only then.
//
// Made in two steps, as the API is: `createBroker` makes the broker, whose `publish` works at once (the
// alert sinks and flows publish through it), and `listen` opens the listeners with the handlers of what
// clients send. The handlers come last because they are the components that publish: no client can
// reach the broker before it listens, so no hook runs without them.
import type { EventEmitter } from 'node:events';
import type http from 'node:http';
import type { Duplex } from 'node:stream';
import { Aedes, type AedesPublishPacket, type Client, type PublishPacket, type Subscription } from 'aedes';
import type { Logger } from 'pino';
import {
  isStatusPayload,
  type DeviceRecord,
  type Kind,
  type ParsedTopic,
  type Principal,
  type Topics,
} from '../devices/index.ts';
import type { Ingest, IngestDone } from '../ingest/index.ts';
import { decidePublish, maySubscribe } from './acl.ts';
import { createAttemptLimiter } from './attempts.ts';
import { createConnectAuth } from './connect-auth.ts';
import { BrokerError, type BrokerErrorCode } from './errors.ts';
import { openListeners, type BrokerConfig, type Listeners } from './listeners.ts';
import { createPacketLimiter } from './packet-limit.ts';
import { createCommandListeners } from './command-listeners.ts';
import { createClusterReaders, type ClusterReaders } from './cluster-readers.ts';
import { createNodeBus, type NodeBus } from './node-bus.ts';
import { createReadingsReaders } from './readings-readers.ts';
import { connectRedisLink } from './redis-link.ts';
import { createRefusalReporter, type BrokerMetrics, type Refusal } from './refusals.ts';

export type { BrokerMetrics, Refusal } from './refusals.ts';

/** A service account's request to raise or clear an alert, on `<prefix>/alerts/<kind>/<id>/<rule>/<action>`. */
export interface AlertRequest {
  readonly topic: string;
  /** The service account (MQTT user name) that sent it. */
  readonly source: string;
  readonly request: Extract<ParsedTopic, { type: 'alert-request' }>;
  readonly payload: Buffer;
}

export interface BrokerDeps {
  readonly log: Logger;
  readonly topics: Topics;
  readonly metrics: BrokerMetrics;
  /** Told of every refusal; it must not throw (the platform keeps them within a budget). */
  readonly onRefused?: (refusal: Refusal) => void;
}

/** Where what clients send goes: given to `listen`. */
export interface BrokerHandlers {
  readonly authenticate: (username: string, password: Buffer) => Promise<Principal | undefined>;
  readonly getDevice: (id: string) => DeviceRecord | undefined;
  readonly ingest: Ingest;
  /**
   * Handles an alert request before it is acknowledged. A bad request is the handler's to dead-letter, and
   * is acknowledged all the same; an error back means it could not be recorded at all (the alert store
   * failed): it is not acknowledged and the connection is closed, so the client sends it again.
   */
  readonly alertRequest: (request: AlertRequest) => Promise<Error | undefined>;
  /** Told each time the decoded readings gain their first subscriber or lose their last. */
  readonly onReadingsWanted: (wanted: boolean) => void;
  /**
   * A device's (or its gateway's) answer to a command, before it is acknowledged; as for alert requests,
   * a bad answer is the handler's to dead-letter, and an error back means it could not be recorded.
   */
  readonly commandAck: (ack: CommandAckMessage) => Promise<Error | undefined>;
  /** A device's commands topic has gained a subscriber (the device, or its gateway): what waits may go. */
  readonly onCommandsListener: (deviceId: string) => void;
}

/** An answer to a command on `<prefix>/<kind>/<id>/commands/ack`. */
export interface CommandAckMessage {
  readonly topic: string;
  /** The device the topic names (the ACL has checked that the sender may answer for it). */
  readonly device: string;
  /** Who sent it: the device itself or its gateway. */
  readonly source: string;
  readonly payload: Buffer;
}

export interface ClusterStatus {
  readonly node: string;
  readonly redis: 'up' | 'down';
  /** Why Redis is down. */
  readonly problem: string | undefined;
}

export interface Broker {
  connectedClients(): number;
  /** In a cluster, this node's id and whether it reaches Redis; undefined for a single node. */
  cluster(): ClusterStatus | undefined;
  /** In a cluster, messages to the other nodes (node-bus.ts); undefined for a single node. */
  readonly bus: NodeBus | undefined;
  /** Addresses and user names whose CONNECTs are refused unchecked now, after failed ones. */
  blockedAttempts(): { address: number; user: number };
  /** Publishes as the platform itself (alerts, commands), bypassing the ACL. */
  readonly publish: (
    topic: string,
    payload: string | Buffer,
    options?: { qos?: 0 | 1; retain?: boolean },
  ) => Promise<void>;
  /**
   * Closes every connection signed in as this device, gateway or service account (a service account may
   * hold several, `<id>:<suffix>`): its credentials were revoked, rotated or its rights changed.
   */
  disconnect(id: string): void;
  /** Whether some client (the device, or its gateway) receives this device's commands now. */
  listensForCommands(kind: Kind, deviceId: string): boolean;
  /** Opens the listeners; what clients send goes to `handlers` from then on. */
  listen(handlers: BrokerHandlers): Promise<Listeners>;
  /** Closes the listeners (when open) and the broker. */
  close(): Promise<void>;
}

const CLUSTER_HEARTBEAT_MS = 5_000;

export async function createBroker(config: BrokerConfig, deps: BrokerDeps): Promise<Broker> {
  const { log, topics, metrics } = deps;
  const report = createRefusalReporter(deps);
  // Set by `listen`: no client can connect before it, so no hook below runs without them.
  let handlers: BrokerHandlers | undefined;
  const on = (): BrokerHandlers => {
    if (handlers === undefined) throw new Error('the broker is not listening');
    return handlers;
  };
  const getDevice = (id: string): DeviceRecord | undefined => on().getDevice(id);
  const principals = new WeakMap<Client, Principal>();
  const oversized = new WeakSet<object>();
  // Dead-lettered payloads are acknowledged (so the device does not resend them) but never forwarded
  // to subscribers, and neither are alert requests: they are for the platform, whose answer is the
  // transition it publishes. Aedes copies the packet before forwarding, but keeps the payload buffer.
  const unforwarded = new WeakSet<Buffer>();
  const kindOf = (id: string): Kind | undefined => getDevice(id)?.kind;
  // Whether anyone reads the decoded readings: here, or in a cluster on any node (cluster-readers.ts).
  // Remembered, since another node may say so before this one listens.
  let readingsWanted = false;
  const wantReadings = (wanted: boolean) => {
    readingsWanted = wanted;
    handlers?.onReadingsWanted(wanted);
  };
  let clusterReaders: ClusterReaders | undefined;
  const readers = createReadingsReaders(topics, (wanted) =>
    clusterReaders ? clusterReaders.local(wanted) : wantReadings(wanted),
  );
  const commandListeners = createCommandListeners(topics, (device) => {
    try {
      on().onCommandsListener(device);
    } catch (err) {
      log.error({ err, device }, 'commands waiting for a device could not be sent');
    }
  });
  const attempts = createAttemptLimiter(config.attemptLimits);
  const link = config.cluster && (await connectRedisLink(config.cluster, log));
  const authenticate = createConnectAuth({
    ...{ attempts, metrics, report },
    authenticate: (username, password) => on().authenticate(username, password),
    accepted: (client, principal) => principals.set(client, principal),
    unavailable: () => {
      const problem = link?.problem();
      return problem && `this node has lost Redis (${problem}): connect to another node`;
    },
  });

  function refuse(
    code: BrokerErrorCode,
    message: string,
    clientId: string,
    topic: string,
    cause?: unknown,
    payload?: Buffer,
  ): BrokerError {
    report(code, message, { log: { clientId, topic }, source: clientId, topic, payload });
    return new BrokerError(code, message, { cause });
  }

  function authorizePublish(
    client: Client | null,
    packet: PublishPacket,
    callback: (error?: Error | null) => void,
  ) {
    if (client === null) {
      // The last will of a client gone before it could be sent: only status wills were ever accepted.
      const will = topics.parse(packet.topic)?.type === 'device' && isStatusPayload(packet.payload as Buffer);
      return callback(will ? null : new Error('not a status will'));
    }
    const principal = principals.get(client);
    if (!principal)
      return callback(refuse('BROKER_ERR_ACL', 'publish before authentication', client.id, packet.topic));
    if (oversized.has(client.conn)) {
      return callback(refuse('BROKER_ERR_PACKET_TOO_LARGE', 'packet too large', client.id, packet.topic));
    }
    const parsed = topics.parse(packet.topic);
    const decision = decidePublish(principal, parsed, kindOf);
    if (!decision.allow) {
      const payload = packet.payload as Buffer;
      return callback(
        refuse('BROKER_ERR_ACL', 'publish refused by ACL', client.id, packet.topic, undefined, payload),
      );
    }
    if (decision.route === 'status') return status(client, parsed, packet, callback);
    if (decision.route === 'alert-request') return alertRequest(client, principal, parsed, packet, callback);
    if (decision.route === 'command-ack') return commandAck(client, parsed, packet, callback);
    telemetry(client, principal, decision.route, parsed, packet, callback);
  }

  /** A device's status, its own or a gateway child's: only online or offline is forwarded and retained. */
  function status(
    client: Client,
    parsed: ParsedTopic | undefined,
    packet: PublishPacket,
    callback: (error?: Error | null) => void,
  ) {
    const device = parsed?.type === 'device' ? getDevice(parsed.device) : undefined;
    if (!device) return callback(refuse('BROKER_ERR_ACL', 'device not registered', client.id, packet.topic));
    const payload = packet.payload as Buffer;
    const message = { topic: packet.topic, source: client.id, payload, qos: packet.qos };
    on().ingest.acceptStatus(device, message, (err, rejected) => {
      if (rejected) {
        unforwarded.add(payload);
        packet.retain = false; // nor kept for later subscribers
      }
      callback(
        err ? refuse('BROKER_ERR_NOT_STORED', 'status not stored', client.id, packet.topic, err) : null,
      );
    });
  }

  /** A service account's alert request: for the platform only, never forwarded nor retained. */
  function alertRequest(
    client: Client,
    principal: Principal,
    parsed: ParsedTopic | undefined,
    packet: PublishPacket,
    callback: (error?: Error | null) => void,
  ) {
    if (parsed?.type !== 'alert-request' || principal.type !== 'service') {
      return callback(refuse('BROKER_ERR_ACL', 'not an alert request', client.id, packet.topic));
    }
    const payload = packet.payload as Buffer;
    unforwarded.add(payload);
    packet.retain = false; // nor kept for later subscribers
    const request = { topic: packet.topic, source: principal.id, request: parsed, payload };
    acknowledgeOnceRecorded(on().alertRequest(request), 'alert request', client, packet, callback);
  }

  /** Acknowledges a message once its handler has recorded it; refuses it (no PUBACK) if it could not. */
  function acknowledgeOnceRecorded(
    recorded: Promise<Error | undefined>,
    what: string,
    client: Client,
    packet: PublishPacket,
    callback: (error?: Error | null) => void,
  ) {
    void recorded
      .catch((err: unknown) => (err instanceof Error ? err : new Error(String(err))))
      .then((err) =>
        callback(
          err ? refuse('BROKER_ERR_NOT_STORED', `${what} not recorded`, client.id, packet.topic, err) : null,
        ),
      )
      .catch((err: unknown) =>
        log.error({ err, clientId: client.id }, `${what}: the broker's callback failed`),
      );
  }

  /** A command's answer: for the platform only, never forwarded nor retained. */
  function commandAck(
    client: Client,
    parsed: ParsedTopic | undefined,
    packet: PublishPacket,
    callback: (error?: Error | null) => void,
  ) {
    if (parsed?.type !== 'command-ack')
      return callback(refuse('BROKER_ERR_ACL', 'not a command answer', client.id, packet.topic));
    const payload = packet.payload as Buffer;
    unforwarded.add(payload);
    packet.retain = false;
    const answer = { topic: packet.topic, device: parsed.device, source: client.id, payload };
    acknowledgeOnceRecorded(on().commandAck(answer), 'command answer', client, packet, callback);
  }

  /** Readings, a device's own or a gateway's pack: acknowledged once ingest has them on disk. */
  function telemetry(
    client: Client,
    principal: Principal,
    route: 'telemetry' | 'gateway-telemetry',
    parsed: ParsedTopic | undefined,
    packet: PublishPacket,
    callback: (error?: Error | null) => void,
  ) {
    const message = {
      topic: packet.topic,
      source: client.id,
      payload: packet.payload as Buffer,
      qos: packet.qos,
    };
    const done: IngestDone = (err, rejected) => {
      if (rejected) unforwarded.add(message.payload);
      callback(
        err ? refuse('BROKER_ERR_NOT_STORED', 'readings not stored', client.id, packet.topic, err) : null,
      );
    };
    if (route === 'gateway-telemetry' && principal.type === 'gateway') {
      return on().ingest.acceptGateway(principal.gatewayId, principal.children, message, done);
    }
    const device = parsed?.type === 'device' ? getDevice(parsed.device) : undefined;
    if (!device || device.status !== 'active') {
      return callback(
        refuse('BROKER_ERR_ACL', 'device not registered or decommissioned', client.id, packet.topic),
      );
    }
    on().ingest.acceptDevice(device, message, done);
  }

  function authorizeSubscribe(
    client: Client,
    sub: Subscription,
    callback: (error: Error | null, subscription?: Subscription | null) => void,
  ) {
    const principal = principals.get(client);
    if (principal && maySubscribe(principal, sub.topic, topics, kindOf)) {
      readers.subscribed(client, sub.topic);
      return callback(null, sub);
    }
    const filter = sub.topic;
    report('BROKER_ERR_SUBSCRIBE_ACL', 'subscription refused', {
      ...{ log: { clientId: client.id, filter }, source: client.id, topic: filter },
    });
    callback(null, null); // SUBACK 0x80 for this filter; the connection stays
  }

  const aedes = await Aedes.createBroker({
    ...(link && { id: link.nodeId, mq: link.mq, persistence: link.persistence }),
    authenticate,
    authorizePublish,
    authorizeSubscribe,
    authorizeForward: (_client: Client, packet: AedesPublishPacket) =>
      unforwarded.has(packet.payload as Buffer) ? null : packet,
    // Device ids go up to 64 characters (devices/schemas.ts), longer than MQTT 3.1.0's 23.
    maxClientsIdLength: 64,
    // In a cluster, the other nodes take a node for dead, and publish the wills of its clients, after
    // three heartbeats missed (Aedes); alone, the heartbeat only feeds $SYS.
    heartbeatInterval: link ? CLUSTER_HEARTBEAT_MS : 60_000,
    connectTimeout: 10_000,
  }).catch(async (err: unknown) => {
    await link?.close();
    throw err;
  });
  // Aedes reports what fails outside any client's request here (a will it could not publish, Redis
  // failing under the persistence): logged, never thrown.
  (aedes as unknown as EventEmitter).on('error', (err: Error) => log.error({ err }, 'broker error'));
  if (link) clusterReaders = createClusterReaders(aedes, link, CLUSTER_HEARTBEAT_MS, wantReadings);
  link?.onChange((up) => {
    if (!up) closeAllClients();
  });
  aedes.on('clientError', (client: Client, err: Error) => {
    log.debug({ clientId: client.id, err }, 'client error');
  });
  aedes.on('unsubscribe', (filters: string[], client: Client) => {
    readers.unsubscribed(client, filters);
    commandListeners.unsubscribed(client, filters);
  });
  aedes.on('clientDisconnect', (client: Client) => {
    readers.gone(client);
    commandListeners.gone(client);
  });
  // Told after the subscription is in place, so that what is published for it then reaches the client.
  aedes.on('subscribe', (subscriptions: Subscription[], client: Client) =>
    commandListeners.subscribed(
      client,
      subscriptions.map((s) => s.topic),
    ),
  );

  function handle(conn: Duplex, req?: http.IncomingMessage): void {
    const check = createPacketLimiter(config.maxPacketBytes);
    conn.on('data', (chunk: Buffer) => {
      if (check(chunk)) return;
      oversized.add(conn);
      const why = 'packet over the size limit; closing the connection';
      report('BROKER_ERR_PACKET_TOO_LARGE', why, { log: { max: config.maxPacketBytes } });
      conn.destroy();
    });
    aedes.handle(conn, req);
  }

  let listening: Listeners | undefined;
  let closing: Promise<void> | undefined;
  return {
    connectedClients: () => aedes.connectedClients,
    cluster: () => link && { node: link.nodeId, redis: link.up() ? 'up' : 'down', problem: link.problem() },
    bus: link && createNodeBus(aedes, link),
    blockedAttempts: () => attempts.blockedKeys(),
    publish: (topic, payload, options = {}) =>
      new Promise((resolve, reject) => {
        const packet: PublishPacket = {
          cmd: 'publish',
          topic,
          payload: typeof payload === 'string' ? Buffer.from(payload) : payload,
          qos: options.qos ?? 1,
          retain: options.retain ?? false,
          dup: false,
        };
        aedes.publish(packet, (err) => (err ? reject(err) : resolve()));
      }),
    listensForCommands: commandListeners.listens,
    disconnect(id) {
      for (const client of Object.values(clients()))
        if (client !== undefined && principalId(principals.get(client)) === id) client.close();
    },
    async listen(given) {
      if (handlers !== undefined) throw new Error('the broker is listening already');
      handlers = given;
      if (readingsWanted) given.onReadingsWanted(true);
      listening = await openListeners(config, handle, closeAllClients, (why, from) =>
        report('BROKER_ERR_PROXY_HEADER', why, {
          log: { address: from },
          detail: `${why} (from ${from ?? 'an unknown address'})`,
        }),
      );
      return listening;
    },
    close: () =>
      (closing ??= (async () => {
        await listening?.close();
        clusterReaders?.close();
        await new Promise<void>((resolve) => aedes.close(() => resolve()));
        await link?.close();
      })()),
  };

  function principalId(p: Principal | undefined): string | undefined {
    if (p === undefined) return undefined;
    return p.type === 'device' ? p.device.id : p.type === 'gateway' ? p.gatewayId : p.id;
  }
  function clients(): Record<string, Client | undefined> {
    return (aedes as unknown as { clients: Record<string, Client | undefined> }).clients;
  }
  function clientOf(id: string): Client | undefined {
    return clients()[id];
  }
  function closeAllClients(): void {
    for (const id of Object.keys(clients())) clientOf(id)?.close();
  }
}
