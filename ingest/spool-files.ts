// The spool's files: the file-system calls it makes (a seam, so tests can make the disk fail on cue), the
// segment files' names, and what it does at start and on checkpoints — read and write the checkpoint,
// find the segments still needed, cut a torn last line, count the lines not yet confirmed.
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';

/** A place in the spool: a segment and a byte offset in it. */
export interface SpoolPosition {
  readonly segment: number;
  readonly offset: number;
}

export const SEGMENT_SUFFIX = '.seg';
export const segmentName = (n: number) => `${String(n).padStart(12, '0')}${SEGMENT_SUFFIX}`;
export const NEWLINE = 0x0a;

/**
 * Exactly the calls the spool makes, with node's types. A seam for tests: the failure branches (a short
 * write, a failed sync or cut) are what keeps a reading that is not on disk from being acknowledged, and
 * a real disk will not fail on cue. Called through this object, the hot path costs what it did before.
 */
export interface SpoolFs {
  // The append path (node:fs): one write and one fdatasync per group.
  readonly write: (
    fd: number,
    buffer: Buffer,
    offset: number,
    length: number,
    position: null,
    callback: (err: NodeJS.ErrnoException | null, written: number) => void,
  ) => void;
  readonly fdatasync: (fd: number, callback: fs.NoParamCallback) => void;
  readonly ftruncateSync: (fd: number, len: number) => void;
  readonly openSync: (path: fs.PathLike, flags: fs.OpenMode) => number;
  readonly closeSync: (fd: number) => void;
  readonly fsyncSync: (fd: number) => void;
  // Start-up, reading and checkpoints (node:fs/promises).
  readonly mkdir: (
    path: fs.PathLike,
    options: fs.MakeDirectoryOptions & { recursive: true },
  ) => Promise<string | undefined>;
  readonly readdir: (path: fs.PathLike) => Promise<string[]>;
  readonly readFile: (path: fs.PathLike) => Promise<Buffer>;
  readonly truncate: (path: fs.PathLike, len: number) => Promise<void>;
  readonly open: (path: fs.PathLike, flags: fs.OpenMode) => Promise<fsp.FileHandle>;
  readonly rename: (oldPath: fs.PathLike, newPath: fs.PathLike) => Promise<void>;
  readonly rm: (path: fs.PathLike, options: fs.RmOptions) => Promise<void>;
}

/** Node's own: the default, and what a test's failing file system passes the calls it lets through to. */
export const nodeFs: SpoolFs = {
  write: fs.write,
  fdatasync: fs.fdatasync,
  ftruncateSync: fs.ftruncateSync,
  openSync: fs.openSync,
  closeSync: fs.closeSync,
  fsyncSync: fs.fsyncSync,
  mkdir: fsp.mkdir,
  readdir: fsp.readdir,
  readFile: fsp.readFile,
  truncate: fsp.truncate,
  open: fsp.open,
  rename: fsp.rename,
  rm: fsp.rm,
};

export async function readCheckpoint(sfs: SpoolFs, file: string): Promise<SpoolPosition> {
  try {
    const parsed: unknown = JSON.parse((await sfs.readFile(file)).toString('utf8'));
    if (isPosition(parsed)) return parsed;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT' && !(err instanceof SyntaxError)) throw err;
  }
  // No checkpoint, or a torn one: start from the oldest segment (replay is idempotent).
  return { segment: 0, offset: 0 };
}

function isPosition(v: unknown): v is SpoolPosition {
  if (typeof v !== 'object' || v === null) return false;
  const { segment, offset } = v as Record<string, unknown>;
  return Number.isSafeInteger(segment) && Number.isSafeInteger(offset);
}

export async function writeCheckpoint(sfs: SpoolFs, file: string, pos: SpoolPosition): Promise<void> {
  const tmp = `${file}.tmp`;
  const handle = await sfs.open(tmp, 'w');
  try {
    await handle.writeFile(JSON.stringify(pos));
  } finally {
    await handle.close();
  }
  await sfs.rename(tmp, file);
}

export interface Segment {
  readonly id: number;
  size: number;
}

/** Lists segments still needed, and cuts a torn last line (a crash mid-write: never acknowledged). */
export async function recoverSegments(
  sfs: SpoolFs,
  dir: string,
  confirmed: SpoolPosition,
): Promise<Segment[]> {
  const names = (await sfs.readdir(dir)).filter((n) => n.endsWith(SEGMENT_SUFFIX)).sort();
  const segments: Segment[] = [];
  for (const name of names) {
    const id = Number.parseInt(name, 10);
    const file = path.join(dir, name);
    if (id < confirmed.segment) {
      await sfs.rm(file, { force: true });
      continue;
    }
    const size = await completeLength(sfs, file);
    segments.push({ id, size });
  }
  return segments;
}

async function completeLength(sfs: SpoolFs, file: string): Promise<number> {
  const buf = await sfs.readFile(file);
  const complete = buf.lastIndexOf(NEWLINE) + 1;
  if (complete < buf.length) await sfs.truncate(file, complete);
  return complete;
}

export async function countLinesAfter(
  sfs: SpoolFs,
  dir: string,
  segments: Segment[],
  from: SpoolPosition,
): Promise<number> {
  let lines = 0;
  for (const s of segments) {
    if (s.id < from.segment) continue;
    const buf = await sfs.readFile(path.join(dir, segmentName(s.id)));
    lines += countNewlines(s.id === from.segment ? buf.subarray(from.offset) : buf);
  }
  return lines;
}

export function countNewlines(buf: Buffer): number {
  let n = 0;
  for (let i = buf.indexOf(NEWLINE); i !== -1; i = buf.indexOf(NEWLINE, i + 1)) n++;
  return n;
}

/** For descriptors given up after their data is synced, or unused: a failed close loses nothing. */
export function closeQuietly(sfs: SpoolFs, fd: number): void {
  try {
    sfs.closeSync(fd);
  } catch {
    // close(2) has released the descriptor all the same.
  }
}

export function fsyncDir(sfs: SpoolFs, dir: string): void {
  // A new segment's directory entry must be durable too, or a crash could lose the whole file.
  const dfd = sfs.openSync(dir, 'r');
  try {
    sfs.fsyncSync(dfd);
  } finally {
    sfs.closeSync(dfd);
  }
}
