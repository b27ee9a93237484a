// The broker's listeners: TCP (or TLS) and, when configured, WebSocket, each handing its connections to
// Aedes. Closing stops accepting first, then closes the clients (sending their wills), then waits for
// the sockets to end.
import http from 'node:http';
import net from 'node:net';
import type { Duplex } from 'node:stream';
import tls from 'node:tls';
import { createWebSocketStream, WebSocketServer } from 'ws';
import type { AttemptLimits } from './attempts.ts';
import { readProxyHeader } from './proxy-protocol.ts';
import type { ClusterConfig } from './redis-link.ts';

export interface BrokerConfig {
  readonly host: string;
  /** TCP (or TLS, when a certificate is given) port; 0 picks a free one. */
  readonly port: number;
  /** WebSocket port; undefined: no WebSocket listener. */
  readonly wsPort?: number | undefined;
  readonly tls?: { readonly cert: string | Buffer; readonly key: string | Buffer } | undefined;
  readonly maxPacketBytes: number;
  /** Failed-CONNECT limits; DEFAULT_ATTEMPT_LIMITS unless given. */
  readonly attemptLimits?: AttemptLimits | undefined;
  /**
   * Behind a load balancer: every TCP connection starts with a PROXY protocol header (v1 or v2) naming the
   * device's address (proxy-protocol.ts). Not with TLS: the balancer terminates TLS then.
   */
  readonly proxyProtocol?: boolean | undefined;
  /** A node of a cluster: publishes, sessions, retained messages and wills shared through Redis. */
  readonly cluster?: ClusterConfig | undefined;
}

export interface Listeners {
  readonly port: number;
  /** Undefined without a WebSocket listener. */
  readonly wsPort: number | undefined;
  /** Stops accepting connections and closes every client's (their wills are sent); the broker stays. */
  close(): Promise<void>;
}

/**
 * The TCP (or TLS) listener and the WebSocket one when configured, each handing its connections to
 * Aedes through `handle`. Closing stops accepting first, then closes the clients (sending their wills),
 * then waits for the sockets to end.
 */
export async function openListeners(
  config: BrokerConfig,
  handle: (conn: Duplex, req?: http.IncomingMessage) => void,
  closeClients: () => void,
  refusedProxy: (why: string, from: string | undefined) => void = () => undefined,
): Promise<Listeners> {
  if (config.proxyProtocol === true && config.tls)
    throw new Error('the PROXY protocol is for a plain TCP listener: terminate TLS at the load balancer');
  const tcp = config.tls
    ? tls.createServer({ cert: config.tls.cert, key: config.tls.key }, handle)
    : net.createServer(
        config.proxyProtocol === true
          ? (socket) => readProxyHeader(socket, (s) => handle(s), refusedProxy)
          : handle,
      );
  await listen(tcp, config.port, config.host);

  let ws: { server: http.Server; wss: WebSocketServer } | undefined;
  if (config.wsPort !== undefined) {
    const server = http.createServer();
    // The WebSocket frame limit matches the MQTT packet limit, plus its largest fixed header.
    const wss = new WebSocketServer({ server, maxPayload: config.maxPacketBytes + 5 });
    wss.on('connection', (socket, req) => handle(createWebSocketStream(socket), req));
    await listen(server, config.wsPort, config.host);
    ws = { server, wss };
  }

  let closing: Promise<void> | undefined;
  return {
    port: (tcp.address() as net.AddressInfo).port,
    wsPort: ws ? (ws.server.address() as net.AddressInfo).port : undefined,
    close: () =>
      (closing ??= (async () => {
        const servers = [closeServer(tcp), ...(ws ? [closeServer(ws.server)] : [])];
        ws?.wss.close();
        closeClients();
        await Promise.all(servers);
      })()),
  };
}

function listen(server: net.Server, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

function closeServer(server: net.Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    // Connections still open are the clients': Aedes closes them next.
    if ('closeAllConnections' in server && typeof server.closeAllConnections === 'function') {
      (server as http.Server).closeAllConnections();
    }
  });
}
