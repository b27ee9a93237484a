// `npm run devices -- <command>`: the fleet through the platform's API, for engineers at a terminal.
//   import: onboard a district's devices from a CSV file or a JSON list (POST /api/devices/bulk), with
//   progress; every bad row is printed with its line and field, and nothing is created until the file is
//   right; the new devices' secrets go to a CSV file only the user can read.
//   command: send a command to a device or a set (POST /api/commands, docs/commands.md) and, with --wait,
//   follow the answers with a progress bar until every device has answered or the time is up.
// The API is CITY_API_URL (default http://127.0.0.1:<CITY_API_PORT>); the token CITY_API_TOKEN, else
// CITY_ADMIN_TOKEN, else the one `npm run demo` keeps in <CITY_DATA_DIR>/admin-token.
// Exit codes: 0 done, 1 refused or failed (what to do is printed), 2 a command line that cannot be read.
import { readFile, writeFile } from 'node:fs/promises';
import http from 'node:http';
import https from 'node:https';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { SingleBar } from 'cli-progress';
import { stringify } from 'csv-stringify/sync';
import { z } from 'zod';
import { EXIT_USAGE } from '../cli/index.ts';
import { checkRow, describeProblem, rowsFromCsv, rowsFromList, type BulkProblem } from '../devices/index.ts';
import { errorText } from '../errors/index.ts';

const USAGE = `usage: npm run devices -- <command>
  import <file.csv|file.json> [--dry-run] [--secrets <out.csv>]
        onboard devices, all or none (README, "Onboarding a district"); the new devices' secrets are
        written to --secrets (default <file>-secrets.csv, readable by you only)
  command <type> <target> [--set key=value]... [--params JSON] [--expires 1h] [--wait 60s]
        send set_dim, switch, schedule, set_interval, reboot or ping (docs/commands.md); the target is
        --device ID, --devices ID,ID…, --street NAME [--district D], --district D [--kind K] or
        --tag T [--kind K]; --set level_pct=40 gives a parameter (numbers and true/false as such),
        --params the whole parameters as JSON (a schedule's steps); --wait follows the answers
  --help  this text
Environment: CITY_API_URL (default http://127.0.0.1:8080), CITY_API_TOKEN (an engineer's token; default
CITY_ADMIN_TOKEN, else the demo's <CITY_DATA_DIR>/admin-token).`;

class UsageError extends Error {}
type Print = (line: string) => void;

export interface CliEnv {
  readonly [name: string]: string | undefined;
}

export async function main(args: readonly string[], env: CliEnv, print: Print, warn: Print): Promise<number> {
  const [command, ...rest] = args;
  if (command === 'help' || args.includes('--help') || args.includes('-h')) {
    print(USAGE);
    return 0;
  }
  try {
    if (command === 'import') return await importDevices(rest, env, print, warn);
    if (command === 'command') return await sendCommand(rest, env, print, warn);
    throw new UsageError(command === undefined ? 'no command' : `unknown command ${command}`);
  } catch (err) {
    if (err instanceof UsageError) {
      warn(`${err.message}\n${USAGE}`);
      return EXIT_USAGE;
    }
    warn(`error: ${errorText(err)}`);
    return 1;
  }
}

// ---- where the API is ----

async function apiOf(env: CliEnv): Promise<{ url: URL; token: string }> {
  const url = new URL(env.CITY_API_URL ?? `http://127.0.0.1:${env.CITY_API_PORT ?? '8080'}`);
  const kept = path.join(env.CITY_DATA_DIR ?? './var', 'admin-token');
  const token =
    env.CITY_API_TOKEN ??
    env.CITY_ADMIN_TOKEN ??
    (await readFile(kept, 'utf8').then(
      (t) => t.trim(),
      () => undefined,
    ));
  if (token === undefined || token === '')
    throw new Error(
      `no API token: set CITY_API_TOKEN to an engineer's token (or run npm run demo, which keeps one in ${kept})`,
    );
  return { url, token };
}

/** Sends a body in pieces, telling `sent` the bytes written so far; the answer's status and text. */
function upload(
  url: URL,
  headers: Record<string, string>,
  body: Buffer,
  sent: (bytes: number) => void,
): Promise<{ status: number; text: string }> {
  const PIECE = 64 * 1024;
  return new Promise((resolve, reject) => {
    const request = (url.protocol === 'https:' ? https : http).request(
      url,
      { method: 'POST', headers: { ...headers, 'content-length': String(body.length) } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }),
        );
        res.on('error', reject);
      },
    );
    request.on('error', reject);
    let at = 0;
    const next = (): void => {
      while (at < body.length) {
        const piece = body.subarray(at, at + PIECE);
        at += piece.length;
        sent(at);
        if (!request.write(piece)) {
          request.once('drain', next);
          return;
        }
      }
      request.end();
    };
    next();
  });
}

function bar(label: string, total: number, unit: string): SingleBar {
  const b = new SingleBar({
    format: `${label} [{bar}] {percentage}% {value}/{total} ${unit}`,
    barCompleteChar: '#',
    barIncompleteChar: '.',
    noTTYOutput: true,
    notTTYSchedule: 1000,
    stream: process.stderr,
  });
  b.start(total, 0);
  return b;
}

// ---- import ----

const Answer = z.object({
  created: z.number(),
  unchanged: z.number(),
  dryRun: z.boolean(),
  devices: z.array(z.object({ id: z.string(), status: z.string(), secret: z.string().optional() })),
});
const Refusal = z.object({
  error: z.object({
    code: z.string(),
    message: z.string(),
    details: z.object({ problems: z.array(z.custom<BulkProblem>()) }).optional(),
  }),
});

async function importDevices(
  args: readonly string[],
  env: CliEnv,
  print: Print,
  warn: Print,
): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...args],
      options: { 'dry-run': { type: 'boolean' }, secrets: { type: 'string' } },
      allowPositionals: true,
      strict: true,
    });
  } catch (err) {
    throw new UsageError(errorText(err));
  }
  const [file, ...extra] = parsed.positionals;
  if (file === undefined || extra.length > 0) throw new UsageError('import takes one file');
  const dryRun = parsed.values['dry-run'] === true;
  const secretsFile = parsed.values.secrets ?? `${file.replace(/\.(csv|json)$/i, '')}-secrets.csv`;
  const text = await readFile(file, 'utf8').catch((err: unknown) => {
    throw new Error(`cannot read ${file}: ${errorText(err)}`);
  });
  const isJson = /\.json$/i.test(file);

  // Checked here first, row by row, so a bad file is told at once and nothing is sent.
  const read = isJson ? jsonRows(text, file) : rowsFromCsv(text);
  const problems: BulkProblem[] = [...read.problems];
  const checking = bar('checking', read.rows.length, 'rows');
  for (const row of read.rows) {
    const checked = checkRow(row);
    if ('problems' in checked) problems.push(...checked.problems);
    checking.increment();
  }
  checking.stop();
  if (problems.length > 0) return refused(problems, file, warn);

  const { url, token } = await apiOf(env);
  const body = Buffer.from(
    isJson ? JSON.stringify({ devices: read.rows.map((r) => r.input) }) : text,
    'utf8',
  );
  const sending = bar('sending ', body.length, 'bytes');
  const target = new URL(`/api/devices/bulk${dryRun ? '?dry_run=true' : ''}`, url);
  const res = await upload(
    target,
    {
      authorization: `Bearer ${token}`,
      'content-type': isJson ? 'application/json' : 'text/csv',
      accept: 'application/json',
    },
    body,
    (n) => sending.update(n),
  ).catch((err: unknown) => {
    sending.stop();
    throw unreachable(url, err);
  });
  sending.stop();
  const json = JSON.parse(res.text || 'null') as unknown;
  if (res.status === 200 || res.status === 201) {
    const answer = Answer.parse(json);
    const created = answer.devices.filter((d) => d.secret !== undefined);
    if (created.length > 0) {
      await writeFile(
        secretsFile,
        stringify(
          created.map((d) => [d.id, d.secret]),
          { header: true, columns: ['id', 'secret'] },
        ),
        { mode: 0o600 },
      );
    }
    print(
      answer.dryRun
        ? `${file}: ${answer.devices.length - answer.unchanged} device(s) would be created, ${answer.unchanged} already there as listed; nothing was created (dry run)`
        : `${file}: ${answer.created} device(s) created, ${answer.unchanged} already there as listed${created.length > 0 ? `; their secrets are in ${secretsFile} (shown once: hand them to the installer, then delete the file)` : ''}`,
    );
    return 0;
  }
  const refusal = Refusal.safeParse(json);
  if (refusal.success && refusal.data.error.details?.problems !== undefined)
    return refused(refusal.data.error.details.problems, file, warn);
  warn(
    `the platform refused the list (HTTP ${res.status}): ${refusal.success ? `${refusal.data.error.message} [${refusal.data.error.code}]` : res.text.slice(0, 500)}`,
  );
  if (res.status === 401 || res.status === 403)
    warn("CITY_API_TOKEN must be an engineer's (or an admin's) token.");
  return 1;
}

// ---- command ----

const Sent = z.object({
  batch: z.number(),
  commands: z.array(z.object({ id: z.number(), device: z.string() })),
});
const Listed = z.object({
  commands: z.array(z.object({ device: z.string(), state: z.string(), detail: z.string().nullable() })),
});
const ENDED = new Set(['acknowledged', 'failed', 'expired']);
const WAIT = /^(\d+)(s|m)$/;

/** `level_pct=40` → ['level_pct', 40]; numbers and true/false as such, the rest as text. */
function parameter(text: string): [string, unknown] {
  const at = text.indexOf('=');
  if (at <= 0) throw new UsageError(`--set takes key=value, such as level_pct=40: ${JSON.stringify(text)}`);
  const value = text.slice(at + 1);
  const parsed =
    value === 'true'
      ? true
      : value === 'false'
        ? false
        : value !== '' && Number.isFinite(Number(value))
          ? Number(value)
          : value;
  return [text.slice(0, at), parsed];
}

/** The API not answering, said with what to do. */
function unreachable(url: URL, err: unknown): Error {
  return new Error(
    `cannot reach the platform's API at ${url.origin}: ${errorText(err)}; is it running (npm start or npm run demo)?`,
  );
}

async function call(
  { url, token }: { url: URL; token: string },
  method: string,
  route: string,
  body?: unknown,
): Promise<{ status: number; json: unknown }> {
  const res = await fetch(new URL(route, url), {
    method,
    headers: {
      authorization: `Bearer ${token}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  }).catch((err: unknown) => {
    throw unreachable(url, err);
  });
  const json: unknown = await res.json().catch(() => null);
  return { status: res.status, json };
}

async function sendCommand(args: readonly string[], env: CliEnv, print: Print, warn: Print): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...args],
      options: {
        device: { type: 'string' },
        devices: { type: 'string' },
        street: { type: 'string' },
        district: { type: 'string' },
        tag: { type: 'string' },
        kind: { type: 'string' },
        set: { type: 'string', multiple: true },
        params: { type: 'string' },
        expires: { type: 'string' },
        wait: { type: 'string' },
      },
      allowPositionals: true,
      strict: true,
    });
  } catch (err) {
    throw new UsageError(errorText(err));
  }
  const [type, ...extra] = parsed.positionals;
  if (type === undefined || extra.length > 0) throw new UsageError('command takes one type, such as set_dim');
  const v = parsed.values;
  const target =
    v.device !== undefined
      ? { device: v.device }
      : v.devices !== undefined
        ? {
            devices: v.devices
              .split(',')
              .map((d) => d.trim())
              .filter((d) => d !== ''),
          }
        : v.street !== undefined
          ? { street: v.street, ...(v.district === undefined ? {} : { district: v.district }) }
          : v.district !== undefined
            ? { district: v.district, ...(v.kind === undefined ? {} : { kind: v.kind }) }
            : v.tag !== undefined
              ? { tag: v.tag, ...(v.kind === undefined ? {} : { kind: v.kind }) }
              : undefined;
  if (target === undefined)
    throw new UsageError('no target: --device, --devices, --street, --district or --tag');
  let params: Record<string, unknown> = Object.fromEntries((v.set ?? []).map(parameter));
  if (v.params !== undefined) {
    try {
      params = { ...(JSON.parse(v.params) as Record<string, unknown>), ...params };
    } catch (err) {
      throw new UsageError(`--params is not JSON: ${errorText(err)}`);
    }
  }
  const waitText = v.wait;
  const waitMatch = waitText === undefined ? undefined : WAIT.exec(waitText);
  if (waitText !== undefined && waitMatch == null)
    throw new UsageError('--wait takes seconds or minutes, such as 60s or 5m');
  const body = { target, type, params, ...(v.expires === undefined ? {} : { expires_in: v.expires }) };
  const api = await apiOf(env);
  const res = await call(api, 'POST', '/api/commands', body);
  if (res.status !== 202) {
    const error = (
      res.json as {
        error?: {
          code?: string;
          message?: string;
          details?: { code?: string; problems?: Array<{ field: string; message: string }> };
        };
      } | null
    )?.error;
    warn(
      `the platform refused the command (HTTP ${res.status}): ${error?.details?.code ?? error?.code ?? ''}`,
    );
    for (const p of error?.details?.problems ?? []) warn(`  ${p.field}: ${p.message}`);
    if (error?.details?.problems === undefined && error?.message !== undefined) warn(`  ${error.message}`);
    if (res.status === 401 || res.status === 403)
      warn("CITY_API_TOKEN must be an operator's token (or higher).");
    return 1;
  }
  const sent = Sent.parse(res.json);
  print(
    `${type} sent to ${sent.commands.length} device(s), request ${sent.batch} (GET /api/commands?batch=${sent.batch})`,
  );
  if (waitMatch == null) return 0;
  const deadline = Date.now() + Number(waitMatch[1]) * (waitMatch[2] === 'm' ? 60_000 : 1000);
  const answered = bar('answered', sent.commands.length, 'devices');
  let last: z.infer<typeof Listed>['commands'] = [];
  for (;;) {
    const list = await call(api, 'GET', `/api/commands?batch=${sent.batch}&limit=1000`);
    last = Listed.parse(list.json).commands;
    const ended = last.filter((c) => ENDED.has(c.state)).length;
    answered.update(ended);
    if (ended === last.length || Date.now() > deadline) break;
    await new Promise((r) => setTimeout(r, 500));
  }
  answered.stop();
  const counts = new Map<string, number>();
  for (const c of last) counts.set(c.state, (counts.get(c.state) ?? 0) + 1);
  print([...counts].map(([state, n]) => `${n} ${state}`).join(', '));
  for (const c of last.filter((c) => c.state === 'failed')) print(`  ${c.device} refused: ${c.detail ?? ''}`);
  const waiting = last.filter((c) => !ENDED.has(c.state));
  if (waiting.length > 0)
    print(
      `${waiting.length} not answered yet (away, or still on the way); they keep waiting until they expire`,
    );
  return waiting.length === 0 && !counts.has('failed') && !counts.has('expired') ? 0 : 1;
}

function jsonRows(text: string, file: string): ReturnType<typeof rowsFromCsv> {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new Error(`${file} is not JSON: ${errorText(err)}`);
  }
  const list = Array.isArray(json) ? json : (json as { devices?: unknown } | null)?.devices;
  if (!Array.isArray(list)) throw new Error(`${file} must hold a list of devices, or { "devices": [...] }`);
  return { rows: rowsFromList(list), problems: [] };
}

function refused(problems: readonly BulkProblem[], file: string, warn: Print): number {
  warn(
    `${file}: ${problems.length} problem(s); nothing was created. Fix these rows and run the same command again:`,
  );
  for (const p of problems) warn(`  ${describeProblem(p)}`);
  return 1;
}

if (process.argv[1] !== undefined && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const out = (line: string) => process.stdout.write(`${line}\n`);
  const err = (line: string) => process.stderr.write(`${line}\n`);
  main(process.argv.slice(2), process.env, out, err).then(
    (code) => (process.exitCode = code),
    (e: unknown) => {
      console.error(e);
      process.exitCode = 1;
    },
  );
}
