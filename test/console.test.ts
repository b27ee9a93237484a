// The operations console in a real Chromium (Debian's, driven by Playwright), served by the real platform:
// an operator signs in; a street gauge's readings published over MQTT raise an alert that appears in the
// inbox without a reload; the operator acknowledges it with a note and resolves it, and the alert's history
// says both; the language switches and is remembered; a viewer gets no buttons; a device name holding
// markup is shown as text; an admin manages users; the inbox renders a long list as it is scrolled; the
// pages carry their security headers and every page passes an accessibility check (axe-core) with no
// serious violation. Screenshots of every page at 1920×1080 and 390×844 go to var/screenshots/.
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import { createRequire } from 'node:module';
import path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TriggerInput } from '../alerts/index.ts';
import { connectClient, floodStreet, startTestPlatform, type TestPlatform } from './kits/platform.ts';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const SCREENSHOTS = path.resolve(import.meta.dirname, '..', 'var', 'screenshots');
const PASSWORD = 'mực nước sông Hương lên nhanh';
/** Markup in a device's name: it must show as these characters, never run. */
const HOSTILE_NAME = 'Ngập <img src=x onerror="window.__owned=1"> Lê Lợi';

let platform: TestPlatform;
let browser: Browser;
let base: string;
let gaugeSecret: string;
let secondSecret: string;
let riverSecret: string;
let routingDir: string;

beforeAll(async () => {
  // Every alert to its owner at once: the alert's page shows the notification sent.
  routingDir = await mkdtemp(path.join(os.tmpdir(), 'console-routing-'));
  const routing = path.join(routingDir, 'routing.yaml');
  await writeFile(routing, 'defaults: { group_wait: 0s }\nroutes:\n  - receivers: [$owner]\n');
  platform = await startTestPlatform({ CITY_ROUTING_FILE: routing });
  base = `http://127.0.0.1:${platform.apiPort}`;
  const { secret } = await platform.registry.provisionDevice({
    id: 'sf-console',
    kind: 'flood',
    name: HOSTILE_NAME,
    district: 'Thuận Hóa',
    location: { lat: 16.4565, lon: 107.578 },
    meta: { type: 'street' },
    tags: ['street-flood'],
  });
  gaugeSecret = secret;
  // A second gauge for the later tests: the first one's readings have moved its rules past these times.
  secondSecret = (
    await platform.registry.provisionDevice({
      id: 'sf-console-2',
      kind: 'flood',
      name: 'Ngập đường Hùng Vương',
      district: 'Thuận Hóa',
      location: { lat: 16.4605, lon: 107.5905 },
      meta: { type: 'street' },
      tags: ['street-flood'],
    })
  ).secret;
  riverSecret = (
    await platform.registry.provisionDevice({
      id: 'rg-console',
      kind: 'flood',
      name: 'Trạm thủy văn Kim Long',
      district: 'Kim Long',
      location: { lat: 16.455, lon: 107.56 },
      meta: { type: 'river', station: 'Kim Long', river: 'Hương', alarm_levels_m: [1, 2, 3.5] },
      tags: ['river'],
    })
  ).secret;
  await platform.registry.users.create({
    username: 'truc-ban',
    name: 'Trực ban IOC',
    role: 'operator',
    password: PASSWORD,
  });
  await platform.registry.users.create({ username: 'quan-sat', role: 'viewer', password: PASSWORD });
  await platform.registry.users.create({ username: 'ky-su', role: 'engineer', password: PASSWORD });
  await platform.registry.users.create({ username: 'quan-tri', role: 'admin', password: PASSWORD });
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
  await mkdir(SCREENSHOTS, { recursive: true });
});

afterAll(async () => {
  await browser?.close();
  await platform?.destroy();
  await rm(routingDir, { recursive: true, force: true });
});

const WALL = { width: 1920, height: 1080 };
const PHONE = { width: 390, height: 844 };

async function signedIn(username: string, viewport = WALL, bypassCSP = false): Promise<Page> {
  const context = await browser.newContext({ viewport, bypassCSP });
  const page = await context.newPage();
  await page.goto(`${base}/`);
  await page.getByLabel(/Tên đăng nhập|User name/).fill(username);
  await page.getByLabel(/Mật khẩu|Password/).fill(PASSWORD);
  await page.getByRole('button', { name: /Đăng nhập|Sign in/ }).click();
  await page.getByRole('heading', { name: /Cảnh báo|Alerts/ }).waitFor();
  await page
    .getByTestId('live')
    .filter({ hasText: /Trực tiếp|Live/ })
    .waitFor();
  return page;
}

describe('the operations console', () => {
  it('is served with its security headers, and / leads to it', async () => {
    const res = await fetch(`${base}/console/`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-security-policy')).toContain("script-src 'self'");
    expect(res.headers.get('x-frame-options')).toBe('DENY');
    expect((await res.text()).includes('<script>')).toBe(false);
    const root = await fetch(`${base}/`, { redirect: 'manual' });
    expect([root.status, root.headers.get('location')]).toEqual([302, '/console/']);
  });

  it('shows an alert raised over MQTT without a reload; the operator acknowledges and resolves it', async () => {
    const page = await signedIn('truc-ban');
    await expect.poll(() => page.getByTestId('alert').count()).toBe(0);
    await floodStreet(platform.mqttUrl, 'sf-console', gaugeSecret);
    const row = page.getByTestId('alert').filter({ hasText: 'sf-console' });
    await row.waitFor({ timeout: 10_000 });
    // The device's name is in the message, as text: the markup is shown, not run.
    await expect.poll(() => row.locator('.message').textContent()).toContain('<img src=x onerror=');
    expect(
      await page.evaluate(() => (globalThis as unknown as { __owned?: number }).__owned),
    ).toBeUndefined();
    expect(await row.locator('img').count()).toBe(0);

    await row.getByRole('button', { name: 'Tiếp nhận' }).click();
    await row.getByLabel('Ghi chú').fill('đội ứng cứu đang đến');
    await row.getByRole('button', { name: 'Tiếp nhận' }).click();
    await row.getByText('Đã tiếp nhận bởi Trực ban IOC: đội ứng cứu đang đến').waitFor();

    // The alert's page (where a notification links): its history, and the notification sent of it.
    await row.getByRole('link', { name: 'Street flooded' }).click();
    const shown = page.getByTestId('history');
    await shown.getByText('Tiếp nhận bởi Trực ban IOC: đội ứng cứu đang đến').waitFor();
    expect(await shown.locator('li').count()).toBe(2);
    // The readings around it, with the limit drawn: the rule compares water_level_m.
    await page.getByRole('heading', { name: 'Số liệu water_level_m quanh cảnh báo' }).waitFor();
    await page.getByTestId('chart').locator('canvas').first().waitFor();
    expect(await page.getByTestId('chart').textContent()).toContain('Ngưỡng');
    await page.getByTestId('deliveries').getByText('flood-control/control-room').waitFor();
    await page.getByRole('link', { name: '← Tất cả cảnh báo' }).click();

    await row.getByRole('button', { name: 'Xử lý xong' }).click();
    await row.getByLabel('Ghi chú').fill('nước đã rút');
    await row.getByRole('button', { name: 'Xử lý xong' }).click();
    await expect.poll(() => page.getByTestId('alert').count()).toBe(0);

    const id = (await platform.alerts.list({ device: 'sf-console' }))[0]!.id;
    const history = (await platform.alerts.get(id))!.events.map((e) => [e.type, e.by, e.note]);
    expect(history).toEqual([
      ['raised', null, null],
      ['acknowledged', 'Trực ban IOC', 'đội ứng cứu đang đến'],
      ['resolved', 'Trực ban IOC', 'nước đã rút'],
    ]);
    await page.context().close();
  });

  it('announces a new critical alert as it comes', async () => {
    const page = await signedIn('truc-ban');
    const river = await connectClient(platform.mqttUrl, {
      clientId: 'rg-console',
      username: 'rg-console',
      password: riverSecret,
    });
    const now = Date.now();
    for (const ago of [12, 1])
      await river.publishAsync(
        'city/flood/rg-console/telemetry',
        JSON.stringify({ water_level_m: 3.8, ts: new Date(now - ago * 60_000).toISOString() }),
        { qos: 1 },
      );
    await river.endAsync();
    const announce = page.getByTestId('announce');
    await announce.waitFor({ timeout: 10_000 });
    expect(await announce.textContent()).toContain('Có cảnh báo nghiêm trọng mới: River above alarm level');
    await page.context().close();
  });

  it('switches language, and remembers the choice', async () => {
    const page = await signedIn('truc-ban');
    await page.getByTestId('language').click();
    await page.getByRole('heading', { name: /^Alerts/ }).waitFor();
    expect(await page.getAttribute('html', 'lang')).toBe('en');
    await page.reload();
    await page.getByRole('heading', { name: /^Alerts/ }).waitFor();
    await page.getByTestId('language').click();
    await page.getByRole('heading', { name: /^Cảnh báo/ }).waitFor();
    await page.context().close();
  });

  it('gives a viewer the inbox without the buttons, on a phone', async () => {
    await floodStreet(platform.mqttUrl, 'sf-console-2', secondSecret);
    const page = await signedIn('quan-sat', PHONE);
    const row = page.getByTestId('alert').filter({ hasText: 'sf-console-2' });
    await row.waitFor({ timeout: 10_000 });
    expect(await row.getByRole('button').count()).toBe(0);
    await page.context().close();
  });

  it('shows every device on the map, coloured by its state, with no tiles to be had', async () => {
    const page = await signedIn('quan-sat');
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.getByRole('link', { name: 'Bản đồ' }).click();
    const legend = page.getByTestId('legend');
    // sf-console's alert was resolved; sf-console-2 (street flooded) and rg-console (river alarm) are open.
    await legend.locator('[data-status="alerting"]').filter({ hasText: 'Có cảnh báo: 2' }).waitFor();
    expect(await legend.locator('[data-status="ok"]').textContent()).toContain('Bình thường: 1');
    expect(await legend.locator('[data-status="silent"]').textContent()).toContain('Mất tín hiệu: 0');
    expect(await page.getByTestId('map').locator('.leaflet-pane').count()).toBeGreaterThan(0);
    expect(errors).toEqual([]);
    // Zoomed out, the three devices are one cluster, coloured by the worst of them: alerting.
    // A click during Leaflet's zoom animation is dropped, as happens on a busy machine: zoom out until the
    // map is at its widest (the control is disabled there).
    const zoomOut = page.getByRole('button', { name: 'Zoom out' });
    for (let i = 0; i < 20 && (await zoomOut.getAttribute('aria-disabled')) !== 'true'; i++) {
      await zoomOut.click();
      await page.waitForTimeout(100);
    }
    await page.locator('.cluster.alerting').filter({ hasText: /^3$/ }).waitFor();
    const res = await fetch(`${base}/console/`);
    expect(res.headers.get('content-security-policy')).toContain(
      "img-src 'self' data: https://tile.openstreetmap.org",
    );
    await page.context().close();
  });

  it("shows a device's page: latest values with units, a chart, its alerts, and the messages refused", async () => {
    const gauge = await connectClient(platform.mqttUrl, {
      clientId: 'sf-console-2',
      username: 'sf-console-2',
      password: secondSecret,
    });
    await gauge.publishAsync(
      'city/flood/sf-console-2/telemetry',
      JSON.stringify({ water_level_m: 'sâu lắm' }),
      {
        qos: 1,
      },
    );
    await gauge.endAsync();
    const page = await signedIn('ky-su');
    await page.goto(`${base}/console/#/devices/sf-console-2`);
    await page.getByRole('heading', { name: 'Ngập đường Hùng Vương' }).waitFor();
    await page
      .getByTestId('latest')
      .getByText(/0,34 m/)
      .waitFor();
    await page.getByTestId('chart').locator('canvas').first().waitFor();
    await page.getByTestId('device-alerts').getByRole('link', { name: 'Street flooded' }).waitFor();
    const refused = page.getByTestId('dead-letters');
    await refused.getByText('INGEST_ERR_', { exact: false }).first().waitFor();
    expect(await refused.textContent()).toContain('sâu lắm');
    await page.context().close();
  });

  it('shows each agency its open alerts and its response times against its targets', async () => {
    const page = await signedIn('quan-sat');
    await page.getByRole('link', { name: 'Đơn vị' }).click();
    const flood = page.getByTestId('agencies').locator('tr[data-agency="flood-control"]');
    await flood.waitFor();
    const cells = await flood.locator('td').allTextContents();
    // Open now: sf-console-2 (warning) and rg-console (critical); sf-console was acknowledged, then resolved.
    expect(cells.slice(0, 2)).toEqual(['2', '1']);
    expect(cells[2]).toMatch(/^\d+ phút/);
    expect(cells[4]).toBe('15 / 120 / 1440');
    await page.context().close();
  });

  it('acknowledges a selection of alerts at once, with one note', async () => {
    const page = await signedIn('truc-ban');
    const rows = page.getByTestId('alert');
    await expect.poll(() => rows.count()).toBe(2);
    for (const device of ['sf-console-2', 'rg-console'])
      await rows.filter({ hasText: device }).getByRole('checkbox').check();
    const bar = page.getByTestId('selection');
    await bar.getByText('Đã chọn 2 cảnh báo').waitFor();
    await bar.getByLabel('Ghi chú').fill('đã báo đội cơ động');
    await bar.getByRole('button', { name: 'Tiếp nhận' }).click();
    await expect
      .poll(async () => (await platform.alerts.listOpen()).map((a) => [a.device, a.state, a.acknowledgeNote]))
      .toEqual(
        expect.arrayContaining([
          ['sf-console-2', 'acknowledged', 'đã báo đội cơ động'],
          ['rg-console', 'acknowledged', 'đã báo đội cơ động'],
        ]),
      );
    await bar.waitFor({ state: 'detached' });
    await page.context().close();
  });

  it('refuses a wrong password, saying so', async () => {
    const page = await browser.newPage();
    await page.goto(`${base}/console/`);
    await page.getByLabel('Tên đăng nhập').fill('truc-ban');
    await page.getByLabel('Mật khẩu').fill('not the password');
    await page.getByRole('button', { name: 'Đăng nhập' }).click();
    await page.getByRole('alert').filter({ hasText: 'Tên đăng nhập hoặc mật khẩu không đúng.' }).waitFor();
    await page.close();
  });

  it('lets an admin add a user, change their role, disable them and remove them', async () => {
    const page = await signedIn('quan-tri');
    await page.getByRole('link', { name: 'Người dùng' }).click();
    const form = page.getByTestId('new-user');
    await form.getByLabel('Tên đăng nhập').fill('pctt.truc');
    await form.getByLabel('Tên hiển thị').fill('Trực ban PCTT');
    await form.getByLabel('Mật khẩu (ít nhất 12 ký tự)').fill(PASSWORD);
    await form.getByRole('button', { name: 'Tạo' }).click();
    await page.getByRole('status').filter({ hasText: 'Đã tạo pctt.truc.' }).waitFor();
    const row = page.locator('tr[data-user="pctt.truc"]');
    expect(await row.locator('td').first().textContent()).toBe('Trực ban PCTT');
    expect(platform.registry.users.get('pctt.truc')).toMatchObject({ role: 'operator', disabled: false });
    // The new user signs in with the password the admin gave.
    const theirs = await signedIn('pctt.truc');
    await theirs.context().close();

    await row.getByLabel('Vai trò của pctt.truc').selectOption('engineer');
    await page.getByRole('status').filter({ hasText: 'Đã đổi vai trò của pctt.truc' }).waitFor();
    await row.getByRole('button', { name: 'Khóa' }).click();
    await page.getByRole('status').filter({ hasText: 'Đã khóa pctt.truc' }).waitFor();
    expect(platform.registry.users.get('pctt.truc')).toMatchObject({ role: 'engineer', disabled: true });
    // A refusal says why, in the API's words, and changes nothing.
    await row.getByRole('button', { name: 'Đặt mật khẩu mới' }).click();
    // Longer than the API takes (200): the form lets it through, the API refuses it.
    await row.getByLabel('Mật khẩu mới cho pctt.truc').fill('x'.repeat(201));
    await row.getByRole('button', { name: 'Xác nhận' }).click();
    await page.getByRole('alert').filter({ hasText: 'password' }).waitFor();
    page.once('dialog', (d) => void d.accept());
    await row.getByRole('button', { name: 'Xóa' }).click();
    await row.waitFor({ state: 'detached' });
    expect(platform.registry.users.get('pctt.truc')).toBeUndefined();
    // An admin does not take their own role away or lock themselves out here.
    const mine = page.locator('tr[data-user="quan-tri"]');
    expect(await mine.getByLabel('Vai trò của quan-tri').isDisabled()).toBe(true);
    expect(await mine.getByRole('button', { name: 'Khóa' }).count()).toBe(0);
    await page.context().close();
  });

  it('gives an operator no users page', async () => {
    const page = await signedIn('truc-ban');
    expect(await page.getByRole('link', { name: 'Người dùng' }).count()).toBe(0);
    await page.goto(`${base}/console/#/users`);
    await page.getByRole('heading', { name: /^Cảnh báo/ }).waitFor();
    expect(await page.locator('table.users').count()).toBe(0);
    await page.context().close();
  });

  it('sends a lamp a command from its page, and lists it with its state and who sent it', async () => {
    await platform.registry.provisionDevice({
      id: 'sl-console',
      kind: 'streetlight',
      name: 'Đèn Lê Lợi 1',
      district: 'Thuận Hóa',
      location: { lat: 16.4622, lon: 107.5835 },
      meta: { street: 'Lê Lợi', rated_w: 150 },
    });
    const page = await signedIn('truc-ban');
    await page.goto(`${base}/console/#/devices/sl-console`);
    const form = page.getByTestId('send-command');
    await form.getByLabel('Lệnh').selectOption('set_dim');
    await form.getByLabel('Mức sáng (%)').fill('30');
    await form.getByRole('button', { name: 'Gửi lệnh' }).click();
    // Nothing listens for the lamp here: the command waits for it.
    await page
      .getByTestId('commands')
      .locator('li[data-state="queued"]')
      .filter({ hasText: 'set_dim' })
      .waitFor();
    expect(await page.getByTestId('commands').textContent()).toContain('Trực ban IOC');
    expect(
      (await platform.commands.list({ device: 'sl-console', limit: 10 })).map((c) => [
        c.type,
        c.params,
        c.by,
      ]),
    ).toEqual([['set_dim', { level_pct: 30 }, 'Trực ban IOC']]);
    // A viewer sees the list, not the form.
    const viewer = await signedIn('quan-sat');
    await viewer.goto(`${base}/console/#/devices/sl-console`);
    await viewer.getByTestId('commands').locator('li').first().waitFor();
    expect(await viewer.getByTestId('send-command').count()).toBe(0);
    await viewer.context().close();
    await page.context().close();
  });

  it('has no serious accessibility violation on any page (axe-core), at 1920×1080 and 390×844', async () => {
    const axe = createRequire(import.meta.url).resolve('axe-core/axe.min.js');
    const violations = async (page: Page) => {
      await page.addScriptTag({ path: axe });
      const found = await page.evaluate(async () => {
        const run = (
          globalThis as unknown as {
            axe: {
              run: () => Promise<{
                violations: Array<{ id: string; impact: string | null; nodes: Array<{ target: unknown }> }>;
              }>;
            };
          }
        ).axe;
        return (await run.run()).violations.map((v) => ({
          id: v.id,
          impact: v.impact,
          where: JSON.stringify(v.nodes.slice(0, 3).map((n) => n.target)),
        }));
      });
      return found.filter((v) => v.impact === 'serious' || v.impact === 'critical');
    };
    const alertId = (await platform.alerts.listOpen())[0]!.id;
    const pages: ReadonlyArray<readonly [string, string, (page: Page) => Promise<void>]> = [
      ['inbox', '#/', (p) => p.getByTestId('alert').first().waitFor()],
      ['alert', `#/alerts/${alertId}`, (p) => p.getByTestId('history').locator('li').first().waitFor()],
      [
        'map',
        '#/map',
        async (p) => {
          await p.locator('.cluster, .leaflet-interactive').first().waitFor();
          // The screenshot after the fit to the devices and the clusters' animation, not during them.
          await expect.poll(() => p.locator('.leaflet-zoom-anim, .leaflet-cluster-anim').count()).toBe(0);
        },
      ],
      ['device', '#/devices/sf-console-2', (p) => p.getByTestId('chart').locator('canvas').first().waitFor()],
      ['agencies', '#/agencies', (p) => p.locator('tr[data-agency]').first().waitFor()],
      ['users', '#/users', (p) => p.locator('tr[data-user]').first().waitFor()],
    ];
    const found: Record<string, unknown> = {};
    for (const viewport of [WALL, PHONE]) {
      const size = `${viewport.width}x${viewport.height}`;
      // The check's own script is injected, which the page's policy would refuse: these contexts bypass it.
      const context = await browser.newContext({ viewport, bypassCSP: true });
      const signIn = await context.newPage();
      await signIn.goto(`${base}/console/`);
      await signIn.getByLabel('Tên đăng nhập').waitFor();
      found[`sign-in ${size}`] = await violations(signIn);
      await signIn.screenshot({ path: path.join(SCREENSHOTS, `sign-in-${size}.png`), fullPage: true });
      await context.close();

      const page = await signedIn('quan-tri', viewport, true);
      for (const [name, hash, ready] of pages) {
        await page.goto(`${base}/console/${hash}`);
        await ready(page);
        found[`${name} ${size}`] = await violations(page);
        await page.screenshot({
          path: path.join(SCREENSHOTS, `${name}-${size}.png`),
          fullPage: name !== 'map',
        });
      }
      await page.context().close();
    }
    expect(Object.keys(found)).toHaveLength(14);
    expect(Object.entries(found).filter(([, v]) => (v as unknown[]).length > 0)).toEqual([]);
  });

  it('renders a long inbox as it is scrolled: every alert counted, the first rows at once', async () => {
    const now = Date.now();
    const many = Array.from({ length: 150 }, (_, i) => ({
      input: {
        type: 'raise',
        rule: 'street-flooded',
        device: `sf-many-${String(i).padStart(3, '0')}`,
        kind: 'flood',
        district: 'Thuận Hóa',
        owner: 'flood-control',
        title: 'Street flooded',
        severity: 'warning',
        message: `Ngập đường ${i}`,
        value: 0.3,
        threshold: 0.2,
        level: 1,
        at: now,
        source: 'rule',
      } satisfies TriggerInput,
    }));
    await platform.alerts.triggerAll(many);
    const open = (await platform.alerts.listOpen()).length;
    expect(open).toBeGreaterThanOrEqual(150);
    const page = await signedIn('quan-sat');
    await page
      .locator('.inbox .count')
      .filter({ hasText: new RegExp(`^${open}$`) })
      .waitFor();
    const rows = page.getByTestId('alert');
    expect(await rows.count()).toBeLessThan(open);
    expect(await page.getByTestId('more').textContent()).toContain(`trên ${open} cảnh báo`);
    // Scrolling to the end brings the rest.
    await expect
      .poll(async () => {
        await page.mouse.wheel(0, 20_000);
        return rows.count();
      })
      .toBe(open);
    expect(await page.getByTestId('more').count()).toBe(0);
    // A filter searches every alert, not only the rows rendered.
    await page.getByLabel('Lọc theo nội dung').fill('Ngập đường 149');
    await expect.poll(() => rows.count()).toBe(1);
    await page.context().close();
  });
});
