// The PROXY protocol header (HAProxy's proxy-protocol.txt, versions 1 and 2): each form a balancer sends,
// a header arriving in pieces, and what is not a header.
import { describe, expect, it } from 'vitest';
import { parseProxyHeader } from './proxy-protocol.ts';

const SIGNATURE = Buffer.from([0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a]);

/** A v2 header: PROXY (0x21) or LOCAL (0x20), a family byte, the address block. */
function v2(command: number, family: number, block: Buffer): Buffer {
  const head = Buffer.alloc(4);
  head[0] = command;
  head[1] = family;
  head.writeUInt16BE(block.length, 2);
  return Buffer.concat([SIGNATURE, head, block]);
}

function ipv4Block(src: number[], dst: number[], sport: number, dport: number): Buffer {
  const b = Buffer.alloc(12);
  Buffer.from(src).copy(b, 0);
  Buffer.from(dst).copy(b, 4);
  b.writeUInt16BE(sport, 8);
  b.writeUInt16BE(dport, 10);
  return b;
}

describe('parseProxyHeader', () => {
  it('reads a v1 header over TCP4 and TCP6, and UNKNOWN as the balancer’s own', () => {
    const v1 = Buffer.from('PROXY TCP4 203.0.113.7 10.0.0.11 51234 1883\r\n\x10\x0c', 'latin1');
    expect(parseProxyHeader(v1)).toEqual({
      kind: 'proxied',
      address: '203.0.113.7',
      port: 51234,
      length: 45,
    });
    expect(parseProxyHeader(Buffer.from('PROXY TCP6 2001:db8::7 2001:db8::1 40000 1883\r\n'))).toMatchObject({
      address: '2001:db8::7',
    });
    expect(parseProxyHeader(Buffer.from('PROXY UNKNOWN\r\n'))).toEqual({ kind: 'local', length: 15 });
  });

  it('reads a v2 header over IPv4 and IPv6, and LOCAL (a health check) as the balancer’s own', () => {
    const four = v2(0x21, 0x11, ipv4Block([198, 51, 100, 20], [10, 0, 0, 11], 40001, 1883));
    expect(parseProxyHeader(Buffer.concat([four, Buffer.from([0x10])]))).toEqual({
      kind: 'proxied',
      address: '198.51.100.20',
      port: 40001,
      length: 28,
    });
    const six = Buffer.alloc(36);
    six.writeUInt16BE(0x2001, 0);
    six.writeUInt16BE(0x0db8, 2);
    six.writeUInt16BE(0x0007, 14);
    six.writeUInt16BE(40002, 32);
    expect(parseProxyHeader(v2(0x21, 0x21, six))).toMatchObject({
      address: '2001:db8:0:0:0:0:0:7',
      port: 40002,
    });
    expect(parseProxyHeader(v2(0x20, 0x00, Buffer.alloc(0)))).toEqual({ kind: 'local', length: 16 });
  });

  it('asks for more while a header is cut short, wherever the cut falls', () => {
    const whole = v2(0x21, 0x11, ipv4Block([198, 51, 100, 20], [10, 0, 0, 11], 40001, 1883));
    for (let cut = 1; cut < whole.length; cut++)
      expect(parseProxyHeader(whole.subarray(0, cut))).toBe('incomplete');
    expect(parseProxyHeader(Buffer.from('PROXY TCP4 203.0.113.7'))).toBe('incomplete');
  });

  it('refuses what is not a header: an MQTT CONNECT, a bad v1 line, an endless v1 line, a v2 of another version', () => {
    expect(() => parseProxyHeader(Buffer.from([0x10, 0x0c, 0x00, 0x04]))).toThrow('no PROXY protocol header');
    expect(() => parseProxyHeader(Buffer.from('PROXY HTTP 1 2 3 4\r\n'))).toThrow(/bad PROXY v1 header/);
    expect(() => parseProxyHeader(Buffer.from(`PROXY TCP4 ${'9'.repeat(120)}`))).toThrow(/longer than 107/);
    expect(() => parseProxyHeader(v2(0x11, 0x11, Buffer.alloc(12)))).toThrow(/unknown version/);
  });
});
