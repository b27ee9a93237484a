// People who sign in: operators of the operations centre, agencies' duty officers, engineers, admins. A
// user has a user name, a role (the API's roles), a language, and a password they chose, kept only as a
// scrypt hash (secrets.ts: RFC 7914, OWASP's interactive-login parameters). Signing in opens a session:
// a random token the browser keeps in an HttpOnly cookie, stored here only as its SHA-256 (like the API's
// tokens), ending at a fixed time and when the user is disabled, removed or given a new password.
// Machines keep using bearer tokens (registry-tokens.ts).
import { z } from 'zod';
import { Language } from './agencies.ts';
import { parseInput, RegistryError } from './errors.ts';
import { ApiRole } from './schemas.ts';
import { hashPassword, newSecret, sha256Hex, verifyPassword } from './secrets.ts';

export const USERNAME_PATTERN = /^[a-z0-9][a-z0-9._-]{1,39}$/;
const Username = z
  .string()
  .regex(USERNAME_PATTERN, 'lower-case letters, digits, ".", "_" and "-" (2–40), such as truc-ban.pctt');
/** Long enough that a guess per slow hash gets nowhere; any characters, a passphrase welcome. */
const Password = z.string().min(12, 'at least 12 characters').max(200);
const DisplayName = z.string().trim().min(1).max(200);

export const UserInput = z.strictObject({
  username: Username,
  /** How the user is shown (in histories too); the user name when left out. */
  name: DisplayName.optional(),
  role: ApiRole,
  /** The console's language for them until they choose another. */
  language: Language.default('vi'),
  password: Password,
});
export type UserInput = z.input<typeof UserInput>;

/** What an admin may change; a new password ends the user's sessions. */
export const UserPatch = z.strictObject({
  name: DisplayName.optional(),
  role: ApiRole.optional(),
  language: Language.optional(),
  password: Password.optional(),
  /** A disabled user cannot sign in, and their sessions end at once. */
  disabled: z.boolean().optional(),
});
export type UserPatch = z.input<typeof UserPatch>;

/** A user as anyone allowed may read it: never the password's hash. */
export const UserRecord = z.object({
  username: z.string(),
  name: z.string(),
  role: ApiRole,
  language: Language,
  disabled: z.boolean(),
  created_at: z.string(),
  updated_at: z.string(),
});
export type UserRecord = z.infer<typeof UserRecord>;

/** A signed-in user's session, as a request sees it. */
export interface Session {
  readonly user: UserRecord;
  /** ms since the epoch. */
  readonly expiresAt: number;
}

export interface UserStorage {
  insert(user: UserRecord, passwordHash: string): Promise<void>;
  update(user: UserRecord, passwordHash: string): Promise<void>;
  /** The user and their sessions. */
  delete(username: string): Promise<void>;
  insertSession(digest: string, username: string, createdAt: number, expiresAt: number): Promise<void>;
  deleteSession(digest: string): Promise<void>;
  deleteSessionsOf(username: string): Promise<void>;
  deleteSessionsBefore(expiresBefore: number): Promise<void>;
}

type UserRows = readonly { record: unknown; password_hash: string }[];
type SessionRows = readonly { token_sha256: string; username: string; expires_at: number }[];

export interface Users {
  list(): UserRecord[];
  get(username: string): UserRecord | undefined;
  /** REGISTRY_ERR_DUPLICATE when the user name is taken. */
  create(input: UserInput): Promise<UserRecord>;
  /** REGISTRY_ERR_NOT_FOUND when there is none. */
  update(username: string, patch: UserPatch): Promise<UserRecord>;
  remove(username: string): Promise<void>;
  /**
   * The user when the password is theirs and they are not disabled; undefined otherwise, after the same
   * slow hash either way, so the answer's time does not tell whether the user name exists.
   */
  verify(username: string, password: string): Promise<UserRecord | undefined>;
  /** Opens a session for `ttlMs`; the token is for the cookie and is not kept. */
  openSession(username: string, now: number, ttlMs: number): Promise<{ token: string; expiresAt: number }>;
  /** The session of a token, if it is open at `now` and its user may still sign in. */
  session(token: string, now: number): Session | undefined;
  endSession(token: string): Promise<void>;
  /** The stored users or sessions read again (another node changed them). */
  reload(rows: { users?: UserRows; sessions?: SessionRows }): void;
}

interface Row {
  readonly record: UserRecord;
  readonly hash: string;
}

/** A hash no password matches, checked against when the user name is unknown (same work, same time). */
let decoy: Promise<string> | undefined;
const decoyHash = () => (decoy ??= hashPassword(newSecret()));

export function createUsers(
  rows: UserRows,
  sessionRows: SessionRows,
  storage: UserStorage,
  iso: () => string,
): Users {
  const users = new Map<string, Row>();
  const sessions = new Map<string, { username: string; expiresAt: number }>();
  function reload(given: { users?: UserRows; sessions?: SessionRows }): void {
    if (given.users !== undefined) {
      users.clear();
      for (const r of given.users) {
        const record = UserRecord.parse(r.record);
        users.set(record.username, { record: Object.freeze(record), hash: r.password_hash });
      }
    }
    if (given.sessions !== undefined) {
      sessions.clear();
      for (const s of given.sessions)
        sessions.set(s.token_sha256, { username: s.username, expiresAt: s.expires_at });
    }
  }
  reload({ users: rows, sessions: sessionRows });

  function existing(username: string): Row {
    const row = users.get(username);
    if (row === undefined)
      throw new RegistryError('REGISTRY_ERR_NOT_FOUND', `user ${username} does not exist`);
    return row;
  }

  async function endSessionsOf(username: string): Promise<void> {
    await storage.deleteSessionsOf(username);
    for (const [digest, s] of sessions) if (s.username === username) sessions.delete(digest);
  }

  return {
    list: () => [...users.values()].map((r) => r.record).sort((a, b) => a.username.localeCompare(b.username)),
    get: (username) => users.get(username)?.record,

    async create(input) {
      const u = parseInput(UserInput, input, 'user');
      if (users.has(u.username))
        throw new RegistryError('REGISTRY_ERR_DUPLICATE', `user ${u.username} already exists`);
      const hash = await hashPassword(u.password);
      if (users.has(u.username))
        throw new RegistryError('REGISTRY_ERR_DUPLICATE', `user ${u.username} already exists`);
      const now = iso();
      const record = Object.freeze({
        username: u.username,
        name: u.name ?? u.username,
        role: u.role,
        language: u.language,
        disabled: false,
        created_at: now,
        updated_at: now,
      });
      await storage.insert(record, hash);
      users.set(record.username, { record, hash });
      return record;
    },

    async update(username, patch) {
      existing(username);
      const p = parseInput(UserPatch, patch, 'user change');
      const newHash = p.password === undefined ? undefined : await hashPassword(p.password);
      const prev = existing(username); // again: it may have been removed while the hash was made
      const record = Object.freeze({
        ...prev.record,
        ...(p.name === undefined ? {} : { name: p.name }),
        ...(p.role === undefined ? {} : { role: p.role }),
        ...(p.language === undefined ? {} : { language: p.language }),
        ...(p.disabled === undefined ? {} : { disabled: p.disabled }),
        updated_at: iso(),
      });
      const hash = newHash ?? prev.hash;
      await storage.update(record, hash);
      users.set(username, { record, hash });
      if (newHash !== undefined || record.disabled || record.role !== prev.record.role)
        await endSessionsOf(username);
      return record;
    },

    async remove(username) {
      existing(username);
      await storage.delete(username);
      for (const [digest, s] of sessions) if (s.username === username) sessions.delete(digest);
      users.delete(username);
    },

    async verify(username, password) {
      const row = typeof username === 'string' ? users.get(username) : undefined;
      const ok = await verifyPassword(String(password), row?.hash ?? (await decoyHash()));
      return ok && row !== undefined && !row.record.disabled ? row.record : undefined;
    },

    async openSession(username, now, ttlMs) {
      const { record } = existing(username);
      if (record.disabled) throw new RegistryError('REGISTRY_ERR_NOT_FOUND', `user ${username} is disabled`);
      // Sessions that ended are forgotten as new ones open: the table holds the open ones and a few more.
      await storage.deleteSessionsBefore(now);
      for (const [digest, s] of sessions) if (s.expiresAt <= now) sessions.delete(digest);
      const token = newSecret();
      const digest = sha256Hex(token);
      const expiresAt = now + ttlMs;
      await storage.insertSession(digest, username, now, expiresAt);
      sessions.set(digest, { username, expiresAt });
      return { token, expiresAt };
    },

    session(token, now) {
      if (typeof token !== 'string' || token.length === 0 || token.length > 512) return undefined;
      const s = sessions.get(sha256Hex(token));
      const row = s === undefined ? undefined : users.get(s.username);
      if (s === undefined || row === undefined || row.record.disabled || s.expiresAt <= now) return undefined;
      return { user: row.record, expiresAt: s.expiresAt };
    },

    async endSession(token) {
      const digest = sha256Hex(token);
      await storage.deleteSession(digest);
      sessions.delete(digest);
    },
    reload,
  };
}
