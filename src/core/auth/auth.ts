import { setTimeout as sleep } from 'node:timers/promises';
import type { Database } from '../../db/database.js';
import type { TokenKind, TokenRow } from '../../db/schema.js';
import { PocketdError, fieldError, notFound } from '../../shared/errors.js';
import { isoIn, nowIso } from '../clock.js';
import { DUMMY_HASH, hashPassword, hashToken, newTokenSecret, verifyPassword } from './passwords.js';
import { appScopes, parseAppScope, scopeSchema } from '../../contract/scopes.js';
import { createLoginThrottle } from './login-throttle.js';
import type { Principal, TokenInfo } from './principal.js';

export type { Principal, TokenInfo } from './principal.js';

export interface AuthOptions {
  sessionDays: number;
  /** Failures of one address at one account before the pair is blocked. */
  maxFailures: number;
  /** Failures of one address across accounts before the address is blocked (default ten times maxFailures). */
  maxFailuresPerAddress?: number;
  lockSeconds: number;
}

const DAY = 86_400_000;
const RECHECK_MS = 10_000;
const toInfo = (t: TokenRow): TokenInfo => ({
  id: t.id,
  name: t.name,
  kind: t.kind,
  scope: t.scope,
  prefix: t.prefix,
  created_at: t.created_at,
  expires_at: t.expires_at,
  last_used_at: t.last_used_at,
});

/** Users, passwords, bearer tokens and the login lock-out. */
export function createAuthService(db: Database, opts: AuthOptions) {
  async function createUser(email: string, password: string): Promise<{ id: number; email: string }> {
    const normalized = email.trim().toLowerCase();
    const existing = await db.selectFrom('users').select('id').where('email', '=', normalized).executeTakeFirst();
    if (existing) throw new PocketdError('EMAIL_TAKEN', `a user with email ${normalized} exists`);
    const row = await db
      .insertInto('users')
      .values({ email: normalized, password_hash: await hashPassword(password), created_at: nowIso() })
      .returning(['id', 'email'])
      .executeTakeFirstOrThrow();
    return row;
  }

  async function issueToken(input: {
    name: string;
    scope: string;
    kind: TokenKind;
    days: number;
    userId?: number | null;
  }) {
    scopeSchema.parse(input.scope);
    // An app's token belongs to that app's identity, not its name: made only for an app that exists.
    const scoped = parseAppScope(input.scope);
    let appId: string | null = null;
    if (scoped) {
      const a = await db.selectFrom('apps').select('app_id').where('name', '=', scoped.app).executeTakeFirst();
      if (!a) throw fieldError('scope', 'UNKNOWN_APP', `there is no app named ${scoped.app}`);
      appId = a.app_id;
    }
    // A name says which token it is (the list, the audit log, a revoke): two valid API tokens never share one.
    if (input.kind === 'api') {
      const same = await db
        .selectFrom('tokens')
        .select('id')
        .where('name', '=', input.name)
        .where('kind', '=', 'api')
        .where('revoked_at', 'is', null)
        .where('expires_at', '>', nowIso())
        .executeTakeFirst();
      if (same)
        throw fieldError('name', 'NAME_TAKEN', `a token named ${input.name} exists; revoke it or pick another name`);
    }
    const secret = newTokenSecret();
    const row = await db
      .insertInto('tokens')
      .values({
        name: input.name,
        kind: input.kind,
        hash: hashToken(secret),
        prefix: secret.slice(0, 10),
        scope: input.scope,
        app_id: appId,
        user_id: input.userId ?? null,
        created_at: nowIso(),
        expires_at: isoIn(input.days * DAY),
      })
      .returningAll()
      .executeTakeFirstOrThrow();
    return { token: secret, info: toInfo(row) };
  }

  const throttle = createLoginThrottle(db, {
    pairMax: opts.maxFailures,
    addressMax: opts.maxFailuresPerAddress ?? opts.maxFailures * 10,
    lockSeconds: opts.lockSeconds,
  });

  /**
   * Checks a password. The attempt is counted before the password is checked (a burst cannot pass the
   * bound); failures slow down, then block the (address, account) pair, and with a higher bound the address.
   */
  async function login(email: string, password: string, address: string) {
    const normalized = email.trim().toLowerCase();
    const attempt = await throttle.reserve(address, normalized);
    const user = await db.selectFrom('users').selectAll().where('email', '=', normalized).executeTakeFirst();
    const ok = await verifyPassword(password, user?.password_hash ?? DUMMY_HASH).catch(() => false);
    if (!user || !ok) {
      const count = await attempt.failed();
      await sleep(Math.min(2000, 100 * 2 ** Math.min(count, 5)));
      if (count >= opts.maxFailures) {
        throw new PocketdError('TOO_MANY_ATTEMPTS', `too many failed sign-ins; locked for ${opts.lockSeconds} s`);
      }
      throw new PocketdError('INVALID_CREDENTIALS', 'email or password is wrong');
    }
    await attempt.succeeded();
    const { token, info } = await issueToken({
      name: `session:${normalized}`,
      scope: 'admin',
      kind: 'session',
      days: opts.sessionDays,
      userId: user.id,
    });
    return { token, expires_at: info.expires_at };
  }

  // Tokens this process has seen, by hash: an authenticated request costs no query. Revocation goes
  // through `revoke` here (sign-out included), which forgets the token at once; expiry is checked at
  // every use. Only tokens that exist are kept, so guessing secrets cannot grow it.
  // Another process (the command line: a password reset, a local command's token) changes the store too:
  // what is known is checked against it again after `RECHECK_MS`.
  const known = new Map<string, { principal: Principal; expires_at: string; usedAt: number; checkedAt: number }>();

  /** Resolves a bearer secret to its principal, or null when unknown, expired or revoked. */
  async function authenticate(secret: string): Promise<Principal | null> {
    if (!/^pkd_[A-Za-z0-9_-]{43}$/.test(secret)) return null;
    const hash = hashToken(secret);
    const now = nowIso();
    let entry = known.get(hash);
    if (!entry) {
      const row = await db
        .selectFrom('tokens')
        .leftJoin('users', 'users.id', 'tokens.user_id')
        .leftJoin('apps', 'apps.app_id', 'tokens.app_id')
        .select([
          'apps.name as app_name',
          'tokens.id',
          'tokens.name',
          'tokens.scope',
          'tokens.kind',
          'tokens.user_id',
          'tokens.expires_at',
          'tokens.revoked_at',
          'tokens.last_used_at',
          'users.email',
        ])
        .where('tokens.hash', '=', hash)
        .executeTakeFirst();
      if (!row || row.revoked_at !== null) return null;
      // An app's token works only for the app it was made for: not for a later app that took the name.
      const scoped = parseAppScope(row.scope);
      if (scoped && scoped.app !== row.app_name) return null;
      if (known.size >= 10_000) known.clear();
      entry = {
        principal: {
          tokenId: row.id,
          name: row.name,
          scope: row.scope,
          kind: row.kind,
          userId: row.user_id,
          email: row.email,
        },
        expires_at: row.expires_at,
        usedAt: row.last_used_at ? Date.parse(row.last_used_at) : 0,
        checkedAt: Date.now(),
      };
      known.set(hash, entry);
    } else if (Date.now() - entry.checkedAt >= RECHECK_MS) {
      const row = await db
        .selectFrom('tokens')
        .select('revoked_at')
        .where('id', '=', entry.principal.tokenId)
        .executeTakeFirst();
      if (!row || row.revoked_at !== null) {
        known.delete(hash);
        return null;
      }
      entry.checkedAt = Date.now();
    }
    if (entry.expires_at <= now) {
      known.delete(hash);
      return null;
    }
    // Last use is written at most once a minute per token, and not on the request's path.
    if (Date.now() - entry.usedAt >= 60_000) {
      entry.usedAt = Date.now();
      void db
        .updateTable('tokens')
        .set({ last_used_at: now })
        .where('id', '=', entry.principal.tokenId)
        .execute()
        .catch(() => undefined);
    }
    return entry.principal;
  }

  async function revoke(id: number): Promise<void> {
    for (const [hash, e] of known) if (e.principal.tokenId === id) known.delete(hash);
    const r = await db
      .updateTable('tokens')
      .set({ revoked_at: nowIso() })
      .where('id', '=', id)
      .where('revoked_at', 'is', null)
      .executeTakeFirst();
    if (r.numUpdatedRows === 0n) throw notFound('token', String(id));
  }

  /** An app was deleted: every token made for it is revoked, and forgotten at once. */
  async function revokeAppTokens(app: string): Promise<number> {
    for (const [hash, e] of known) if (parseAppScope(e.principal.scope)?.app === app) known.delete(hash);
    const r = await db
      .updateTable('tokens')
      .set({ revoked_at: nowIso() })
      .where('scope', 'in', appScopes(app))
      .where('revoked_at', 'is', null)
      .executeTakeFirst();
    return Number(r.numUpdatedRows);
  }

  async function listTokens(): Promise<TokenInfo[]> {
    const rows = await db
      .selectFrom('tokens')
      .selectAll()
      .where('kind', '=', 'api')
      .where('revoked_at', 'is', null)
      .where('expires_at', '>', nowIso())
      .orderBy('id')
      .execute();
    return rows.map(toInfo);
  }

  async function createApiToken(name: string, scope: string, days: number, userId: number | null) {
    if (days < 1 || days > 365) throw fieldError('expires_days', 'OUT_OF_RANGE', 'expires_days must be 1-365');
    return issueToken({ name, scope, kind: 'api', days, userId });
  }

  /** A short-lived admin session for one local command of the host's operator (pocketd's CLI), unlisted. */
  const issueLocal = (name: string, minutes: number) =>
    issueToken({ name, scope: 'admin', kind: 'session', days: minutes / 1440 });

  /** Sets a user's password (the host's operator, from the command line): its sessions end with it. */
  async function setPassword(email: string, password: string): Promise<void> {
    const normalized = email.trim().toLowerCase();
    const user = await db.selectFrom('users').select('id').where('email', '=', normalized).executeTakeFirst();
    if (!user) throw notFound('admin', normalized);
    await db
      .updateTable('users')
      .set({ password_hash: await hashPassword(password) })
      .where('id', '=', user.id)
      .execute();
    await db
      .updateTable('tokens')
      .set({ revoked_at: nowIso() })
      .where('user_id', '=', user.id)
      .where('kind', '=', 'session')
      .where('revoked_at', 'is', null)
      .execute();
  }

  return {
    createUser,
    setPassword,
    issueLocal,
    login,
    authenticate,
    revoke,
    revokeAppTokens,
    listTokens,
    createApiToken,
    pruneFailures: throttle.prune,
  };
}

export type AuthService = ReturnType<typeof createAuthService>;
