import fc from 'fast-check';
import mqttPacket from 'mqtt-packet';
import { describe, expect, it } from 'vitest';
import { createPacketLimiter } from './packet-limit.ts';

const publish = (bytes: number) =>
  mqttPacket.generate({
    cmd: 'publish',
    topic: 't',
    payload: Buffer.alloc(bytes, 0x61),
    qos: 1,
    messageId: 1,
    retain: false,
    dup: false,
  });

/** Feeds the stream in the given chunk sizes; true when every chunk passed. */
function feed(limit: number, stream: Buffer, cuts: number[]): boolean {
  const check = createPacketLimiter(limit);
  let at = 0;
  for (const cut of [...cuts, stream.length]) {
    const end = Math.min(stream.length, Math.max(at, cut));
    if (!check(stream.subarray(at, end))) return false;
    at = end;
  }
  return true;
}

describe('createPacketLimiter', () => {
  it('passes packets up to the limit and refuses the first one over it', () => {
    const ok = publish(100);
    expect(feed(ok.length, ok, [])).toBe(true);
    expect(feed(ok.length - 1, ok, [])).toBe(false);
  });

  it('refuses a packet from its header alone, before the body arrives', () => {
    const big = publish(1_000_000);
    expect(feed(64 * 1024, big.subarray(0, 5), [])).toBe(false);
  });

  it('refuses a remaining length longer than four bytes (MQTT-2.2.3)', () => {
    expect(feed(1e9, Buffer.from([0x30, 0xff, 0xff, 0xff, 0xff, 0x01]), [])).toBe(false);
  });

  it('follows packet boundaries however the stream is cut', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: 300 }), { minLength: 1, maxLength: 20 }),
        fc.array(fc.integer({ min: 0, max: 8000 }), { maxLength: 30 }),
        fc.integer({ min: 20, max: 320 }),
        (sizes, cuts, limit) => {
          const packets = sizes.map(publish);
          const stream = Buffer.concat(packets);
          const expected = packets.every((p) => p.length <= limit);
          expect(
            feed(
              limit,
              stream,
              [...cuts].sort((a, b) => a - b),
            ),
          ).toBe(expected);
        },
      ),
    );
  });
});
