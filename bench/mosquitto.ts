// Debian's Mosquitto for the baseline, on a free loopback port with a configuration of its own: anonymous
// clients allowed, nothing persisted, and the per-client limits lifted so a slow subscriber makes it
// queue, never drop (mosquitto.conf(5): max_inflight_messages and max_queued_messages, 0 = no maximum).
import { spawn } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { freePort } from '../influx/index.ts';
import { sampleProc, type ProcSample } from './proc.ts';

export const MOSQUITTO = '/usr/sbin/mosquitto';

export interface Mosquitto {
  readonly port: number;
  readonly pid: number;
  /** Peak memory and CPU time so far. */
  sample(): ProcSample | undefined;
  stop(): Promise<void>;
}

export async function startMosquitto(dir: string): Promise<Mosquitto> {
  const port = await freePort();
  const conf = path.join(dir, 'mosquitto.conf');
  await writeFile(
    conf,
    [
      `listener ${port} 127.0.0.1`,
      'allow_anonymous true',
      'persistence false',
      'max_inflight_messages 0',
      'max_queued_messages 0',
      'log_dest stderr',
      'log_type error',
      'log_type warning',
      '',
    ].join('\n'),
  );
  const child = spawn(MOSQUITTO, ['-c', conf], { stdio: ['ignore', 'inherit', 'inherit'] });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.once('error', () => undefined); // 'exit' follows; waitForPort reports it
  if (child.pid === undefined) throw new Error(`could not run ${MOSQUITTO}`);
  const pid = child.pid;
  // If the run fails or is interrupted, do not leave a broker behind.
  const kill = () => child.kill('SIGKILL');
  process.once('exit', kill);
  void exited.then(() => process.off('exit', kill));
  await waitForPort(port, exited);
  return {
    port,
    pid,
    sample: () => sampleProc(pid),
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}

async function waitForPort(port: number, exited: Promise<void>): Promise<void> {
  let gone = false;
  void exited.then(() => (gone = true));
  for (let i = 0; i < 100 && !gone; i++) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = net.connect({ host: '127.0.0.1', port }, () => {
        s.destroy();
        resolve(true);
      });
      s.once('error', () => resolve(false));
    });
    if (ok) return;
    await sleep(50);
  }
  throw new Error(`${MOSQUITTO} did not listen on 127.0.0.1:${port}`);
}
