// Agencies in the running platform: the Huế agencies seeded at start beside the Huế rules, a rule file
// naming an agency the registry lacks refused with its line and column, then put in force once the
// agency is created through the API; an agency in use kept from removal.
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adminRequest, startTestPlatform, type TestPlatform } from './kits/platform.ts';

let platform: TestPlatform;
let rulesDir: string;

const rule = (id: string, owner: string) => `rules:
  - id: ${id}
    title: Street flooded (${owner})
    severity: warning
    owner: ${owner}
    message: '{{device.name}}: {{value}} m of water'
    select: { kind: flood }
    condition: { type: threshold, field: water_level_m, op: '>', value: 0.2 }
`;

const api = (method: string, url: string, body?: unknown) => adminRequest(platform, method, url, body);

beforeAll(async () => {
  rulesDir = await fs.mkdtemp(path.join(os.tmpdir(), 'agency-rules-'));
  await fs.writeFile(path.join(rulesDir, 'flood.yaml'), rule('street-flooded', 'flood-control'));
  platform = await startTestPlatform({ CITY_RULES_DIR: rulesDir, CITY_RULES_WATCH: 'false' });
});

afterAll(async () => {
  await platform?.destroy();
  await fs.rm(rulesDir, { recursive: true, force: true });
});

describe('agencies in the platform', () => {
  it('has the Huế agencies from its start, which the rules in force name', async () => {
    const { body } = await api('GET', '/api/agencies');
    expect((body as { agencies: { id: string }[] }).agencies.map((a) => a.id)).toEqual([
      'environment',
      'flood-control',
      'hepco',
      'ioc',
    ]);
    expect(platform.rules.status().rules.map((r) => r.rule.owner)).toEqual(['flood-control']);
  });

  it('refuses a rule file naming an agency it lacks, and puts it in force once the agency is created', async () => {
    await fs.writeFile(path.join(rulesDir, 'drainage.yaml'), rule('drain-blocked', 'urban-drainage'));
    const problems = await platform.rules.reload();
    expect(problems.map((p) => `${p.file}:${p.line}:${p.column} ${p.code}`)).toEqual([
      'drainage.yaml:5:12 RULES_ERR_UNKNOWN_AGENCY',
    ]);
    expect(platform.rules.status().rules.map((r) => r.rule.id)).toEqual(['street-flooded']);

    const created = await api('POST', '/api/agencies', {
      id: 'urban-drainage',
      name: { vi: 'Thoát nước đô thị', en: 'Urban drainage' },
    });
    expect(created.status).toBe(201);
    // The API has the rules read again: the refused file is now in force.
    await expect
      .poll(() =>
        platform.rules
          .status()
          .rules.map((r) => r.rule.id)
          .sort(),
      )
      .toEqual(['drain-blocked', 'street-flooded']);
  });

  it('keeps an agency the rules in force name', async () => {
    const res = await api('DELETE', '/api/agencies/urban-drainage');
    expect(res.status).toBe(409);
    expect(res.body).toMatchObject({
      error: { code: 'API_ERR_AGENCY_IN_USE', details: { rules: ['drain-blocked'] } },
    });
  });
});
