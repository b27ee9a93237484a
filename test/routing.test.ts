// Routing in the running platform: the Huế routing file in force from the start, "who would be told of
// this alert, and when" through the API, a routing file naming a receiver no agency has refused whole
// (the routing in force stays), put in force once the agency has it, and an agency a route names kept.
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adminRequest, startTestPlatform, type TestPlatform } from './kits/platform.ts';

const NOW = Date.now();
let platform: TestPlatform;
let dir: string;
let routingFile: string;

const api = (method: string, url: string, body?: unknown) => adminRequest(platform, method, url, body);

beforeAll(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'routing-'));
  routingFile = path.join(dir, 'routing.yaml');
  await fs.copyFile(new URL('../notify/hue/routing.yaml', import.meta.url), routingFile);
  platform = await startTestPlatform({
    CITY_SEED_FLEET: 'true',
    CITY_ROUTING_FILE: routingFile,
    CITY_RULES_WATCH: 'false',
  });
});

afterAll(async () => {
  await platform?.destroy();
  await fs.rm(dir, { recursive: true, force: true });
});

describe('routing in the platform', () => {
  it('has the Huế routing in force from the start', async () => {
    const { status, body } = await api('GET', '/api/routing');
    expect(status).toBe(200);
    expect(body).toMatchObject({
      file: routingFile,
      problems: [],
      routes: [
        { route: 1, name: 'critical flood alerts', receivers: ['$owner'], group_wait_ms: 10_000 },
        {
          route: 2,
          name: 'every other alert, to its own agency',
          receivers: ['$owner'],
          group_wait_ms: 30_000,
        },
      ],
    });
  });

  it('answers who a critical river alarm at Kim Long would reach, and when', async () => {
    const { status, body } = await api('POST', '/api/routing/plan', {
      agency: 'flood-control',
      severity: 'critical',
      rule: 'river-alarm-level',
      device: 'rg-kim-long',
    });
    expect(status).toBe(200);
    const raisedAt = Date.parse(body.raisedAt as string);
    expect(raisedAt).toBeGreaterThanOrEqual(NOW);
    // The device's registry record fills in its kind, district and tags.
    expect(body.alert).toMatchObject({
      kind: 'flood',
      district: 'Kim Long',
      tags: expect.arrayContaining(['river']) as unknown,
    });
    expect(body.routes).toEqual([
      expect.objectContaining({
        route: 1,
        group: { agency: 'flood-control', rule: 'river-alarm-level', district: 'Kim Long' },
        receivers: [{ agency: 'flood-control', receiver: 'control-room', type: 'mqtt' }],
        first_at: new Date(raisedAt + 10_000).toISOString(),
        repeat_every_ms: 3_600_000,
        escalate: [
          {
            at: new Date(raisedAt + 15 * 60_000).toISOString(),
            receivers: [{ agency: 'ioc', receiver: 'control-room', type: 'mqtt' }],
          },
        ],
        unresolved: [],
      }),
    ]);
    expect((await api('POST', '/api/routing/plan', { alert: 424242 })).body).toMatchObject({
      error: { code: 'API_ERR_ALERT_NOT_FOUND' },
    });
  });

  it('refuses a routing file naming a receiver no agency has, keeping the routing in force, until the agency has it', async () => {
    await fs.appendFile(
      routingFile,
      '\n  - { match: { kind: streetlight }, receivers: [hepco/night-crew] }\n',
    );
    const problems = await platform.routing.reload();
    expect(problems.map((p) => `${p.line} ${p.code}`)).toEqual([
      expect.stringMatching(/ NOTIFY_ERR_UNKNOWN_RECEIVER$/),
    ]);
    const refused = await api('GET', '/api/routing');
    expect(refused.body.routes).toHaveLength(2);
    expect(refused.body.problems).toHaveLength(1);

    const hepco = (await api('GET', '/api/agencies/hepco')).body;
    const replaced = await api('PUT', '/api/agencies/hepco', {
      name: hepco.name,
      receivers: [
        ...(hepco.receivers as object[]),
        { id: 'night-crew', type: 'webhook', url: 'https://hepco.example.org/night' },
      ],
    });
    expect(replaced.status).toBe(200);
    // The API has the routing read again: the file is in force now.
    await expect
      .poll(async () => ((await api('GET', '/api/routing')).body.routes as unknown[]).length)
      .toBe(3);
    const removed = await api('DELETE', '/api/agencies/ioc');
    expect(removed.body).toMatchObject({
      error: { code: 'API_ERR_AGENCY_IN_USE', details: { rules: [], routes: [1, 2] } },
    });
  });
});
