// One load-generator connection: a raw TCP socket speaking MQTT 3.1.1 through mqtt-packet, without
// mqtt.js (its per-message overhead becomes the bottleneck at benchmark rates).
import net from 'node:net';
import mqttPacket, { type Packet } from 'mqtt-packet';

export interface LoadConnOptions {
  readonly host: string;
  readonly port: number;
  /** The local address to connect from (any of 127.0.0.0/8 on loopback); the system's choice if unset. */
  readonly localAddress?: string;
  readonly id: string;
  readonly secret: string;
  readonly keepaliveS: number;
  readonly connectTimeoutMs: number;
  /** A PUBACK arrived for this packet id. */
  onPuback(messageId: number): void;
  /** The socket closed without us closing it. */
  onLost(): void;
}

export type ConnectOutcome = 'accepted' | 'refused' | 'closed';

export interface LoadConn {
  readonly id: string;
  /** CONNECT, then wait for CONNACK: `refused` on a non-zero return code, `closed` on a dropped socket. */
  connect(): Promise<ConnectOutcome>;
  readonly alive: () => boolean;
  /** Bytes queued in the socket, for back-pressure on QoS 0. */
  readonly queued: () => number;
  write(buf: Buffer): void;
  /** DISCONNECT and close; the will is not published (MQTT-3.1.2-10). */
  close(): void;
}

export function createLoadConn(opts: LoadConnOptions): LoadConn {
  let socket: net.Socket | undefined;
  let alive = false;
  let closing = false;
  let pinger: NodeJS.Timeout | undefined;

  function connect(): Promise<ConnectOutcome> {
    return new Promise((resolve) => {
      const s = net.connect({ host: opts.host, port: opts.port, localAddress: opts.localAddress });
      socket = s;
      s.setNoDelay(true);
      const parser = mqttPacket.parser({ protocolVersion: 4 });
      let settled = false;
      const settle = (outcome: ConnectOutcome): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        if (outcome !== 'accepted') s.destroy();
        resolve(outcome);
      };
      const timer = setTimeout(() => settle('closed'), opts.connectTimeoutMs);
      parser.on('packet', (packet: Packet) => {
        if (packet.cmd === 'puback' && packet.messageId !== undefined) opts.onPuback(packet.messageId);
        else if (packet.cmd === 'connack') {
          alive = packet.returnCode === 0;
          settle(alive ? 'accepted' : 'refused');
        }
      });
      parser.on('error', () => s.destroy());
      s.on('data', (buf: Buffer) => parser.parse(buf));
      s.on('error', () => undefined); // 'close' follows and says what matters
      s.on('close', () => {
        const wasAlive = alive;
        alive = false;
        if (pinger) clearInterval(pinger);
        settle('closed');
        if (wasAlive && !closing) opts.onLost();
      });
      s.on('connect', () => {
        s.write(
          mqttPacket.generate({
            cmd: 'connect',
            protocolId: 'MQTT',
            protocolVersion: 4,
            clientId: opts.id,
            clean: true,
            keepalive: opts.keepaliveS,
            username: opts.id,
            password: Buffer.from(opts.secret),
          }),
        );
      });
      // Keep the session alive at half the keepalive (MQTT-3.1.2-23); PINGRESP needs no handling.
      pinger = setInterval(
        () => {
          if (alive) s.write(mqttPacket.generate({ cmd: 'pingreq' }));
        },
        (opts.keepaliveS * 1000) / 2,
      );
      pinger.unref();
    });
  }

  return {
    id: opts.id,
    connect,
    alive: () => alive,
    queued: () => socket?.writableLength ?? 0,
    write(buf) {
      if (alive) socket?.write(buf);
    },
    close() {
      closing = true;
      if (pinger) clearInterval(pinger);
      if (!socket) return;
      if (alive) socket.end(mqttPacket.generate({ cmd: 'disconnect' }));
      else socket.destroy();
      alive = false;
    },
  };
}
