// Bulk onboarding: a district's devices in one CSV file or JSON list, thousands at a time. Everything is
// checked before anything is created, and every bad row is reported with its row (and CSV line), the
// field and the reason, so an engineer fixes the file once, not row by row. A device already in the
// registry with the same content is left as it is (a re-run of the same file creates nothing and issues
// no secret); the same id with other content is a problem, not an overwrite.
//
// CSV: a header row, then one device per row. Columns `id, kind, name, district, lat, lon` are required;
// `gateway` and `tags` (separated by `;`) may be given; each `meta.<key>` column is a metadata field
// (`meta.street`, `meta.rated_w`, `meta.alarm_levels_m`): a number is read as a number, true/false as a
// boolean, and values separated by `;` as a list. docs/onboarding.md has examples.
import { parse } from 'csv-parse/sync';
import { z } from 'zod';
import type { RegistryErrorCode } from './errors.ts';
import { DeviceInput, type DeviceRecord, type ParsedDeviceInput } from './schemas.ts';

/** One device of the list, before it is checked: where it came from and what it says. */
export interface BulkRow {
  /** 1-based, the data rows only (the CSV header is not a row). */
  readonly row: number;
  /** The CSV line the row starts on (the header is line 1); absent for JSON. */
  readonly line?: number;
  readonly input: unknown;
}

export interface BulkProblem {
  readonly row: number;
  readonly line?: number;
  readonly id?: string;
  /** The field at fault (`location.lat`, `meta.rated_w`), or `row` when the row as a whole is. */
  readonly field: string;
  readonly code: RegistryErrorCode;
  readonly message: string;
}

/** What the registry is asked about while a list is checked. */
export interface BulkRegistryView {
  getDevice(id: string): DeviceRecord | undefined;
  getGateway(id: string): unknown;
  isKnown(id: string): boolean;
}

export interface BulkPlan {
  readonly problems: readonly BulkProblem[];
  /** Checked and new: to be created, in the list's order. */
  readonly create: readonly ParsedDeviceInput[];
  /** Already in the registry with exactly this content. */
  readonly unchanged: readonly DeviceRecord[];
}

export const MAX_BULK_DEVICES = 20_000;
const REQUIRED_COLUMNS = ['id', 'kind', 'name', 'district', 'lat', 'lon'] as const;
const OPTIONAL_COLUMNS = new Set(['gateway', 'tags']);
const NUMBER = /^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/;

/** A CSV cell as the value it stands for: a number, a boolean, a `;` list, or the text. */
function cellValue(text: string): unknown {
  const t = text.trim();
  if (t.includes(';'))
    return t
      .split(';')
      .map((s) => s.trim())
      .filter((s) => s !== '')
      .map(cellValue);
  if (NUMBER.test(t)) return Number(t);
  if (t === 'true' || t === 'false') return t === 'true';
  return t;
}

/** The rows of a CSV text; a malformed file or header is a problem of row 0. */
export function rowsFromCsv(text: string): { rows: BulkRow[]; problems: BulkProblem[] } {
  let records: Array<{ record: string[]; info: { lines: number } }>;
  try {
    // With `info`, each record comes with where it ended (csv-parse's types do not say so).
    records = parse(text, {
      bom: true,
      info: true,
      skip_empty_lines: true,
      relax_column_count: true,
    }) as unknown as typeof records;
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    return { rows: [], problems: [{ row: 0, field: 'file', code: 'REGISTRY_ERR_INVALID', message }] };
  }
  const [header, ...data] = records;
  if (header === undefined)
    return {
      rows: [],
      problems: [
        { row: 0, line: 1, field: 'header', code: 'REGISTRY_ERR_INVALID', message: 'the file is empty' },
      ],
    };
  const columns = header.record.map((c) => c.trim());
  const problems: BulkProblem[] = [];
  const headerProblem = (message: string) =>
    problems.push({ row: 0, line: 1, field: 'header', code: 'REGISTRY_ERR_INVALID', message });
  for (const c of REQUIRED_COLUMNS) if (!columns.includes(c)) headerProblem(`no column ${c}`);
  for (const c of columns)
    if (
      !(REQUIRED_COLUMNS as readonly string[]).includes(c) &&
      !OPTIONAL_COLUMNS.has(c) &&
      !/^meta\.[a-z_][a-z0-9_]*$/.test(c)
    )
      headerProblem(
        `unknown column ${JSON.stringify(c)}: expected ${REQUIRED_COLUMNS.join(', ')}, gateway, tags or meta.<key>`,
      );
  if (new Set(columns).size !== columns.length) headerProblem('a column is named twice');
  if (problems.length > 0) return { rows: [], problems };

  const rows = data.map(({ record, info }, i): BulkRow => {
    const line =
      info.lines - (record.some((c) => c.includes('\n')) ? record.join('').split('\n').length - 1 : 0);
    const cell = (name: string) => {
      const at = columns.indexOf(name);
      return at < 0 ? undefined : (record[at] ?? '').trim();
    };
    const input: Record<string, unknown> = {
      id: cell('id'),
      kind: cell('kind'),
      name: cell('name'),
      district: cell('district'),
      location: { lat: cellValue(cell('lat') ?? ''), lon: cellValue(cell('lon') ?? '') },
    };
    const gateway = cell('gateway');
    if (gateway) input.gateway = gateway;
    const tags = cell('tags');
    if (tags)
      input.tags = tags
        .split(';')
        .map((s) => s.trim())
        .filter((s) => s !== '');
    const meta: Record<string, unknown> = {};
    columns.forEach((c, at) => {
      const value = (record[at] ?? '').trim();
      if (c.startsWith('meta.') && value !== '') meta[c.slice(5)] = cellValue(value);
    });
    input.meta = meta;
    if (record.length > columns.length)
      problems.push({
        row: i + 1,
        line,
        field: 'row',
        code: 'REGISTRY_ERR_INVALID',
        message: `${record.length} cells for ${columns.length} columns`,
      });
    return { row: i + 1, line, input };
  });
  return { rows, problems };
}

export function rowsFromList(list: readonly unknown[]): BulkRow[] {
  return list.map((input, i) => ({ row: i + 1, input }));
}

/** Key order does not matter for equality; undefined fields are absent ones. */
function canonical(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v !== null && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : v,
  );
}

/** The content of a device that a list sets: what must match for a re-run to be "unchanged". */
function content(d: ParsedDeviceInput | DeviceRecord): string {
  return canonical({
    kind: d.kind,
    name: d.name,
    district: d.district,
    location: d.location,
    gateway: d.gateway,
    tags: d.tags,
    meta: d.meta,
  });
}

/** Where a row's problems are reported: its row, CSV line and id (when it has one). */
function placeOf({ row, line, input }: BulkRow) {
  const id = (input as { id?: unknown } | null)?.id;
  return {
    row,
    ...(line === undefined ? {} : { line }),
    ...(typeof id === 'string' ? { id } : {}),
  };
}

/** One row against the device schemas alone: the device it describes, or what is wrong with it. */
export function checkRow(row: BulkRow): { device: ParsedDeviceInput } | { problems: BulkProblem[] } {
  const parsed = DeviceInput.safeParse(row.input);
  if (parsed.success) return { device: parsed.data };
  const at = placeOf(row);
  return {
    problems: parsed.error.issues.map((issue) => ({
      ...at,
      field: issue.path.length === 0 ? 'row' : issue.path.join('.'),
      code: 'REGISTRY_ERR_INVALID' as const,
      message: issue.message,
    })),
  };
}

/** Checks every row against the schemas, the file itself and the registry; creates nothing. */
export function planBulk(rows: readonly BulkRow[], registry: BulkRegistryView): BulkPlan {
  const problems: BulkProblem[] = [];
  const create: ParsedDeviceInput[] = [];
  const unchanged: DeviceRecord[] = [];
  const firstRowOf = new Map<string, number>();
  if (rows.length > MAX_BULK_DEVICES)
    problems.push({
      row: 0,
      field: 'file',
      code: 'REGISTRY_ERR_INVALID',
      message: `${rows.length} devices: at most ${MAX_BULK_DEVICES} in one list; split it`,
    });
  for (const r of rows) {
    const checked = checkRow(r);
    if ('problems' in checked) {
      problems.push(...checked.problems);
      continue;
    }
    const { row } = r;
    const at = placeOf(r);
    const d = checked.device;
    const earlier = firstRowOf.get(d.id);
    if (earlier !== undefined) {
      problems.push({
        ...at,
        field: 'id',
        code: 'REGISTRY_ERR_DUPLICATE',
        message: `${d.id} is also row ${earlier}`,
      });
      continue;
    }
    firstRowOf.set(d.id, row);
    if (d.gateway !== undefined && registry.getGateway(d.gateway) === undefined)
      problems.push({
        ...at,
        field: 'gateway',
        code: 'REGISTRY_ERR_GATEWAY',
        message: `gateway ${d.gateway} does not exist`,
      });
    const existing = registry.getDevice(d.id);
    if (existing === undefined) {
      if (registry.isKnown(d.id))
        problems.push({
          ...at,
          field: 'id',
          code: 'REGISTRY_ERR_DUPLICATE',
          message: `${d.id} is a gateway or service account`,
        });
      else create.push(d);
    } else if (existing.status !== 'active') {
      problems.push({
        ...at,
        field: 'id',
        code: 'REGISTRY_ERR_DECOMMISSIONED',
        message: `${d.id} is decommissioned; ids are not reused`,
      });
    } else if (content(existing) === content(d)) {
      unchanged.push(existing);
    } else {
      problems.push({
        ...at,
        field: 'id',
        code: 'REGISTRY_ERR_DUPLICATE',
        message: `${d.id} exists with other content; change it with PATCH /api/devices/${d.id}`,
      });
    }
  }
  problems.sort((a, b) => a.row - b.row);
  return { problems, create, unchanged };
}

/** A problem as one line for people: `line 12 (sl-le-loi-012), meta.rated_w: …`. */
export function describeProblem(p: BulkProblem): string {
  const where = p.line !== undefined ? `line ${p.line}` : p.row === 0 ? 'the list' : `row ${p.row}`;
  return `${where}${p.id === undefined ? '' : ` (${p.id})`}, ${p.field}: ${p.message} [${p.code}]`;
}

export const BulkProblemSchema = z.object({
  row: z.number().int().describe('1-based data row; 0 for the file or its header'),
  line: z.number().int().optional().describe('the CSV line (the header is line 1)'),
  id: z.string().optional(),
  field: z.string(),
  code: z
    .string()
    .describe(
      'REGISTRY_ERR_INVALID, REGISTRY_ERR_DUPLICATE, REGISTRY_ERR_GATEWAY or REGISTRY_ERR_DECOMMISSIONED',
    ),
  message: z.string(),
});
