// The durable local spool: an append-only log of line-protocol text in numbered segment files.
//
// A QoS 1 PUBACK goes out only after the reading is on disk (docs/architecture.md, decision 2). Appends are
// group-committed: while one write + fdatasync is in flight, new appends gather, and the next group goes
// out as one write and one fdatasync, so the cost of a sync is shared by every reading that arrived
// meanwhile. The writer reads committed bytes back (from the page cache, in practice), sends them to
// InfluxDB and confirms what InfluxDB accepted; the confirmed position is checkpointed, and segments wholly
// before it are deleted. After a crash, everything after the checkpoint is sent again: InfluxDB keeps one
// point per series and timestamp, so a replayed point overwrites itself.
import type fsp from 'node:fs/promises';
import path from 'node:path';
import { errorText } from '../errors/index.ts';
import { IngestError } from './errors.ts';
import {
  closeQuietly,
  countLinesAfter,
  countNewlines,
  fsyncDir,
  NEWLINE,
  nodeFs,
  readCheckpoint,
  recoverSegments,
  segmentName,
  writeCheckpoint,
  type SpoolFs,
  type SpoolPosition,
} from './spool-files.ts';

export type { SpoolFs, SpoolPosition };

export interface SpoolBatch {
  readonly body: Buffer;
  readonly lines: number;
  readonly end: SpoolPosition;
}

export interface SpoolStats {
  /** Bytes appended and durable but not yet confirmed by InfluxDB. */
  readonly pendingBytes: number;
  /** Lines (readings) appended and durable but not yet confirmed. */
  readonly pendingLines: number;
  readonly segments: number;
}

export interface SpoolOptions {
  readonly dir: string;
  /** Refuse new appends past this many unconfirmed bytes (decision 2: refuse loudly, drop nothing). */
  readonly maxBytes: number;
  /** Start a new segment file past this size, so confirmed data can be deleted a file at a time. */
  readonly segmentBytes: number;
  /** The file system; node's own unless a test passes one that fails on purpose. */
  readonly fs?: SpoolFs;
}

export interface Spool {
  /** Appends whole lines (each ending in '\n'); `done` runs once they are durable, or with the failure. */
  append: (text: string, lines: number, done: (err?: IngestError) => void) => void;
  /** Committed bytes after `from`, cut at a line end, at most `maxBytes` (one segment at a time). */
  read(from: SpoolPosition, maxBytes: number): Promise<SpoolBatch | undefined>;
  /** Records that everything up to `to` is stored in InfluxDB; deletes segments wholly before it. */
  confirm(to: SpoolPosition, lines: number): Promise<void>;
  /** Where reading resumes: the last confirmed position. */
  readonly confirmed: SpoolPosition;
  /** Resolves when more committed data exists after `pos` (or the spool closes). */
  waitForData(pos: SpoolPosition): Promise<void>;
  stats(): SpoolStats;
  /** The failure of the latest group written, until a group is written again: readings are refused
   * (not acknowledged) meanwhile, and /health says so. */
  appendFailure(): { readonly since: number; readonly message: string } | undefined;
  close(): Promise<void>;
}

const CHECKPOINT_MS = 250;

interface Pending {
  text: string;
  lines: number;
  done: (err?: IngestError) => void;
}

export async function createSpool(options: SpoolOptions): Promise<Spool> {
  const { dir, maxBytes, segmentBytes, fs: sfs = nodeFs } = options;
  await sfs.mkdir(dir, { recursive: true });
  const checkpointFile = path.join(dir, 'checkpoint.json');

  let confirmed = await readCheckpoint(sfs, checkpointFile);
  const segments = await recoverSegments(sfs, dir, confirmed);
  if (segments.length === 0 || segments[0]!.id > confirmed.segment) {
    // Nothing after the checkpoint survives (or the checkpoint's segment was removed after being
    // confirmed): resume at the start of the first segment there is, or a new one.
    const first = segments[0]?.id ?? confirmed.segment + 1;
    confirmed = { segment: first, offset: 0 };
  }
  let current = segments.at(-1) ?? { id: confirmed.segment, size: 0 };
  if (segments.length === 0) segments.push(current);
  let fd = sfs.openSync(path.join(dir, segmentName(current.id)), 'a');
  let pendingLines: number;
  try {
    fsyncDir(sfs, dir);
    pendingLines = await countLinesAfter(sfs, dir, segments, confirmed);
  } catch (err) {
    // A spool that fails to start leaves nothing open: the caller may try again.
    closeQuietly(sfs, fd);
    throw err;
  }
  let closed = false;
  let queue: Pending[] = [];
  let flushing = false;
  const waiters = new Set<() => void>();

  const sizeOf = (id: number) => segments.find((s) => s.id === id)?.size ?? 0;
  const pendingBytes = () => {
    let total = 0;
    for (const s of segments) {
      if (s.id > confirmed.segment) total += s.size;
      else if (s.id === confirmed.segment) total += s.size - confirmed.offset;
    }
    return total;
  };
  let pendingBytesAtFlush = pendingBytes();
  let queuedBytes = 0;
  // Set while a failed group's bytes could not be cut off the end of the segment (see finish, below).
  let uncut = false;
  let appendFailure: { since: number; message: string } | undefined;

  function append(text: string, lines: number, done: (err?: IngestError) => void): void {
    if (closed) return done(new IngestError('INGEST_ERR_SPOOL_IO', 'spool is closed'));
    if (pendingBytesAtFlush + queuedBytes + text.length > maxBytes) {
      return done(
        new IngestError(
          'INGEST_ERR_SPOOL_FULL',
          `spool holds ${maxBytes} unconfirmed bytes; is InfluxDB up?`,
        ),
      );
    }
    queuedBytes += text.length;
    queue.push({ text, lines, done });
    if (!flushing) flush();
  }

  function flush(): void {
    const group = queue;
    queue = [];
    queuedBytes = 0;
    flushing = true;
    const { buf, lines } = encode(group);
    const segment = current;
    if (uncut) {
      // The segment is opened for appending: written now, this group would land after the failed group's
      // bytes, and the reader would take them (torn, never acknowledged) for committed data, glued to it.
      try {
        sfs.ftruncateSync(fd, segment.size);
        uncut = false;
      } catch (err) {
        return finish(err);
      }
    }
    sfs.write(fd, buf, 0, buf.length, null, (writeErr, written) => {
      if (writeErr) return finish(writeErr);
      // A short write (disk full, file size limit) is a failure: nothing of the group is acknowledged.
      if (written !== buf.length) return finish(Object.assign(new Error('short write'), { code: 'EIO' }));
      sfs.fdatasync(fd, (syncErr) => {
        if (syncErr) return finish(syncErr);
        segment.size += buf.length;
        pendingLines += lines;
        finish(null);
      });
    });

    function finish(err: unknown): void {
      const failure = err
        ? new IngestError('INGEST_ERR_SPOOL_IO', 'spool write failed', { cause: err })
        : undefined;
      if (err && segment === current) {
        // A failed write may have left part of the group in the file; cut it back so the next group
        // starts on a line boundary and the writer never sees a torn line.
        try {
          sfs.ftruncateSync(fd, segment.size);
          uncut = false;
        } catch {
          // Nothing guarantees the next write fails too: it tries the cut again first, and is refused
          // (unwritten) while the cut fails.
          uncut = true;
        }
      }
      if (err) appendFailure ??= { since: Date.now(), message: errorText(err) };
      else appendFailure = undefined;
      for (const p of group) p.done(failure);
      if (!err) {
        pendingBytesAtFlush = pendingBytes();
        for (const w of waiters) w();
        waiters.clear();
        if (current.size >= segmentBytes) rotate();
      }
      flushing = false;
      if (queue.length > 0) flush();
    }
  }

  // Runs in the callback of a group already acknowledged, where a throw would be uncaught (and leave the
  // spool flushing for ever): nothing here may throw. The next segment is made ready before the current
  // one is given up; if that fails, the current one takes the next group too and the spool tries again.
  function rotate(): void {
    const id = current.id + 1;
    let next: number | undefined;
    try {
      next = sfs.openSync(path.join(dir, segmentName(id)), 'a');
      // Not used unless its directory entry is durable: a crash could lose the file and all in it.
      fsyncDir(sfs, dir);
    } catch {
      if (next !== undefined) closeQuietly(sfs, next);
      return;
    }
    // Its data is synced already, and close(2) releases the descriptor even when it reports an error.
    closeQuietly(sfs, fd);
    fd = next;
    current = { id, size: 0 };
    segments.push(current);
  }

  // The segment the writer reads from stays open between reads: one open per segment, not per batch.
  let reader: { segment: number; handle: fsp.FileHandle } | undefined;
  async function readerFor(segment: number): Promise<fsp.FileHandle> {
    if (reader?.segment !== segment) {
      await reader?.handle.close();
      reader = { segment, handle: await sfs.open(path.join(dir, segmentName(segment)), 'r') };
    }
    return reader.handle;
  }

  async function read(from: SpoolPosition, max: number): Promise<SpoolBatch | undefined> {
    let pos = from;
    // Past the end of a finished segment: move to the next one.
    while (pos.offset >= sizeOf(pos.segment) && pos.segment < current.id) {
      pos = { segment: pos.segment + 1, offset: 0 };
    }
    const available = sizeOf(pos.segment) - pos.offset;
    if (available <= 0) return undefined;
    const length = Math.min(available, max);
    const handle = await readerFor(pos.segment);
    const buf = Buffer.allocUnsafe(length);
    const { bytesRead } = await handle.read(buf, 0, length, pos.offset);
    // Only what the read filled: past it, the buffer holds whatever memory held (all of it after a read of
    // 0 bytes, which lastIndexOf's offset of -1 would search from the end).
    const cut = buf.subarray(0, bytesRead).lastIndexOf(NEWLINE) + 1;
    if (cut === 0) {
      throw new IngestError('INGEST_ERR_SPOOL_IO', `no complete line within ${max} bytes at ${pos.offset}`);
    }
    const body = buf.subarray(0, cut);
    return { body, lines: countNewlines(body), end: { segment: pos.segment, offset: pos.offset + cut } };
  }

  // The checkpoint is written at most every CHECKPOINT_MS, and without a sync of its own: a checkpoint lost
  // in a crash only means more is sent again, and a replayed point overwrites itself in InfluxDB. Writing it
  // for every batch cost the writer as much time as the InfluxDB request (BENCHMARKS.md).
  let checkpointedAt = 0;
  let checkpointing: Promise<void> | undefined;
  async function confirm(to: SpoolPosition, lines: number): Promise<void> {
    confirmed = to;
    pendingLines -= lines;
    pendingBytesAtFlush = pendingBytes();
    const due = performance.now() - checkpointedAt >= CHECKPOINT_MS || segments[0]!.id < to.segment;
    if (due && checkpointing === undefined) {
      checkpointing = checkpoint().finally(() => (checkpointing = undefined));
      await checkpointing;
    }
  }

  async function checkpoint(): Promise<void> {
    const to = confirmed;
    await writeCheckpoint(sfs, checkpointFile, to);
    // Counted from a checkpoint written: after a failed one, the next confirm tries again at once.
    checkpointedAt = performance.now();
    while (segments.length > 1 && segments[0]!.id < to.segment) {
      const old = segments[0]!;
      if (reader?.segment === old.id) {
        await reader.handle.close();
        reader = undefined;
      }
      await sfs.rm(path.join(dir, segmentName(old.id)), { force: true });
      // Listed until the file is gone: stats count it, and the next checkpoint tries again.
      segments.shift();
    }
  }

  function hasDataAfter(pos: SpoolPosition): boolean {
    return pos.segment < current.id || pos.offset < sizeOf(pos.segment);
  }

  function waitForData(pos: SpoolPosition): Promise<void> {
    if (closed || hasDataAfter(pos)) return Promise.resolve();
    return new Promise((resolve) => waiters.add(resolve));
  }

  async function close(): Promise<void> {
    if (closed) return;
    closed = true;
    while (flushing || queue.length > 0) await new Promise((r) => setImmediate(r));
    for (const w of waiters) w();
    waiters.clear();
    try {
      await checkpointing;
      await checkpoint();
    } finally {
      // Closed even when the last checkpoint fails (the next start sends again from the one before, so
      // nothing is lost): a second close returns at once, so this is the only chance.
      sfs.closeSync(fd);
      await reader?.handle.close();
    }
  }

  return {
    append,
    read,
    confirm,
    get confirmed() {
      return confirmed;
    },
    waitForData,
    stats: () => ({ pendingBytes: pendingBytes(), pendingLines, segments: segments.length }),
    appendFailure: () => appendFailure,
    close,
  };
}

/** A group's appends encoded straight into one buffer (UTF-8 takes at most 3 bytes per UTF-16 unit):
 * twice as fast as joining the strings and encoding the result. */
function encode(group: readonly Pending[]): { buf: Buffer; lines: number } {
  let chars = 0;
  let lines = 0;
  for (const p of group) {
    chars += p.text.length;
    lines += p.lines;
  }
  const scratch = Buffer.allocUnsafe(chars * 3);
  let used = 0;
  for (const p of group) used += scratch.write(p.text, used);
  return { buf: scratch.subarray(0, used), lines };
}
