// Signing in to the console through app.inject(), over a real registry: a user's password opens a session
// cookie (HttpOnly, SameSite=Strict) that the API takes in place of a bearer token, with the user's role;
// a wrong password and an unknown user get the same refusal, and a user name that keeps failing waits; a
// change sent with the cookie from another site is refused; signing out ends the session; an admin manages
// the users, and disabling one ends their sessions at once.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UserRecord } from '../devices/index.ts';
import { errorOf, raiseKimLongAlert, startHarness, type Harness } from '../test/kits/api-harness.ts';
import { SIGN_IN_LIMITS } from './session-routes.ts';

let h: Harness;
let alertId: number;
const HOST = 'ops.hue.example:8080';
const PASSWORD = 'trực ban đêm mùa lũ';

beforeAll(async () => {
  h = await startHarness('session');
  alertId = await raiseKimLongAlert(h);
  for (const [username, role] of [
    ['truc-ban', 'operator'],
    ['quan-sat', 'viewer'],
  ] as const)
    await h.registry.users.create({ username, name: `Người dùng ${username}`, role, password: PASSWORD });
});
afterAll(async () => {
  await h.close();
});

async function signIn(username: string, password = PASSWORD) {
  const res = await h.request({ method: 'POST', url: '/api/session', body: { username, password } });
  const header = res.headers['set-cookie'];
  const setCookie = typeof header === 'string' ? header : '';
  return { res, setCookie, cookie: setCookie.split(';')[0]! };
}

const withCookie = (cookie: string, extra: Record<string, string> = {}) => ({ cookie, host: HOST, ...extra });

describe('/api/session', () => {
  it('opens a session cookie for a user’s password, which the API takes with the user’s role', async () => {
    const { res, setCookie, cookie } = await signIn('truc-ban');
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      user: { username: 'truc-ban', role: 'operator' },
      expiresAt: expect.any(String) as unknown,
    });
    expect(setCookie).toMatch(
      /^city_session=[A-Za-z0-9_-]{43}; Path=\/; HttpOnly; SameSite=Strict; Max-Age=43200$/,
    );
    const me = await h.request({ url: '/api/session', headers: withCookie(cookie) });
    expect(UserRecord.parse((me.body as { user: unknown }).user).name).toBe('Người dùng truc-ban');
    const ack = await h.request({
      method: 'POST',
      url: `/api/alerts/${alertId}/acknowledge`,
      headers: withCookie(cookie, { origin: `http://${HOST}` }),
      body: { note: 'đội ứng cứu đã đến' },
    });
    expect(ack.status).toBe(200);
    expect(ack.body).toMatchObject({ alert: { acknowledgedBy: 'Người dùng truc-ban' } });
  });

  it('keeps a viewer to what a viewer may do', async () => {
    const { cookie } = await signIn('quan-sat');
    expect((await h.request({ url: '/api/alerts', headers: withCookie(cookie) })).status).toBe(200);
    const refused = await h.request({
      method: 'POST',
      url: `/api/alerts/${alertId}/resolve`,
      headers: withCookie(cookie),
      body: {},
    });
    expect(errorOf(refused).code).toBe('API_ERR_FORBIDDEN');
  });

  it('refuses a change sent with the cookie from another site', async () => {
    const { cookie } = await signIn('truc-ban');
    const res = await h.request({
      method: 'POST',
      url: `/api/alerts/${alertId}/resolve`,
      headers: withCookie(cookie, { origin: 'https://evil.example' }),
      body: { note: 'forged' },
    });
    expect(errorOf(res).code).toBe('API_ERR_CROSS_SITE');
    expect((await h.alerts.get(alertId))!.alert.state).not.toBe('resolved');
  });

  it('gives a wrong password and an unknown user the same answer, and makes a failing name wait', async () => {
    const wrong = await signIn('truc-ban', 'not the password');
    const unknown = await signIn('nobody-here');
    expect([errorOf(wrong.res), errorOf(unknown.res)]).toEqual([
      { code: 'API_ERR_SIGN_IN', message: 'the user name or the password is wrong' },
      { code: 'API_ERR_SIGN_IN', message: 'the user name or the password is wrong' },
    ]);
    expect(wrong.setCookie).toBe('');
    for (let i = 0; i < SIGN_IN_LIMITS.perUser; i++) await signIn('quan-sat', 'guess number one');
    const locked = await signIn('quan-sat', 'guess number two');
    expect(errorOf(locked.res)).toMatchObject({
      code: 'API_ERR_SIGN_IN_LOCKED',
      details: { retryAfterS: 900 },
    });
    expect(locked.res.headers['retry-after']).toBe('900');
    // Even the right password waits: the name is locked, not the guess.
    expect(errorOf((await signIn('quan-sat')).res).code).toBe('API_ERR_SIGN_IN_LOCKED');
  });

  it('ends the session on sign-out, clearing the cookie', async () => {
    const { cookie } = await signIn('truc-ban');
    const out = await h.request({ method: 'DELETE', url: '/api/session', headers: withCookie(cookie) });
    expect(out.status).toBe(204);
    expect(out.headers['set-cookie']).toContain(
      'city_session=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0',
    );
    expect(errorOf(await h.request({ url: '/api/alerts', headers: withCookie(cookie) })).code).toBe(
      'API_ERR_UNAUTHORIZED',
    );
  });
});

describe('/api/users', () => {
  it('lets an admin create, change, disable and remove users; disabling ends their sessions', async () => {
    const body = { username: 'ky-su.hepco', role: 'engineer', password: 'đèn Lê Lợi sáng cả đêm' };
    expect(errorOf(await h.request({ method: 'POST', url: '/api/users', as: 'engineer', body })).code).toBe(
      'API_ERR_FORBIDDEN',
    );
    const created = await h.request({ method: 'POST', url: '/api/users', as: 'admin', body });
    expect(created.status).toBe(201);
    expect(JSON.stringify(created.body)).not.toContain(body.password);
    expect(errorOf(await h.request({ method: 'POST', url: '/api/users', as: 'admin', body })).code).toBe(
      'API_ERR_CONFLICT',
    );
    const { cookie } = await signIn('ky-su.hepco', body.password);
    const url = '/api/users/ky-su.hepco';
    const changed = await h.request({
      method: 'PATCH',
      url,
      as: 'admin',
      body: { language: 'en', name: 'HEPCO engineer' },
    });
    expect(changed.body).toMatchObject({ language: 'en', name: 'HEPCO engineer', role: 'engineer' });
    expect((await h.request({ url: '/api/session', headers: withCookie(cookie) })).status).toBe(200);
    await h.request({ method: 'PATCH', url, as: 'admin', body: { disabled: true } });
    expect(errorOf(await h.request({ url: '/api/session', headers: withCookie(cookie) })).code).toBe(
      'API_ERR_UNAUTHORIZED',
    );
    expect(errorOf((await signIn('ky-su.hepco', body.password)).res).code).toBe('API_ERR_SIGN_IN');
    const list = await h.request({ url: '/api/users', as: 'admin' });
    expect((list.body as { users: Array<{ username: string }> }).users.map((u) => u.username)).toEqual([
      'ky-su.hepco',
      'quan-sat',
      'truc-ban',
    ]);
    expect((await h.request({ method: 'DELETE', url, as: 'admin' })).status).toBe(204);
    expect(errorOf(await h.request({ method: 'DELETE', url, as: 'admin' })).code).toBe(
      'API_ERR_USER_NOT_FOUND',
    );
  });
});

describe('the console’s routes', () => {
  it('say how to build the console when it is not built, and give its settings to anyone signed in', async () => {
    const root = await h.request({ url: '/' });
    expect([root.status, root.headers.location]).toEqual([302, '/console/']);
    const page = await h.request({ url: '/console/' });
    expect(page.status).toBe(503);
    expect(page.body).toContain('npm run build:console');
    const settings = await h.request({ url: '/api/console/settings', as: 'viewer' });
    expect(settings.body).toEqual({
      map: {
        tiles: 'https://tile.openstreetmap.org/{z}/{x}/{y}.png',
        attribution: '© OpenStreetMap contributors',
      },
      timeZone: 'Asia/Ho_Chi_Minh',
    });
    expect(errorOf(await h.request({ url: '/api/console/settings' })).code).toBe('API_ERR_UNAUTHORIZED');
  });
});
