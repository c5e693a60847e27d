import type { Database } from '../../db/database.js';
import { PocketdError, notFound } from '../../shared/errors.js';
import { nowIso } from '../clock.js';
import type { AuthService } from './auth.js';
import { hashPassword, verifyPassword } from './passwords.js';
import type { TwoFactor } from './two-factor.js';

export interface AdminInfo {
  id: number;
  email: string;
  created_at: string;
  two_factor: boolean;
  /** Sessions that are valid now. */
  sessions: number;
}

/**
 * The admins (every user is one): list, add, remove, passwords, and the second factor's switches.
 * The last admin is never removed, so nobody is locked out of the dashboard by a click; a removed
 * admin's sessions and the tokens it made end at once. A new password ends the admin's other sessions.
 */
export function createAdmins(db: Database, auth: AuthService, twoFactor: TwoFactor) {
  /** Ends tokens of an admin (all, or its sessions), except `keep` (the request's own session). */
  async function endTokens(userId: number, opts: { sessionsOnly: boolean; keep?: number }): Promise<void> {
    let q = db
      .updateTable('tokens')
      .set({ revoked_at: nowIso() })
      .where('user_id', '=', userId)
      .where('revoked_at', 'is', null)
      .returning('id');
    if (opts.sessionsOnly) q = q.where('kind', '=', 'session');
    if (opts.keep !== undefined) q = q.where('id', '!=', opts.keep);
    auth.forget((await q.execute()).map((r) => r.id));
  }

  const proofOf = async (userId: number) => {
    const u = await db
      .selectFrom('users')
      .select(['id', 'email', 'password_hash'])
      .where('id', '=', userId)
      .executeTakeFirst();
    if (!u) throw notFound('admin', String(userId));
    return u;
  };

  async function list(): Promise<AdminInfo[]> {
    const now = nowIso();
    const rows = await db
      .selectFrom('users')
      .select(['id', 'email', 'created_at', 'totp_secret'])
      .select((eb) =>
        eb
          .selectFrom('tokens')
          .select((t) => t.fn.countAll<number>().as('n'))
          .whereRef('tokens.user_id', '=', 'users.id')
          .where('kind', '=', 'session')
          .where('revoked_at', 'is', null)
          .where('expires_at', '>', now)
          .as('sessions'),
      )
      .orderBy('id')
      .execute();
    return rows.map((r) => ({
      id: r.id,
      email: r.email,
      created_at: r.created_at,
      two_factor: r.totp_secret !== null,
      sessions: Number(r.sessions ?? 0),
    }));
  }

  async function byEmail(email: string) {
    const u = await db
      .selectFrom('users')
      .select(['id', 'email'])
      .where('email', '=', email.trim().toLowerCase())
      .executeTakeFirst();
    if (!u) throw notFound('admin', email.trim().toLowerCase());
    return u;
  }

  /** Removes an admin unless it is the last one; its sessions and tokens end first. */
  async function remove(id: number): Promise<{ email: string }> {
    const user = await db.selectFrom('users').select(['id', 'email']).where('id', '=', id).executeTakeFirst();
    if (!user) throw notFound('admin', String(id));
    const ended = await db.transaction().execute(async (trx) => {
      const { n } = await trx
        .selectFrom('users')
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .executeTakeFirstOrThrow();
      if (Number(n) <= 1)
        throw new PocketdError('LAST_ADMIN', `${user.email} is the only admin; add another admin before removing it`);
      const tokens = await trx.selectFrom('tokens').select('id').where('user_id', '=', id).execute();
      await trx
        .updateTable('tokens')
        .set({ revoked_at: nowIso() })
        .where('user_id', '=', id)
        .where('revoked_at', 'is', null)
        .execute();
      await trx.deleteFrom('users').where('id', '=', id).execute();
      return tokens.map((t) => t.id);
    });
    auth.forget(ended);
    return { email: user.email };
  }

  /** The host's operator sets a password (command line): every session of the admin ends. */
  async function setPassword(email: string, password: string): Promise<void> {
    const u = await byEmail(email);
    await db
      .updateTable('users')
      .set({ password_hash: await hashPassword(password) })
      .where('id', '=', u.id)
      .execute();
    await endTokens(u.id, { sessionsOnly: true });
  }

  /**
   * A signed-in admin changes its own password: the current one is checked under the sign-in's lock-out;
   * its other sessions end (a thief's session too), the one asking stays.
   */
  async function changeOwn(input: {
    userId: number;
    current: string;
    next: string;
    keepToken: number;
    address: string;
  }) {
    const u = await proofOf(input.userId);
    await auth.guard(
      input.address,
      u.email,
      () => verifyPassword(input.current, u.password_hash),
      'current_password',
      'the current password is wrong',
    );
    await db
      .updateTable('users')
      .set({ password_hash: await hashPassword(input.next) })
      .where('id', '=', u.id)
      .execute();
    await endTokens(u.id, { sessionsOnly: true, keep: input.keepToken });
  }

  /** Starts enrolment after the password is given again (a left-open session cannot lock its admin out). */
  async function enrolTwoFactor(input: { userId: number; password: string; address: string }) {
    const u = await proofOf(input.userId);
    const check = () => verifyPassword(input.password, u.password_hash);
    await auth.guard(input.address, u.email, check, 'password', 'the password is wrong');
    return twoFactor.enrol(u.id);
  }

  /** Turns the second factor off after a good code (TOTP or recovery) or the password, under the lock-out. */
  async function disableTwoFactor(input: { userId: number; code?: string; password?: string; address: string }) {
    const u = await proofOf(input.userId);
    const { code, password } = input;
    const check = async () =>
      code !== undefined
        ? twoFactor.use(u.id, code)
        : password !== undefined && verifyPassword(password, u.password_hash);
    const [field, what] =
      code !== undefined ? ['code', 'the code is wrong or was used already'] : ['password', 'the password is wrong'];
    await auth.guard(input.address, u.email, check, field, what);
    await twoFactor.clear(u.id);
  }

  /** New recovery codes for a good code, under the lock-out. */
  async function renewRecovery(input: { userId: number; code: string; address: string }) {
    const u = await proofOf(input.userId);
    await auth.guard(
      input.address,
      u.email,
      () => twoFactor.use(u.id, input.code),
      'code',
      'the code is wrong or was used already',
    );
    return twoFactor.renewRecovery(u.id);
  }

  /** The host's operator turns off the second factor of an admin who lost its device and its recovery codes. */
  async function resetTwoFactor(email: string): Promise<void> {
    await twoFactor.clear((await byEmail(email)).id);
  }

  return {
    list,
    remove,
    setPassword,
    changeOwn,
    enrolTwoFactor,
    disableTwoFactor,
    renewRecovery,
    resetTwoFactor,
    create: auth.createUser,
    twoFactorStatus: twoFactor.status,
    confirmTwoFactor: twoFactor.confirm,
  };
}

export type Admins = ReturnType<typeof createAdmins>;
