// API bearer tokens. They are 256-bit random strings, so storing their SHA-256 is enough: nothing can be
// learnt from the table, and a lookup by digest leaks no timing about the token itself.
import { z } from 'zod';
import { parseInput } from './errors.ts';
import { ApiRole } from './schemas.ts';
import { newSecret, sha256Hex } from './secrets.ts';

export interface ApiTokenInfo {
  readonly role: ApiRole;
  readonly label: string;
}

const Label = z.string().trim().min(1).max(100);
/** A token given from outside (CITY_ADMIN_TOKEN) must not be guessable by trying: at least 16 characters. */
const ExternalToken = z.string().min(16).max(512);
const MAX_TOKEN_LENGTH = 512;

export interface ApiTokens {
  create(role: ApiRole, label: string): Promise<string>;
  verify(token: string): ApiTokenInfo | undefined;
  ensure(token: string, role: ApiRole, label: string): Promise<void>;
  /** The stored tokens read again (another node changed them). */
  replace(rows: readonly TokenRow[]): void;
}

type TokenRow = { token_sha256: string; role: ApiRole; label: string };

export function createApiTokens(
  rows: readonly TokenRow[],
  save: (digest: string, info: ApiTokenInfo) => Promise<void>,
): ApiTokens {
  const tokens = new Map<string, ApiTokenInfo>();
  const replace = (all: readonly TokenRow[]) => {
    tokens.clear();
    for (const t of all) tokens.set(t.token_sha256, Object.freeze({ role: t.role, label: t.label }));
  };
  replace(rows);

  async function store(token: string, role: ApiRole, label: string): Promise<void> {
    const info = Object.freeze({
      role: parseInput(ApiRole, role, 'role'),
      label: parseInput(Label, label, 'label'),
    });
    const digest = sha256Hex(token);
    await save(digest, info);
    tokens.set(digest, info);
  }

  return {
    async create(role, label) {
      const token = newSecret();
      await store(token, role, label);
      return token;
    },
    verify(token) {
      if (typeof token !== 'string' || token.length === 0 || token.length > MAX_TOKEN_LENGTH)
        return undefined;
      return tokens.get(sha256Hex(token));
    },
    ensure: (token, role, label) =>
      store(parseInput(ExternalToken, token, 'API token (at least 16 characters)'), role, label),
    replace,
  };
}
