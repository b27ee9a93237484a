// The PROXY protocol (HAProxy's, versions 1 and 2: https://www.haproxy.org/download/2.6/doc/proxy-protocol.txt)
// in front of the MQTT listener, for a broker behind a load balancer: the balancer opens each connection
// with a header naming the device's address, which the broker then uses for its failed-CONNECT limits and
// its refusals, as it would the socket's. With the option on, every connection must start with a header:
// one without is closed, since only the balancer should reach the port.
import type { Socket } from 'node:net';

/** v1's longest header is 107 bytes; v2's 16 plus its address block (at most 216 for unix sockets here). */
const MAX_HEADER_BYTES = 16 + 216;
const V1_PREFIX = Buffer.from('PROXY ', 'latin1');
const V2_SIGNATURE = Buffer.from([0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a]);

export type ProxyHeader =
  /** The client's address as the balancer saw it. */
  | { readonly kind: 'proxied'; readonly address: string; readonly port: number; readonly length: number }
  /** v2 LOCAL (the balancer's own health check) or v1 UNKNOWN: the socket's own address stands. */
  | { readonly kind: 'local'; readonly length: number };

/** The header at the start of `data`; `incomplete` when more bytes are needed; throws on a bad header. */
export function parseProxyHeader(data: Buffer): ProxyHeader | 'incomplete' {
  if (data.length >= 1 && data[0] === V1_PREFIX[0]) return parseV1(data);
  if (data.length >= 1 && data[0] === V2_SIGNATURE[0]) return parseV2(data);
  throw new Error('no PROXY protocol header');
}

function parseV1(data: Buffer): ProxyHeader | 'incomplete' {
  const prefix = data.subarray(0, V1_PREFIX.length);
  if (!prefix.equals(V1_PREFIX.subarray(0, prefix.length))) throw new Error('no PROXY protocol header');
  const end = data.indexOf('\r\n', 0, 'latin1');
  if (end < 0) {
    if (data.length > 107) throw new Error('PROXY v1 header longer than 107 bytes');
    return 'incomplete';
  }
  const parts = data.subarray(0, end).toString('latin1').split(' ');
  const length = end + 2;
  if (parts[1] === 'UNKNOWN') return { kind: 'local', length };
  if ((parts[1] !== 'TCP4' && parts[1] !== 'TCP6') || parts.length !== 6)
    throw new Error(`bad PROXY v1 header: ${JSON.stringify(parts.join(' ').slice(0, 80))}`);
  const port = Number(parts[4]);
  if (!Number.isInteger(port) || port < 0 || port > 65_535) throw new Error('bad PROXY v1 source port');
  return { kind: 'proxied', address: parts[2]!, port, length };
}

function parseV2(data: Buffer): ProxyHeader | 'incomplete' {
  const seen = data.subarray(0, V2_SIGNATURE.length);
  if (!seen.equals(V2_SIGNATURE.subarray(0, seen.length))) throw new Error('no PROXY protocol header');
  if (data.length < 16) return 'incomplete';
  const versionCommand = data[12]!;
  if (versionCommand >> 4 !== 2) throw new Error('PROXY v2 header of an unknown version');
  const blockLength = data.readUInt16BE(14);
  const length = 16 + blockLength;
  if (length > MAX_HEADER_BYTES) throw new Error('PROXY v2 header too long');
  if (data.length < length) return 'incomplete';
  const command = versionCommand & 0x0f;
  if (command === 0x0) return { kind: 'local', length }; // LOCAL: the balancer's own connection
  if (command !== 0x1) throw new Error('PROXY v2 header with an unknown command');
  const family = data[13]! >> 4;
  const block = data.subarray(16, length);
  if (family === 0x1 && block.length >= 12) {
    const address = [...block.subarray(0, 4)].join('.');
    return { kind: 'proxied', address, port: block.readUInt16BE(8), length };
  }
  if (family === 0x2 && block.length >= 36) {
    const groups: string[] = [];
    for (let i = 0; i < 16; i += 2) groups.push(block.readUInt16BE(i).toString(16));
    return { kind: 'proxied', address: groups.join(':'), port: block.readUInt16BE(32), length };
  }
  return { kind: 'local', length }; // AF_UNSPEC or a unix socket: no IP address to use
}

/** The device's address as the balancer gave it, per connection (the socket Aedes gets). */
const proxied = new WeakMap<object, string>();

export function proxiedAddress(conn: object): string | undefined {
  return proxied.get(conn);
}

/**
 * Reads the header off a new socket, then hands the socket (with what followed the header put back) to
 * `next`. A connection without a valid header, or silent for `timeoutMs`, is destroyed and `refused` told.
 */
export function readProxyHeader(
  socket: Socket,
  next: (socket: Socket) => void,
  refused: (why: string, from: string | undefined) => void,
  timeoutMs = 5000,
): void {
  let buffered = Buffer.alloc(0);
  const give = (why: string) => {
    cleanup();
    refused(why, socket.remoteAddress);
    socket.destroy();
  };
  const timer = setTimeout(() => give('no PROXY protocol header in time'), timeoutMs);
  const onData = (chunk: Buffer) => {
    buffered = Buffer.concat([buffered, chunk]);
    let header: ProxyHeader | 'incomplete';
    try {
      header = parseProxyHeader(buffered);
    } catch (err) {
      return give(err instanceof Error ? err.message : String(err));
    }
    if (header === 'incomplete') return;
    cleanup();
    // Held until the broker reads it: nothing that followed the header may flow past unread.
    socket.pause();
    if (header.kind === 'proxied') proxied.set(socket, header.address);
    const rest = buffered.subarray(header.length);
    if (rest.length > 0) socket.unshift(rest);
    next(socket);
  };
  const onEnd = () => cleanup();
  function cleanup() {
    clearTimeout(timer);
    socket.off('data', onData);
    socket.off('close', onEnd);
  }
  socket.on('data', onData);
  socket.on('close', onEnd);
}
