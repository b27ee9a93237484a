// A bare MQTT 3.1.1 CONNECT on a raw socket, for tests that need the CONNACK's return code itself (mqtt.js
// turns a refusal into an error and may retry).
import net from 'node:net';
import mqttPacket, { type Packet } from 'mqtt-packet';

export interface RawConnect {
  readonly port: number;
  readonly clientId: string;
  readonly username: string;
  readonly password: string;
}

/** Sends one CONNECT and resolves with the CONNACK's return code (0 accepted), then closes the socket. */
export function connackCode(c: RawConnect): Promise<number> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: '127.0.0.1', port: c.port });
    const parser = mqttPacket.parser({ protocolVersion: 4 });
    parser.on('packet', (packet: Packet) => {
      if (packet.cmd !== 'connack') return;
      resolve(packet.returnCode ?? -1);
      socket.destroy();
    });
    socket.on('data', (buf: Buffer) => parser.parse(buf));
    socket.on('error', reject);
    socket.on('close', () => reject(new Error(`no CONNACK for ${c.username}`)));
    socket.on('connect', () =>
      socket.write(
        mqttPacket.generate({
          cmd: 'connect',
          protocolId: 'MQTT',
          protocolVersion: 4,
          clientId: c.clientId,
          clean: true,
          keepalive: 30,
          username: c.username,
          password: Buffer.from(c.password),
        }),
      ),
    );
  });
}
