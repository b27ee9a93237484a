// Aedes enforces no maximum packet size (docs/architecture.md, decision 1): mqtt-packet will buffer a
// PUBLISH of up to 256 MB announced by a four-byte remaining length. This scanner follows the MQTT fixed
// headers in the byte stream (MQTT 3.1.1 §2.2: one type byte, then a variable-length remaining length of
// one to four bytes) and reports a packet too large as soon as its header arrives, before its body is
// buffered. It keeps three numbers per connection and touches only header bytes.

const enum State {
  Type,
  Length,
  Body,
}

/** Returns a function fed every chunk read from the connection; it returns false once a packet is too big. */
export function createPacketLimiter(maxPacketBytes: number): (chunk: Buffer) => boolean {
  let state = State.Type;
  let remaining = 0;
  let length = 0;
  let multiplier = 1;
  let lengthBytes = 0;
  let failed = false;

  return function check(chunk: Buffer): boolean {
    if (failed) return false;
    let i = 0;
    const n = chunk.length;
    while (i < n) {
      if (state === State.Body) {
        const skip = Math.min(remaining, n - i);
        i += skip;
        remaining -= skip;
        if (remaining === 0) state = State.Type;
      } else if (state === State.Type) {
        i++;
        state = State.Length;
        length = 0;
        multiplier = 1;
        lengthBytes = 0;
      } else {
        const byte = chunk[i++]!;
        length += (byte & 0x7f) * multiplier;
        multiplier *= 128;
        lengthBytes++;
        if (byte & 0x80) {
          // MQTT-2.2.3: at most four bytes of remaining length; a fifth is a malformed packet.
          if (lengthBytes === 4) return ((failed = true), false);
          continue;
        }
        if (1 + lengthBytes + length > maxPacketBytes) return ((failed = true), false);
        remaining = length;
        state = remaining > 0 ? State.Body : State.Type;
      }
    }
    return true;
  };
}
