// What Linux says about a process we started but do not run code in (influxd, mosquitto): its peak and
// current resident memory (/proc/<pid>/status, proc(5)) and its CPU time (/proc/<pid>/stat fields 14–15).
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

let ticksPerSecond: number | undefined;

function clockTicks(): number {
  if (ticksPerSecond === undefined) {
    try {
      ticksPerSecond = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      ticksPerSecond = 100; // USER_HZ on every Linux architecture Node supports
    }
  }
  return ticksPerSecond;
}

export interface ProcSample {
  /** Peak resident set (VmHWM), KiB. */
  readonly hwmKb: number;
  readonly rssKb: number;
  /** User + system CPU time, ms. */
  readonly cpuMs: number;
}

/** undefined once the process is gone. */
export function sampleProc(pid: number): ProcSample | undefined {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (key: string) => Number(new RegExp(`^${key}:\\s+(\\d+)`, 'm').exec(status)?.[1] ?? NaN);
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may hold spaces and parentheses: count fields after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(fields[11]) + Number(fields[12]);
    return { hwmKb: kb('VmHWM'), rssKb: kb('VmRSS'), cpuMs: (ticks * 1000) / clockTicks() };
  } catch {
    return undefined;
  }
}

/** The pid of the process whose command line contains `needle` (e.g. its own config file), if any. */
export function findPid(needle: string): number | undefined {
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/cmdline`, 'utf8').includes(needle)) return Number(entry);
    } catch {
      // gone meanwhile
    }
  }
  return undefined;
}

/** Samples a process every `everyMs`, keeping the largest resident set seen. */
export function watchProc(pid: number, everyMs = 250) {
  const first = sampleProc(pid);
  let maxRssKb = first?.rssKb ?? 0;
  const timer = setInterval(() => {
    const s = sampleProc(pid);
    if (s) maxRssKb = Math.max(maxRssKb, s.rssKb);
  }, everyMs);
  timer.unref();
  return {
    /** The largest resident set and the CPU time used since the watch began. */
    stop(): { maxRssKb: number; cpuMs: number } {
      clearInterval(timer);
      const last = sampleProc(pid);
      if (last) maxRssKb = Math.max(maxRssKb, last.rssKb);
      return { maxRssKb, cpuMs: (last?.cpuMs ?? 0) - (first?.cpuMs ?? 0) };
    },
  };
}
