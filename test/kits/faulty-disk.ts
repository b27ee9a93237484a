// A disk that fails on cue, for tests of what sits on the spool: node's own file system behind the
// spool's `fs` seam, with chosen calls failing (ENOSPC, EIO, a short write, a short read), every call
// counted, and the descriptors and file handles it opened tracked so a test can check none was left open.
import type fsp from 'node:fs/promises';
import { nodeFs, type SpoolFs } from '../../ingest/index.ts';

/** An error as node's fs reports one. */
export const errno = (code: string, syscall: string): NodeJS.ErrnoException =>
  Object.assign(new Error(`${code}: injected fault, ${syscall}`), { code, syscall });

export type Call = keyof SpoolFs | 'handle.read' | 'handle.writeFile';
/** 'short': a write that writes (for real) half of what it was asked to, and says so. */
export type Fault = NodeJS.ErrnoException | 'short';
interface Rule {
  readonly call: Call;
  readonly file: string;
  readonly fault: Fault;
  skip: number;
  times: number;
}

/**
 * Node's own file system, with faults on cue: `fail` makes chosen calls fail; every call is counted, and
 * descriptors and file handles are tracked so that a test can check nothing was left open.
 */
export function faultyDisk() {
  const rules: Rule[] = [];
  const calls: Partial<Record<Call, number>> = {};
  const fdPaths = new Map<number, string>();
  const handles: { file: string; handle: fsp.FileHandle }[] = [];
  let shortRead: number | undefined;

  function due(call: Call, file = ''): Fault | undefined {
    calls[call] = (calls[call] ?? 0) + 1;
    const rule = rules.find((r) => r.call === call && file.includes(r.file) && r.times > 0);
    if (!rule) return undefined;
    if (rule.skip > 0) {
      rule.skip--;
      return undefined;
    }
    rule.times--;
    return rule.fault;
  }
  const raise = (fault: Fault | undefined) => {
    if (fault instanceof Error) throw fault;
  };
  const rejectOr = <T>(fault: Fault | undefined, go: () => Promise<T>): Promise<T> =>
    fault instanceof Error ? Promise.reject(fault) : go();

  const fs: SpoolFs = {
    write: (fd, buffer, offset, length, position, callback) => {
      const fault = due('write', fdPaths.get(fd));
      if (fault === 'short') nodeFs.write(fd, buffer, offset, length >> 1, position, callback);
      else if (fault) process.nextTick(callback, fault, 0);
      else nodeFs.write(fd, buffer, offset, length, position, callback);
    },
    fdatasync: (fd, callback) => {
      const fault = due('fdatasync', fdPaths.get(fd));
      if (fault instanceof Error) process.nextTick(callback, fault);
      else nodeFs.fdatasync(fd, callback);
    },
    ftruncateSync: (fd, len) => {
      raise(due('ftruncateSync', fdPaths.get(fd)));
      nodeFs.ftruncateSync(fd, len);
    },
    openSync: (file, flags) => {
      raise(due('openSync', String(file)));
      const fd = nodeFs.openSync(file, flags);
      fdPaths.set(fd, String(file));
      return fd;
    },
    closeSync: (fd) => {
      const fault = due('closeSync', fdPaths.get(fd));
      // close(2) releases the descriptor even when it reports an error.
      fdPaths.delete(fd);
      nodeFs.closeSync(fd);
      raise(fault);
    },
    fsyncSync: (fd) => {
      raise(due('fsyncSync', fdPaths.get(fd)));
      nodeFs.fsyncSync(fd);
    },
    mkdir: (file, options) => rejectOr(due('mkdir', String(file)), () => nodeFs.mkdir(file, options)),
    readdir: (file) => rejectOr(due('readdir', String(file)), () => nodeFs.readdir(file)),
    readFile: (file) => rejectOr(due('readFile', String(file)), () => nodeFs.readFile(file)),
    truncate: (file, len) => rejectOr(due('truncate', String(file)), () => nodeFs.truncate(file, len)),
    rename: (from, to) => rejectOr(due('rename', String(to)), () => nodeFs.rename(from, to)),
    rm: (file, options) => rejectOr(due('rm', String(file)), () => nodeFs.rm(file, options)),
    open: async (file, flags) => {
      raise(due('open', String(file)));
      const handle = await nodeFs.open(file, flags);
      handles.push({ file: String(file), handle });
      const read = handle.read.bind(handle);
      const writeFile = handle.writeFile.bind(handle);
      return Object.assign(handle, {
        read: async (buffer: Buffer, offset: number, length: number, position: number) => {
          raise(due('handle.read', String(file)));
          if (shortRead === undefined) return read(buffer, offset, length, position);
          const result = await read(buffer, offset, Math.min(shortRead, length), position);
          shortRead = undefined;
          // What a read did not fill holds whatever the buffer held before: here, plausible stale lines.
          buffer.fill('stale v=0\n', offset + result.bytesRead, offset + length);
          return result;
        },
        writeFile: (data: string) => rejectOr(due('handle.writeFile', String(file)), () => writeFile(data)),
      });
    },
  };

  return {
    fs,
    calls,
    /** Fails `call` (on a file whose path contains `file`) after `skip` good calls, `times` times. */
    fail(call: Call, fault: Fault, { skip = 0, times = 1, file = '' } = {}): void {
      rules.push({ call, fault, skip, times, file });
    },
    heal(): void {
      rules.length = 0;
    },
    /** The next read of a spool file reads and reports only `bytes` bytes. */
    shortRead(bytes: number): void {
      shortRead = bytes;
    },
    /** Files still open: none, once the spool is closed or failed to start. */
    leaks(): string[] {
      return [...fdPaths.values(), ...handles.filter((h) => h.handle.fd !== -1).map((h) => h.file)];
    },
  };
}
