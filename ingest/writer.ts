// Drains the spool into InfluxDB: one batch in flight, as large as what has gathered meanwhile (so a quiet
// system writes each reading at once and a busy one writes big batches), retried with backoff until
// InfluxDB answers, and confirmed in the spool only once InfluxDB has said yes.
//
// The loop never ends on an error: InfluxDB away, a spool read that fails, a checkpoint the full disk
// refuses — each is logged, counted and retried with backoff, and `status()` says the writer is stuck
// (for /health) until a batch goes through again. Only close() ends it.
import type { Logger } from 'pino';
import { errorText } from '../errors/index.ts';
import type { Spool, SpoolBatch, SpoolPosition } from './spool.ts';

export interface WriterOptions {
  readonly spool: Spool;
  /** Sends line protocol to InfluxDB; rejects with an error carrying `retryable` (see influx/errors.ts). */
  readonly write: (body: Buffer) => Promise<void>;
  readonly log: Logger;
  readonly maxBatchBytes: number;
  readonly retry: { readonly minMs: number; readonly maxMs: number };
  /** After a quiet spell, how long to let readings gather before sending: one request for many readings
   * instead of one each. Under load there is no wait: the next batch gathers while one is in flight. */
  readonly lingerMs?: number;
  /** Called after InfluxDB confirms a batch. */
  readonly onStored?: (batch: SpoolBatch, writeMs: number) => void;
  /** Called when InfluxDB refuses a batch for good (not retryable): the batch is set aside, not retried. */
  readonly onRefused?: (batch: SpoolBatch, err: unknown) => void;
  readonly onWriteFailed?: (err: unknown) => void;
  /** Called when reading the spool or confirming in it fails (the loop retries it with backoff). */
  readonly onSpoolFailed?: (stage: WriterStage, err: unknown) => void;
}

/** Where the writer is stuck: sending to InfluxDB, reading the spool, or confirming in it (checkpoint). */
export type WriterStage = 'influxdb' | 'read' | 'confirm';

export interface WriterStatus {
  /** False while the writer is stuck: the latest attempt failed and none has succeeded since. */
  readonly ok: boolean;
  readonly stuck?: { readonly stage: WriterStage; readonly since: number; readonly error: string };
}

export interface Writer {
  /** Writes out what the spool holds (up to `timeoutMs`), then stops; what is left stays in the spool. */
  close(timeoutMs?: number): Promise<void>;
  /** Resolves once everything appended so far is confirmed (tests and graceful stop). */
  drained(): Promise<void>;
  status(): WriterStatus;
}

export function createWriter(options: WriterOptions): Writer {
  const { spool, write, log, maxBatchBytes, retry } = options;
  let stopping = false;
  let backoffTimer: NodeJS.Timeout | undefined;
  let wakeBackoff: (() => void) | undefined;
  const drainWaiters = new Set<() => void>();
  let signalStop!: () => void;
  const stopped = new Promise<void>((resolve) => (signalStop = resolve));

  let stuck: WriterStatus['stuck'];
  // run() handles its own errors; this only keeps a bug from becoming an unhandled rejection.
  const loop = run().catch((err: unknown) => log.fatal({ err }, 'spool writer ended unexpectedly'));

  async function run(): Promise<void> {
    let pos: SpoolPosition = spool.confirmed;
    // A failed checkpoint does not hold up delivery (the confirmation stands in memory; a stale checkpoint
    // only means more is sent again after a restart): the next confirm tries it again, and so does the
    // writer once it has nothing more to send.
    let unconfirmed = false;
    let backoff = retry.minMs;
    while (!stopping) {
      let stage: WriterStage = 'read';
      try {
        const batch = await spool.read(pos, maxBatchBytes);
        backoff = retry.minMs;
        if (!batch) {
          if (unconfirmed) {
            stage = 'confirm';
            await spool.confirm(pos, 0);
            unconfirmed = false;
          }
          stuck = undefined;
          notifyDrained();
          await Promise.race([spool.waitForData(pos), stopped]);
          if (options.lingerMs) await Promise.race([delay(options.lingerMs), stopped]);
          continue;
        }
        stage = 'influxdb';
        if (!(await deliver(batch))) return;
        // InfluxDB has the batch: the confirmation stands even when its checkpoint then fails.
        pos = batch.end;
        stage = 'confirm';
        unconfirmed = true;
        await spool.confirm(batch.end, batch.lines);
        unconfirmed = false;
        stuck = undefined;
      } catch (err) {
        failed(stage, err, backoff);
        options.onSpoolFailed?.(stage, err);
        await sleep(backoff);
        backoff = Math.min(backoff * 2, retry.maxMs);
      }
    }
  }

  function failed(stage: WriterStage, err: unknown, retryInMs: number): void {
    stuck = { stage, since: stuck?.stage === stage ? stuck.since : Date.now(), error: errorText(err) };
    const what = stage === 'influxdb' ? 'InfluxDB write failed' : `spool ${stage} failed`;
    log.warn({ err, stage, retryInMs }, `${what}; the readings stay in the spool and it is tried again`);
  }

  /** True once the batch is stored (or set aside as refused); false if stopping before that. */
  async function deliver(batch: SpoolBatch): Promise<boolean> {
    let delay = retry.minMs;
    for (;;) {
      const started = performance.now();
      try {
        await write(batch.body);
        options.onStored?.(batch, performance.now() - started);
        return true;
      } catch (err) {
        if (!isRetryable(err)) {
          log.error({ err, lines: batch.lines }, 'InfluxDB refused a batch; it is kept in dead letters');
          options.onRefused?.(batch, err);
          return true;
        }
        options.onWriteFailed?.(err);
        failed('influxdb', err, delay);
        if (stopping) return false;
        await sleep(delay);
        if (stopping) return false;
        delay = Math.min(delay * 2, retry.maxMs);
      }
    }
  }

  function sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      wakeBackoff = resolve;
      backoffTimer = setTimeout(resolve, ms);
    });
  }

  function notifyDrained(): void {
    for (const w of drainWaiters) w();
    drainWaiters.clear();
  }

  function drained(): Promise<void> {
    if (stopping || spool.stats().pendingBytes === 0) return Promise.resolve();
    return new Promise((resolve) => drainWaiters.add(resolve));
  }

  async function close(timeoutMs = 10_000): Promise<void> {
    if (stopping) return loop;
    const deadline = new Promise<void>((resolve) => setTimeout(resolve, timeoutMs).unref());
    await Promise.race([drained(), deadline]);
    stopping = true;
    clearTimeout(backoffTimer);
    wakeBackoff?.();
    signalStop();
    notifyDrained();
    await loop;
  }

  return { close, drained, status: () => (stuck === undefined ? { ok: true } : { ok: false, stuck }) };
}

const delay = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Only a batch InfluxDB refused for its content (400: a line it will never take) is set aside; anything
 * else — auth, size, server, network — is retried, and the readings stay in the spool meanwhile.
 */
function isRetryable(err: unknown): boolean {
  return !(typeof err === 'object' && err !== null && 'code' in err && err.code === 'INFLUX_ERR_BAD_REQUEST');
}
