// One simulated MQTT connection (a device or a gateway) over mqtt.js: credentials, the retained
// `online`/`offline` status with the last will, and dropouts that look like a lost radio link.
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import type { Logger } from 'pino';
import { SimError } from './errors.ts';

export interface LinkOptions {
  readonly url: string;
  /** Client id and MQTT user name: the device or gateway id (docs/architecture.md, "MQTT credentials"). */
  readonly id: string;
  readonly secret: string;
  /** The device's status topic: `online` retained on connect, `offline` as the last will. */
  readonly statusTopic?: string;
  readonly log: Logger;
  /** How long the first connection may take before the simulator gives up. */
  readonly connectTimeoutMs: number;
  /** Topics subscribed (QoS 1) at every connection: the commands of the device, or of a gateway's children. */
  readonly subscriptions?: readonly string[];
  /** What arrives on them. */
  readonly onMessage?: (topic: string, payload: Buffer) => void;
}

export interface Link {
  readonly id: string;
  /** Resolves on the first CONNACK accepted; rejects with SIM_ERR_CONNECT if refused or too slow. */
  connect(): Promise<void>;
  /** QoS 1 publish; resolves on PUBACK. mqtt.js keeps it and resends if the link is down meanwhile. */
  publish(topic: string, payload: string): Promise<void>;
  /** Cuts the connection without DISCONNECT, so the broker publishes the last will; no reconnect. */
  drop(): void;
  /** Reconnects after a drop. */
  restore(): void;
  /** Publishes `offline`, disconnects cleanly. Safe to call twice. */
  close(): Promise<void>;
}

const RECONNECT_MS = 1000;

export function createLink(opts: LinkOptions): Link {
  const { id, log, statusTopic } = opts;
  let client: MqttClient | undefined;
  let closed = false;

  const clientOptions: IClientOptions = {
    clientId: id,
    username: id,
    password: opts.secret,
    protocolVersion: 4,
    clean: true,
    reconnectPeriod: RECONNECT_MS,
    connectTimeout: opts.connectTimeoutMs,
    ...(statusTopic
      ? { will: { topic: statusTopic, payload: Buffer.from('offline'), qos: 1, retain: true } }
      : {}),
  };

  /** A clean session forgets subscriptions: they are made again at every connection. */
  function subscribe(c: MqttClient): void {
    const topics = opts.subscriptions ?? [];
    if (topics.length === 0) return;
    c.subscribe([...topics], { qos: 1 }, (err) => {
      if (err && !closed) log.warn({ err, device: id }, 'commands not subscribed');
    });
  }

  function announce(c: MqttClient): void {
    subscribe(c);
    if (!statusTopic) return;
    c.publish(statusTopic, 'online', { qos: 1, retain: true }, (err) => {
      if (err && !closed) log.warn({ err, device: id }, 'status not published');
    });
  }

  return {
    id,
    connect() {
      return new Promise<void>((resolve, reject) => {
        const c = mqtt.connect(opts.url, clientOptions);
        client = c;
        if (opts.onMessage !== undefined) c.on('message', opts.onMessage);
        let settled = false;
        const timer = setTimeout(
          () => fail(new Error(`no CONNACK within ${opts.connectTimeoutMs} ms`)),
          opts.connectTimeoutMs,
        );
        function fail(err: Error): void {
          if (settled) return;
          settled = true;
          clearTimeout(timer);
          c.end(true);
          reject(new SimError('SIM_ERR_CONNECT', `${id} could not connect: ${err.message}`, { cause: err }));
        }
        c.on('connect', () => {
          announce(c);
          if (settled) return;
          settled = true;
          clearTimeout(timer);
          resolve();
        });
        c.on('error', (err) => {
          if (!settled) fail(err);
          else log.warn({ err, device: id }, 'connection error');
        });
        c.on('offline', () => log.debug({ device: id }, 'offline'));
      });
    },
    publish(topic, payload) {
      const c = client;
      if (!c || closed) return Promise.reject(new SimError('SIM_ERR_STATE', `${id} is not connected`));
      return new Promise<void>((resolve, reject) => {
        c.publish(topic, payload, { qos: 1 }, (err) => (err ? reject(err) : resolve()));
      });
    },
    drop() {
      if (!client || closed) return;
      client.options.reconnectPeriod = 0;
      // Destroying the socket skips DISCONNECT: to the broker this is a lost device (MQTT-3.1.2-8).
      client.stream.destroy();
    },
    restore() {
      if (!client || closed) return;
      client.options.reconnectPeriod = RECONNECT_MS;
      client.reconnect();
    },
    async close() {
      if (closed || !client) return;
      closed = true;
      const c = client;
      if (statusTopic && c.connected) {
        await c.publishAsync(statusTopic, 'offline', { qos: 1, retain: true }).catch((err: unknown) => {
          log.warn({ err, device: id }, 'offline status not published');
        });
      }
      // A dropped link is not reconnecting: end it at once instead of waiting for a connection.
      await new Promise<void>((resolve) => c.end(!c.connected, () => resolve()));
    },
  };
}
