// A full disk under the log must not stop the platform: the real logger writing to /dev/full (every write
// fails with ENOSPC, as on a full file system) in a process of its own, and the destination's account of
// what it dropped once writing works again.
import { spawnSync } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { createLogDestination, createLogger } from './log.ts';

describe('logger', () => {
  it('keeps the process running and exiting normally when every log write fails with ENOSPC', () => {
    const full = openSync('/dev/full', 'w');
    try {
      const logModule = pathToFileURL(fileURLToPath(new URL('./log.ts', import.meta.url))).href;
      const script = [
        `const { createLogger } = await import(${JSON.stringify(logModule)});`,
        "const log = createLogger('info');",
        "for (let i = 0; i < 1000; i++) log.warn({ i }, 'a line the disk has no room for');",
        "setTimeout(() => { log.info('later'); process.stderr.write('still running'); }, 50);",
      ].join('\n');
      const run = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
        stdio: ['ignore', full, 'pipe'],
        timeout: 30_000,
      });
      expect(run.stderr.toString()).toBe('still running');
      expect(run.status).toBe(0);
    } finally {
      closeSync(full);
    }
  });

  it('drops what it cannot write, then says how many lines were lost and why', () => {
    const written: string[] = [];
    let full = true;
    const destination = createLogDestination(
      (bytes) => {
        if (full) throw Object.assign(new Error('no space left on device'), { code: 'ENOSPC' });
        written.push(bytes.toString());
        return bytes.length;
      },
      () => Date.parse('2026-11-28T02:00:00Z'),
    );
    const log = createLogger('info', { format: 'json', destination });
    log.info('one');
    log.info('two');
    full = false;
    log.info('three');
    const lines = written.map((l) => JSON.parse(l) as { msg: string; dropped?: number });
    expect(lines.map((l) => l.msg)).toEqual([
      '2 log lines dropped since 2026-11-28T02:00:00.000Z: ENOSPC',
      'three',
    ]);
    expect(lines[0]?.dropped).toBe(2);
  });

  it('waits for a slow pipe (EAGAIN) instead of dropping, and finishes a line written in parts', () => {
    const chunks: string[] = [];
    let calls = 0;
    const destination = createLogDestination((bytes) => {
      calls++;
      if (calls === 1) throw Object.assign(new Error('try again'), { code: 'EAGAIN' });
      const n = Math.min(bytes.length, 10);
      chunks.push(bytes.subarray(0, n).toString());
      return n;
    });
    createLogger('info', { format: 'json', destination }).info('a line longer than ten bytes');
    expect(JSON.parse(chunks.join('')) as { msg: string }).toMatchObject({
      msg: 'a line longer than ten bytes',
    });
  });

  it('after giving up on a stuck pipe, drops lines at once until one goes through, and ends a cut line', () => {
    const written: string[] = [];
    let calls = 0;
    let stuck = true;
    const destination = createLogDestination((bytes) => {
      calls++;
      if (!stuck) {
        written.push(bytes.toString());
        return bytes.length;
      }
      if (calls === 1) {
        written.push(bytes.subarray(0, 5).toString()); // half a line, then the pipe is full
        return 5;
      }
      throw Object.assign(new Error('try again'), { code: 'EAGAIN' });
    });
    const log = createLogger('info', { format: 'json', destination });
    log.info('first, cut short');
    const callsAfterFirst = calls;
    log.info('second, dropped without waiting');
    expect(calls - callsAfterFirst).toBe(1);
    stuck = false;
    log.info('third');
    const text = written.join('');
    const lines = text.split('\n').filter((l) => l !== '');
    expect(lines[0]).toBe(text.slice(0, 5)); // the cut line, ended
    expect(lines.slice(1).map((l) => (JSON.parse(l) as { msg: string }).msg)).toEqual([
      expect.stringMatching(/^2 log lines dropped since .*: EAGAIN$/),
      'third',
    ]);
  });

  it('writes pretty lines when asked, with the component before the message', () => {
    const written: string[] = [];
    const destination = createLogDestination((bytes) => {
      written.push(bytes.toString());
      return bytes.length;
    });
    createLogger('info', { format: 'pretty', destination })
      .child({ component: 'broker' })
      .warn({ port: 1883 }, 'port taken');
    const text = written.join('');
    const plain = text
      .split('\u001b')
      .map((part, i) => (i === 0 ? part : part.replace(/^\[[0-9;]*m/, '')))
      .join('');
    expect(plain).toMatch(/^\[\d\d:\d\d:\d\d\.\d{3}\] WARN: broker: port taken\n\s+port: 1883\n$/);
  });
});
