// Ingest when its own storage fails: a message that must be dead-lettered while the dead-letter store
// cannot write (a full disk: SQLITE_FULL, here a store that is closed) is refused — not acknowledged, the
// device sends it again — and counted; nothing is thrown into the MQTT loop, and good readings go on.
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { deviceRecord } from '../test/kits/devices.ts';
import { openDeadLetters, type DeadLetterStore } from './dead-letters.ts';
import type { IngestErrorCode } from './errors.ts';
import { createIngest, type IngestDone, type Message } from './pipeline.ts';
import { createSpool, type Spool } from './spool.ts';

const NOW = Date.UTC(2026, 0, 1);
const DEVICE = deviceRecord('aq-faults', 'Air station under test', { kind: 'air_quality', meta: {} });

let dir: string;
let spool: Spool;
let deadLetters: DeadLetterStore;

beforeEach(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'ingest-faults-'));
  spool = await createSpool({ dir: path.join(dir, 'spool'), maxBytes: 1 << 20, segmentBytes: 1 << 16 });
  deadLetters = openDeadLetters({ file: path.join(dir, 'dead-letters.db') });
});
afterEach(async () => {
  await spool.close();
  await fs.rm(dir, { recursive: true, force: true });
});

const message = (payload: string): Message => ({
  topic: `city/air_quality/${DEVICE.id}/telemetry`,
  source: DEVICE.id,
  payload: Buffer.from(payload),
  qos: 1,
});

function accept(ingest: ReturnType<typeof createIngest>, payload: string) {
  return new Promise<Parameters<IngestDone>>((resolve) =>
    ingest.acceptDevice(DEVICE, message(payload), (err, rejected) => resolve([err, rejected])),
  );
}

describe('ingest with a dead-letter store that cannot write', () => {
  it('refuses the bad message (no PUBACK), counts it, throws nothing, and keeps storing good ones', async () => {
    const rejected: IngestErrorCode[] = [];
    const ingest = createIngest({
      getDevice: () => DEVICE,
      spool,
      deadLetters,
      metrics: {
        readingsAccepted: () => undefined,
        messageRejected: (_kind, code) => rejected.push(code),
        deadLetterThrottled: () => undefined,
      },
      clock: () => NOW,
      log: pino({ level: 'silent' }),
      maxPayloadBytes: 4096,
    });
    deadLetters.close(); // every write to it now throws, as SQLITE_FULL would

    const [err, refused] = await accept(ingest, '{"pm25": "not a number"}');
    expect(refused).toBe(true);
    expect(err?.code).toBe('INGEST_ERR_DEAD_LETTER_IO');
    expect(rejected).toEqual(['INGEST_ERR_SCHEMA', 'INGEST_ERR_DEAD_LETTER_IO']);

    const [okErr, okRefused] = await accept(ingest, '{"pm25": 12.5}');
    expect([okErr, okRefused]).toEqual([undefined, false]);
    expect(spool.stats().pendingLines).toBe(1);
  });
});
