// The rules command line on routing and agencies, run as a user runs it: a routing file validated against
// the agencies a platform would know (here the Huế agencies file: the data folder has no registry), a
// rule file naming an agency there is not, and `route`, who an alert would reach and when.
import { execFile } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const ROOT = path.resolve(import.meta.dirname, '..');
let dir: string;

function rules(...args: string[]): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', 'platform/rules-cli.ts', ...args],
      { cwd: ROOT, timeout: 60_000, env: { PATH: process.env.PATH ?? '', CITY_DATA_DIR: dir } },
      (err, stdout, stderr) => resolve({ code: err ? Number(err.code) : 0, out: `${stdout}${stderr}` }),
    );
  });
}

beforeAll(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'rules-cli-'));
});
afterAll(async () => {
  await fs.rm(dir, { recursive: true, force: true });
});

describe('npm run rules', () => {
  it('validates the Huế routing file with the Huế rules', async () => {
    const { code, out } = await rules('validate', 'notify/hue/routing.yaml', 'rules/hue/flood.yaml');
    expect(out).toContain('ok   2 route(s) in notify/hue/routing.yaml');
    expect(out).toContain('ok   6 rule(s) in rules/hue/flood.yaml');
    expect(code).toBe(0);
  });

  it('refuses a routing file naming a receiver no agency has, and a rule owned by no agency, each at its place', async () => {
    const routing = path.join(dir, 'routing.yaml');
    await fs.writeFile(routing, 'routes:\n  - receivers: [hepco/night-crew]\n');
    const rule = path.join(dir, 'lamps.yaml');
    const lighting = await fs.readFile(path.join(ROOT, 'rules/hue/lighting.yaml'), 'utf8');
    await fs.writeFile(rule, lighting.replace(/owner: hepco/g, 'owner: lighting'));
    const { code, out } = await rules('validate', routing, rule);
    expect(out).toMatch(
      new RegExp(
        `^${routing}:2:17 NOTIFY_ERR_UNKNOWN_RECEIVER hepco/night-crew: agency hepco has no receiver night-crew`,
        'm',
      ),
    );
    expect(out).toMatch(new RegExp(`^${rule}:\\d+:12 RULES_ERR_UNKNOWN_AGENCY owner "lighting"`, 'm'));
    expect(code).toBe(1);
  });

  it('says who a critical flood alert would reach, and when', async () => {
    const { code, out } = await rules(
      'route',
      '--agency',
      'flood-control',
      '--severity',
      'critical',
      '--rule',
      'river-alarm-level',
    );
    expect(out).toContain('route 1 (critical flood alerts)');
    expect(out).toContain('after 10s: flood-control/control-room (mqtt)');
    expect(out).toContain('not acknowledged after 15m: ioc/control-room (mqtt)');
    expect(code).toBe(0);
    const usage = await rules('route', '--agency', 'flood-control');
    expect(usage.out).toContain('route needs --severity');
    expect(usage.code).toBe(2);
  });
});
