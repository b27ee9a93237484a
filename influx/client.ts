// A small client for InfluxDB's v1 HTTP API (`/ping`, `/write`, `/query`), the one API served alike by
// InfluxDB 1.x, by 2.x (v1 compatibility: token auth, database and retention policy mapped to a bucket
// through DBRP) and by 3.x. Only database creation is 1.x-specific, and it is optional (ensureDatabase).
// Every failure becomes an InfluxError with a stable code and `retryable`, which is what the writer
// needs to decide between "keep in the spool and retry" and "this batch can never be written".
import { z } from 'zod';
import { InfluxError, type InfluxErrorCode } from './errors.ts';
import { createDatabase, showDatabases } from './influxql.ts';
import { checkRetention } from './retention.ts';
import type { Series } from './series.ts';

export interface InfluxClientOptions {
  /** Base URL, e.g. `http://127.0.0.1:8086` (a path prefix behind a proxy is kept). */
  readonly url: string;
  /** Database; on 2.x/3.x the database name of the bucket's DBRP mapping. */
  readonly db: string;
  /** Retention policy to write into; the database's default when omitted. */
  readonly retentionPolicy?: string | undefined;
  /** InfluxDB 2.x/3.x API token, sent as `Authorization: Token <token>`. */
  readonly token?: string | undefined;
  /** InfluxDB 1.x user (HTTP basic auth); ignored when a token is given. */
  readonly username?: string | undefined;
  readonly password?: string | undefined;
  /** Per request, default 10 000 ms: long enough for a 5 000-line batch on a busy server. */
  readonly timeoutMs?: number | undefined;
}

export interface PingResult {
  readonly ok: boolean;
  /** From the `X-Influxdb-Version` header, when the server sends it. */
  readonly version?: string;
  readonly latencyMs: number;
  readonly error?: InfluxError;
}

export interface EnsureDatabaseResult {
  /** `unsupported`: the server refused CREATE DATABASE, as 2.x/3.x do; create the bucket and DBRP there. */
  readonly status: 'created' | 'exists' | 'unsupported';
  readonly warning?: string;
}

export interface InfluxClient {
  readonly url: string;
  readonly db: string;
  /** Writes line protocol with millisecond timestamps; resolves on 2xx (204). */
  write(body: string | Uint8Array): Promise<void>;
  /** Runs InfluxQL; one array of series per statement; throws INFLUX_ERR_QUERY if any statement failed. */
  query(q: string, options?: { readonly epoch?: 'ms' }): Promise<Series[][]>;
  /** Never throws: an unreachable server is `{ ok: false, error }`. */
  ping(): Promise<PingResult>;
  /** Creates the database if missing (1.x); `retention` like `90d` or `INF`, applied only on creation. */
  ensureDatabase(options?: { readonly retention?: string }): Promise<EnsureDatabaseResult>;
  /** Aborts requests in flight; later calls throw INFLUX_ERR_CLOSED. Safe to call twice. */
  close(): Promise<void>;
}

const Value = z.union([z.string(), z.number(), z.boolean(), z.null()]);
const SeriesSchema = z.object({
  name: z.string().default(''),
  tags: z.record(z.string(), z.string()).optional(),
  columns: z.array(z.string()),
  values: z.array(z.array(Value)).default([]),
});
const QueryResponse = z.object({
  results: z
    .array(z.object({ series: z.array(SeriesSchema).optional(), error: z.string().optional() }))
    .default([]),
  error: z.string().optional(),
});
const ErrorBody = z.union([z.object({ error: z.string() }), z.object({ message: z.string() })]);

const DEFAULT_TIMEOUT_MS = 10_000;

function statusCode(status: number): InfluxErrorCode {
  if (status === 400) return 'INFLUX_ERR_BAD_REQUEST';
  if (status === 401 || status === 403) return 'INFLUX_ERR_AUTH';
  if (status === 404) return 'INFLUX_ERR_DATABASE_NOT_FOUND';
  if (status === 413) return 'INFLUX_ERR_TOO_LARGE';
  if (status === 429) return 'INFLUX_ERR_THROTTLED';
  return 'INFLUX_ERR_SERVER';
}

/** The server's own words: 1.x sends `{"error": ...}`, 2.x/3.x `{"code", "message"}`, proxies plain text. */
function serverMessage(text: string): string {
  try {
    const parsed = ErrorBody.safeParse(JSON.parse(text));
    if (parsed.success) return 'error' in parsed.data ? parsed.data.error : parsed.data.message;
  } catch {
    // not JSON
  }
  return text.trim().slice(0, 1000);
}

export function createInfluxClient(options: InfluxClientOptions): InfluxClient {
  const base = options.url.replace(/\/+$/, '');
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const closing = new AbortController();
  const headers: Record<string, string> = {};
  if (options.token !== undefined) headers.authorization = `Token ${options.token}`;
  else if (options.username !== undefined) {
    const basic = Buffer.from(`${options.username}:${options.password ?? ''}`).toString('base64');
    headers.authorization = `Basic ${basic}`;
  }

  /** One HTTP exchange; the body is read inside the same timeout. */
  async function request(
    path: string,
    init: {
      method: 'GET' | 'POST';
      body?: string | Uint8Array | URLSearchParams;
      headers?: Record<string, string>;
    },
  ): Promise<{ status: number; text: string; res: Response }> {
    if (closing.signal.aborted) throw new InfluxError('INFLUX_ERR_CLOSED', `client for ${base} is closed`);
    const timeout = AbortSignal.timeout(timeoutMs);
    try {
      const res = await fetch(`${base}${path}`, {
        ...init,
        headers: { ...headers, ...init.headers },
        signal: AbortSignal.any([closing.signal, timeout]),
      });
      return { status: res.status, text: await res.text(), res };
    } catch (err) {
      if (closing.signal.aborted) throw new InfluxError('INFLUX_ERR_CLOSED', 'client closed', { cause: err });
      if (timeout.aborted) {
        throw new InfluxError('INFLUX_ERR_TIMEOUT', `no answer from ${base}${path} in ${timeoutMs} ms`, {
          cause: err,
        });
      }
      const cause = err instanceof Error && err.cause instanceof Error ? err.cause.message : String(err);
      throw new InfluxError('INFLUX_ERR_UNREACHABLE', `${base}: ${cause}`, { cause: err });
    }
  }

  function httpError(status: number, text: string, what: string): InfluxError {
    return new InfluxError(statusCode(status), `${what} answered HTTP ${status}: ${serverMessage(text)}`, {
      status,
    });
  }

  async function query(q: string, opts?: { readonly epoch?: 'ms' }): Promise<Series[][]> {
    const form = new URLSearchParams({ q, db: options.db, epoch: opts?.epoch ?? 'ms' });
    // POST with a form body: accepted for every statement by 1.x, 2.x and 3.x (GET refuses CREATE/DROP).
    const { status, text } = await request('/query', {
      method: 'POST',
      body: form,
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    if (status < 200 || status > 299) throw httpError(status, text, 'query');
    let body: z.infer<typeof QueryResponse>;
    try {
      body = QueryResponse.parse(JSON.parse(text));
    } catch (err) {
      throw new InfluxError('INFLUX_ERR_BAD_RESPONSE', `query answer is not v1 JSON: ${text.slice(0, 200)}`, {
        cause: err,
      });
    }
    if (body.error !== undefined) throw new InfluxError('INFLUX_ERR_QUERY', body.error);
    return body.results.map((result, i) => {
      if (result.error !== undefined)
        throw new InfluxError('INFLUX_ERR_QUERY', `statement ${i}: ${result.error}`);
      return result.series ?? [];
    });
  }

  async function ensureDatabase(opts?: { readonly retention?: string }): Promise<EnsureDatabaseResult> {
    const create = createDatabase(options.db, opts?.retention); // validates the retention first
    let exists = false;
    try {
      const [databases] = await query(showDatabases());
      exists = (databases ?? []).some((s) => s.values.some((row) => row[0] === options.db));
    } catch (err) {
      // A server that cannot list databases may still accept CREATE (or refuse it: handled below).
      if (!(err instanceof InfluxError) || err.code === 'INFLUX_ERR_AUTH' || err.retryable) throw err;
    }
    if (exists) {
      const warning =
        opts?.retention === undefined ? undefined : await checkRetention(query, options.db, opts.retention);
      return warning === undefined ? { status: 'exists' } : { status: 'exists', warning };
    }
    try {
      await query(create);
      return { status: 'created' };
    } catch (err) {
      if (!(err instanceof InfluxError) || err.code === 'INFLUX_ERR_AUTH' || err.retryable) throw err;
      return {
        status: 'unsupported',
        warning:
          `the server refused to create database ${JSON.stringify(options.db)} (${err.message}); on InfluxDB ` +
          '2.x/3.x create the bucket and map it with a DBRP mapping (influx v1 dbrp create) instead',
      };
    }
  }

  return {
    url: base,
    db: options.db,
    async write(body) {
      const params = new URLSearchParams({ db: options.db, precision: 'ms' });
      if (options.retentionPolicy !== undefined) params.set('rp', options.retentionPolicy);
      const { status, text } = await request(`/write?${params.toString()}`, {
        method: 'POST',
        body,
        headers: { 'content-type': 'text/plain; charset=utf-8' },
      });
      if (status < 200 || status > 299) throw httpError(status, text, 'write');
    },
    query,
    async ping() {
      const started = performance.now();
      try {
        const { status, res } = await request('/ping', { method: 'GET' });
        const latencyMs = performance.now() - started;
        const version = res.headers.get('x-influxdb-version') ?? undefined;
        const ok = status >= 200 && status <= 299;
        return {
          ok,
          latencyMs,
          ...(version === undefined ? {} : { version }),
          ...(ok ? {} : { error: httpError(status, '', 'ping') }),
        };
      } catch (err) {
        const error =
          err instanceof InfluxError ? err : new InfluxError('INFLUX_ERR_UNREACHABLE', String(err));
        return { ok: false, latencyMs: performance.now() - started, error };
      }
    },
    ensureDatabase,
    close() {
      closing.abort();
      return Promise.resolve();
    },
  };
}
