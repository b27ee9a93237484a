// The shape of the code, read from its imports: each component imports only the components below it, and
// only through their public entry (index.ts); no file imports itself around a circle of files. The table
// is the layout of docs/architecture.md, lowest component first.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = path.resolve(import.meta.dirname, '..');
const SKIP = new Set(['node_modules', 'var', 'coverage', '.git', 'json', 'dist']);

/** What each component may import, besides errors/. Each lists only components above it in this table, so
 * none can reach back up. `test` (end-to-end tests and test kits) may import every component. */
const LAYERS: ReadonlyArray<readonly [string, readonly string[]]> = [
  ['errors', []],
  ['cli', []],
  ['measurements', []],
  ['sqlite', []],
  ['postgres', []],
  ['devices', ['measurements', 'sqlite', 'postgres']],
  ['influx', ['measurements', 'devices']],
  ['aqi', ['measurements', 'devices']],
  ['ingest', ['measurements', 'devices', 'influx', 'sqlite', 'postgres']],
  ['alerts', ['measurements', 'devices', 'influx', 'sqlite', 'postgres']],
  ['rules', ['measurements', 'devices', 'influx', 'aqi', 'alerts']],
  ['flows', ['measurements', 'devices', 'alerts', 'rules', 'cli']],
  ['notify', ['measurements', 'devices', 'alerts', 'rules', 'sqlite', 'postgres']],
  ['commands', ['measurements', 'devices', 'influx', 'sqlite', 'postgres']],
  ['broker', ['devices', 'ingest']],
  [
    'api',
    [
      'measurements',
      'devices',
      'influx',
      'ingest',
      'alerts',
      'rules',
      'flows',
      'notify',
      'commands',
      'broker',
    ],
  ],
  ['dashboards', ['measurements', 'devices', 'influx', 'aqi', 'cli']],
  ['simulators', ['measurements', 'devices', 'cli']],
  [
    'platform',
    [
      'measurements',
      'devices',
      'influx',
      'ingest',
      'alerts',
      'rules',
      'flows',
      'notify',
      'commands',
      'broker',
      'api',
      'simulators',
      'cli',
      'postgres',
    ],
  ],
  [
    'bench',
    [
      'measurements',
      'devices',
      'influx',
      'ingest',
      'alerts',
      'rules',
      'notify',
      'commands',
      'simulators',
      'platform',
      'cli',
    ],
  ],
  // The operations console runs in the browser and speaks only the public HTTP API: no component of it.
  ['console', []],
  ['test', []],
];
/** The error classes' base (errors/) is for every component. */
const ALLOWED = new Map(LAYERS.map(([c, deps]) => [c, new Set(c === 'errors' ? [] : ['errors', ...deps])]));
const EVERYTHING = new Set(LAYERS.map(([c]) => c));

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    if (SKIP.has(name)) return [];
    const file = path.join(dir, name);
    if (statSync(file).isDirectory()) return sourceFiles(file);
    return /\.(ts|tsx|js)$/.test(name) && !name.endsWith('.d.ts') ? [path.relative(ROOT, file)] : [];
  });
}

// Static imports and re-exports, dynamic import() and require() of a literal path.
const IMPORT = /(?:\bfrom\s*|\bimport\s*\(\s*|\brequire\s*\(\s*|^import\s+)['"](\.{1,2}\/[^'"]+)['"]/gm;

/** The project files a file imports, as paths from the root. */
function importsOf(file: string): string[] {
  const text = readFileSync(path.join(ROOT, file), 'utf8');
  return [...text.matchAll(IMPORT)].map((m) => path.join(path.dirname(file), m[1]!));
}

const componentOf = (file: string): string | undefined =>
  file.includes(path.sep) ? file.split(path.sep)[0] : undefined;
const isTest = (file: string) => file.endsWith('.test.ts');
/** A component's public entry, or the entry of a part with one of its own (flows/node-red). */
const isEntry = (file: string) => path.basename(file) === 'index.ts';

const files = sourceFiles(ROOT);
const graph = new Map(files.map((f) => [f, importsOf(f)]));

describe('the layout', () => {
  it('places every folder of code in the table', () => {
    const folders = new Set(files.map(componentOf).filter((c) => c !== undefined));
    expect([...folders].filter((c) => !EVERYTHING.has(c))).toEqual([]);
  });

  it('imports only files that exist', () => {
    const missing = [...graph].flatMap(([f, targets]) =>
      targets.filter((t) => !existsSync(path.join(ROOT, t))).map((t) => `${f} → ${t}`),
    );
    expect(missing).toEqual([]);
  });

  it('lets each component import only the components below it, through their index.ts', () => {
    const wrong: string[] = [];
    for (const [file, targets] of graph) {
      const from = componentOf(file);
      if (from === undefined || from === 'test') continue;
      for (const target of targets) {
        const to = componentOf(target);
        if (to === undefined || to === from) continue;
        if (to === 'test' && isTest(file)) continue; // a test beside the code uses the test kits
        if (!ALLOWED.get(from)?.has(to)) wrong.push(`${file} → ${target}: ${from} may not import ${to}`);
        else if (!isEntry(target)) wrong.push(`${file} → ${target}: not ${to}'s public entry`);
      }
    }
    expect(wrong).toEqual([]);
  });

  it('has no circle of files importing each other', () => {
    expect(circles(graph)).toEqual([]);
  });
});

/** Tarjan's strongly connected components of more than one file (or a file importing itself). */
function circles(g: ReadonlyMap<string, readonly string[]>): string[][] {
  let next = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  const visit = (v: string) => {
    index.set(v, next);
    low.set(v, next++);
    stack.push(v);
    onStack.add(v);
    for (const w of g.get(v) ?? []) {
      if (!g.has(w)) continue;
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) !== index.get(v)) return;
    const scc: string[] = [];
    let w: string;
    do {
      w = stack.pop()!;
      onStack.delete(w);
      scc.push(w);
    } while (w !== v);
    if (scc.length > 1 || (g.get(v) ?? []).includes(v)) found.push(scc.sort());
  };
  for (const v of g.keys()) if (!index.has(v)) visit(v);
  return found;
}
