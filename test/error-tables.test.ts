// Every component's error table held against the code, both ways (as Fastify tests its lib/errors.js):
// each code written anywhere in the product (`'INGEST_ERR_RANGE'`…) is in a table with a description,
// and each code in a table is written somewhere outside it, so none is documented and never raised.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ALERTS_ERRORS } from '../alerts/index.ts';
import { API_ERRORS } from '../api/index.ts';
import { AQI_ERRORS } from '../aqi/index.ts';
import { BROKER_ERRORS } from '../broker/index.ts';
import { COMMAND_ERRORS } from '../commands/index.ts';
import { REGISTRY_ERRORS } from '../devices/index.ts';
import { NODE_RED_ERRORS } from '../flows/node-red/index.ts';
import { INFLUX_ERRORS } from '../influx/index.ts';
import { INGEST_ERRORS } from '../ingest/index.ts';
import { NOTIFY_ERRORS } from '../notify/index.ts';
import { PLATFORM_ERRORS } from '../platform/index.ts';
import { RULE_TEST_ERRORS, RULES_ERRORS } from '../rules/index.ts';
import { SIM_ERRORS } from '../simulators/index.ts';

const ROOT = path.resolve(import.meta.dirname, '..');
const PRODUCT = ['alerts', 'api', 'aqi', 'broker', 'devices', 'flows', 'influx', 'ingest', 'platform'];
PRODUCT.push('rules', 'simulators', 'measurements', 'dashboards', 'errors', 'notify', 'commands');

const API_DESCRIPTIONS = Object.fromEntries(Object.entries(API_ERRORS).map(([c, e]) => [c, e.description]));
const TABLES: Readonly<Record<string, Readonly<Record<string, string>>>> = {
  ALERTS: ALERTS_ERRORS,
  API: API_DESCRIPTIONS,
  AQI: AQI_ERRORS,
  BROKER: BROKER_ERRORS,
  COMMAND: COMMAND_ERRORS,
  REGISTRY: REGISTRY_ERRORS,
  NODE_RED: NODE_RED_ERRORS,
  INFLUX: INFLUX_ERRORS,
  INGEST: INGEST_ERRORS,
  NOTIFY: NOTIFY_ERRORS,
  PLATFORM: PLATFORM_ERRORS,
  RULE_TEST: RULE_TEST_ERRORS,
  RULES: RULES_ERRORS,
  SIM: SIM_ERRORS,
};

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const file = path.join(dir, name);
    if (statSync(file).isDirectory()) return name === 'node_modules' ? [] : sources(file);
    return /\.(ts|js)$/.test(name) && !name.endsWith('.test.ts') ? [readFileSync(file, 'utf8')] : [];
  });
}

const code = PRODUCT.flatMap((c) => sources(path.join(ROOT, c))).join('\n');
/** Codes as the code writes them where it raises, refuses or maps them: quoted. */
const written = new Set([...code.matchAll(/'([A-Z][A-Z_]*_ERR_[A-Z_]+)'/g)].map((m) => m[1]!));

describe('error tables', () => {
  it.each(Object.entries(TABLES))(
    '%s: each code named <PREFIX>_ERR_… with a one-line description',
    (prefix, table) => {
      for (const [c, description] of Object.entries(table)) {
        expect(c).toMatch(new RegExp(`^${prefix}_ERR_[A-Z_]+$`));
        expect(description.length, c).toBeGreaterThan(10);
        expect(description, c).not.toContain('\n');
      }
    },
  );

  it('holds every code the product writes', () => {
    const documented = new Set(Object.values(TABLES).flatMap((t) => Object.keys(t)));
    expect([...written].filter((c) => !documented.has(c)).sort()).toEqual([]);
  });

  it.each(Object.entries(TABLES))(
    '%s: each code is raised, refused or mapped somewhere',
    (_prefix, table) => {
      expect(Object.keys(table).filter((c) => !written.has(c))).toEqual([]);
    },
  );
});
