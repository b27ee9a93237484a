// Users on a real registry file: a password is kept only as a scrypt hash; signing in checks it, the
// same way for an unknown user name; a session opens, lasts until its end, and ends when the user signs
// out, is disabled, changes role or password, or is removed; users and open sessions survive a reopen.
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isRegistryError } from './errors.ts';
import { openRegistry, type Registry } from './registry.ts';

let dir: string;
let file: string;
let registry: Registry;
const HOUR = 3_600_000;
const T0 = Date.parse('2026-12-07T01:00:00Z');
const PASSWORD = 'mưa lớn ở Kim Long 2025';

beforeEach(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'users-'));
  file = path.join(dir, 'registry.db');
  registry = await openRegistry({ file });
});
afterEach(async () => {
  await registry.close();
  await fs.rm(dir, { recursive: true, force: true });
});

const operator = {
  username: 'truc-ban.pctt',
  name: 'Trực ban PCTT',
  role: 'operator',
  password: PASSWORD,
} as const;

describe('users', () => {
  it('keep a password only as a scrypt hash, and never show it', async () => {
    const user = await registry.users.create(operator);
    expect(user).toEqual({
      username: 'truc-ban.pctt',
      name: 'Trực ban PCTT',
      role: 'operator',
      language: 'vi',
      disabled: false,
      created_at: expect.any(String) as unknown,
      updated_at: expect.any(String) as unknown,
    });
    const raw = new Database(file, { readonly: true });
    const row = raw.prepare('SELECT record, password_hash FROM users').get() as Record<string, string>;
    raw.close();
    expect(row.password_hash).toMatch(/^\$scrypt\$ln=14,r=8,p=1\$/);
    expect(JSON.stringify(row)).not.toContain(PASSWORD);
  });

  it('refuse a taken user name, a short password and a malformed name', async () => {
    await registry.users.create(operator);
    const codeOf = async (run: () => Promise<unknown>) =>
      run().then(
        () => undefined,
        (err: unknown) => (isRegistryError(err) ? err.code : String(err)),
      );
    expect(await codeOf(() => registry.users.create(operator))).toBe('REGISTRY_ERR_DUPLICATE');
    expect(
      await codeOf(() => registry.users.create({ ...operator, username: 'x2', password: 'short' })),
    ).toBe('REGISTRY_ERR_INVALID');
    expect(await codeOf(() => registry.users.create({ ...operator, username: 'Trực Ban' }))).toBe(
      'REGISTRY_ERR_INVALID',
    );
  });

  it('are verified by their password, not when disabled, and an unknown name is simply refused', async () => {
    await registry.users.create(operator);
    expect((await registry.users.verify('truc-ban.pctt', PASSWORD))?.role).toBe('operator');
    expect(await registry.users.verify('truc-ban.pctt', `${PASSWORD}!`)).toBeUndefined();
    expect(await registry.users.verify('nobody', PASSWORD)).toBeUndefined();
    await registry.users.update('truc-ban.pctt', { disabled: true });
    expect(await registry.users.verify('truc-ban.pctt', PASSWORD)).toBeUndefined();
  });
});

describe('sessions', () => {
  it('last until their end, and survive a reopen', async () => {
    await registry.users.create(operator);
    const { token, expiresAt } = await registry.users.openSession('truc-ban.pctt', T0, 8 * HOUR);
    expect(expiresAt).toBe(T0 + 8 * HOUR);
    expect(registry.users.session(token, T0 + HOUR)?.user.username).toBe('truc-ban.pctt');
    expect(registry.users.session(token, T0 + 8 * HOUR)).toBeUndefined();
    expect(registry.users.session(`${token}x`, T0)).toBeUndefined();
    await registry.close();
    registry = await openRegistry({ file });
    expect(registry.users.session(token, T0 + HOUR)?.user.name).toBe('Trực ban PCTT');
  });

  it('end on sign-out, a new password, a new role, disabling and removal', async () => {
    await registry.users.create(operator);
    const open = async () => (await registry.users.openSession('truc-ban.pctt', T0, HOUR)).token;
    const alive = (token: string) => registry.users.session(token, T0 + 1) !== undefined;

    const signedOut = await open();
    await registry.users.endSession(signedOut);
    expect(alive(signedOut)).toBe(false);

    for (const change of [
      { password: 'a new passphrase of mine' },
      { role: 'viewer' as const },
      { disabled: true },
    ]) {
      const token = await open();
      const other = await open();
      expect(alive(token)).toBe(true);
      await registry.users.update('truc-ban.pctt', change);
      expect([alive(token), alive(other)]).toEqual([false, false]);
      await registry.users.update('truc-ban.pctt', { disabled: false });
    }

    const token = await open();
    await registry.users.remove('truc-ban.pctt');
    expect(alive(token)).toBe(false);
    await registry.close();
    registry = await openRegistry({ file });
    expect(registry.users.list()).toEqual([]);
  });
});
