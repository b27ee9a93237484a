// A throwaway PostgreSQL for a test: Debian's server binaries, `initdb` in a temporary folder, the server on
// a free loopback port with trust authentication and without fsync: a test's data need not survive the
// machine, only the server's death (kill -9), as what is in the OS's cache does; commits stay synchronous,
// since a WAL record still in the server's memory dies with it. initdb and postgres refuse to run as root: as root they run as the `postgres` user. Each test
// file takes databases of its own from it (`database`).
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { readdirSync } from 'node:fs';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { freePort } from '../../influx/index.ts';

const run = promisify(execFile);

export interface TestPostgres {
  readonly port: number;
  /** A new empty database; its URL. */
  database(name: string): Promise<string>;
  /** SIGKILL to the server, and waits for it to be gone. */
  kill(): Promise<void>;
  /** Starts it again on the same port and data. */
  start(): Promise<void>;
  /** SIGSTOP / SIGCONT: the port stays open but nothing answers. */
  pause(): void;
  resume(): void;
  stop(): Promise<void>;
}

/** The newest installed server's binaries (Debian keeps them out of PATH). */
function binDir(): string {
  const root = '/usr/lib/postgresql';
  let versions: string[] = [];
  try {
    versions = readdirSync(root).filter((v) => /^\d+$/.test(v));
  } catch {
    // not installed
  }
  const newest = versions.sort((a, b) => Number(b) - Number(a))[0];
  if (newest === undefined)
    throw new Error(
      'PostgreSQL is not installed: run `bash scripts/install-deps.sh` (it installs postgresql)',
    );
  return path.join(root, newest, 'bin');
}

export async function startPostgres(): Promise<TestPostgres> {
  const bin = binDir();
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'city-postgres-'));
  const data = path.join(dir, 'data');
  const asRoot = process.getuid?.() === 0;
  if (asRoot) {
    const { stdout } = await run('id', ['-u', 'postgres']);
    const { stdout: gid } = await run('id', ['-g', 'postgres']);
    await fs.chown(dir, Number(stdout.trim()), Number(gid.trim()));
  }
  /** The command, as the postgres user when we are root. */
  const as = (file: string, args: string[]): [string, string[]] =>
    asRoot ? ['runuser', ['-u', 'postgres', '--', file, ...args]] : [file, args];

  await run(
    ...as(path.join(bin, 'initdb'), [
      '-D',
      data,
      '-U',
      'postgres',
      '-A',
      'trust',
      '-E',
      'UTF8',
      '--no-locale',
      '-N',
    ]),
  );
  const port = await freePort();
  let child: ChildProcess | undefined;
  let output = '';

  async function start(): Promise<void> {
    const settings = ['listen_addresses=127.0.0.1', 'fsync=off', 'full_page_writes=off'];
    const args = ['-D', data, '-p', String(port), '-k', dir, ...settings.flatMap((s) => ['-c', s])];
    const [file, argv] = as(path.join(bin, 'postgres'), args);
    // Its own process group, so that a pause stops the server's backends too, not only the postmaster.
    const proc = spawn(file, argv, { stdio: 'pipe', detached: true });
    child = proc;
    const keep = (chunk: Buffer) => (output = (output + chunk.toString()).slice(-4000));
    proc.stdout.on('data', keep);
    proc.stderr.on('data', keep);
    const deadline = Date.now() + 30_000;
    for (;;) {
      const ready = await run(path.join(bin, 'pg_isready'), [
        '-h',
        '127.0.0.1',
        '-p',
        String(port),
        '-q',
      ]).then(
        () => true,
        () => false,
      );
      if (ready) return;
      if (proc.exitCode !== null) throw new Error(`postgres exited (${proc.exitCode}): ${output}`);
      if (Date.now() > deadline) throw new Error(`postgres did not answer on ${port}: ${output}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  function signal(name: NodeJS.Signals): void {
    if (child?.pid !== undefined) process.kill(-child.pid, name);
  }

  async function kill(): Promise<void> {
    const proc = child;
    child = undefined;
    if (proc === undefined || proc.exitCode !== null) return;
    const gone = new Promise((resolve) => proc.once('exit', resolve));
    // The whole group: the server's backends with it.
    if (proc.pid !== undefined) {
      process.kill(-proc.pid, 'SIGCONT');
      process.kill(-proc.pid, 'SIGKILL');
    }
    await gone;
    // A killed server leaves its lock files, and without an init to reap it its pid may linger as a zombie,
    // which the next start would take for a running server: the whole group is gone, so they go.
    for (const file of [path.join(data, 'postmaster.pid'), path.join(dir, `.s.PGSQL.${port}.lock`)])
      await fs.rm(file, { force: true });
  }

  try {
    await start();
  } catch (err) {
    await kill();
    await fs.rm(dir, { recursive: true, force: true });
    throw err;
  }
  const url = (db: string) => `postgres://postgres@127.0.0.1:${port}/${db}`;
  return {
    port,
    async database(name) {
      const psql = path.join(bin, 'psql');
      await run(psql, [url('postgres'), '-q', '-v', 'ON_ERROR_STOP=1', '-c', `CREATE DATABASE "${name}"`]);
      return url(name);
    },
    kill,
    start,
    pause: () => signal('SIGSTOP'),
    resume: () => signal('SIGCONT'),
    async stop() {
      await kill();
      await fs.rm(dir, { recursive: true, force: true });
    },
  };
}
