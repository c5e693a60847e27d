import { createHash, randomBytes, randomInt, timingSafeEqual } from 'node:crypto';
import type { Database } from '../../db/database.js';
import { PocketdError, fieldError, notFound } from '../../shared/errors.js';
import { nowIso } from '../clock.js';
import type { SecretBox } from './secret-box.js';
import { base32Decode, base32Encode, matchStep, otpauthUri } from './totp.js';

/** What a sign-in's second factor says: none needed, one needed and missing, or a wrong/used one. */
export type SecondFactorVerdict = 'ok' | 'required' | 'bad';

const RECOVERY_COUNT = 10;
const RECOVERY_ALPHABET = 'abcdefghjkmnpqrstuvwxyz23456789';
/** A recovery code: 10 characters of 31 (49 bits), shown as xxxxx-xxxxx; typed with or without the dash. */
const newRecoveryCode = () => {
  const c = Array.from({ length: 10 }, () => RECOVERY_ALPHABET[randomInt(RECOVERY_ALPHABET.length)]).join('');
  return `${c.slice(0, 5)}-${c.slice(5)}`;
};
const normalizeRecovery = (code: string) => code.trim().toLowerCase().replace(/-/g, '');
const hashRecovery = (code: string) =>
  createHash('sha256')
    .update(`pocketd-recovery:${normalizeRecovery(code)}`)
    .digest('hex');
export const RECOVERY_PATTERN = /^[a-z2-9]{5}-?[a-z2-9]{5}$/i;

/**
 * Admins' TOTP second factor (RFC 6238, totp.ts). The secret is shown once, at enrolment, and is kept
 * sealed (secret-box.ts); it is in no answer after that. A code is taken once: its step is remembered and
 * a code of that step or an earlier one is refused. Recovery codes are kept as hashes and each works once.
 * Attempts are bounded by the caller (the sign-in's lock-out, auth.ts `guard`).
 */
export function createTwoFactor(db: Database, box: SecretBox, opts: { issuer?: string; now?: () => number } = {}) {
  const issuer = opts.issuer ?? 'pocketd';
  const nowSec = () => Math.floor((opts.now?.() ?? Date.now()) / 1000);
  const aad = (userId: number) => `totp:${userId}`;
  const userOf = async (userId: number) => {
    const u = await db.selectFrom('users').selectAll().where('id', '=', userId).executeTakeFirst();
    if (!u) throw notFound('admin', String(userId));
    return u;
  };

  async function status(userId: number) {
    const u = await userOf(userId);
    const left = u.totp_recovery ? (JSON.parse(u.totp_recovery) as string[]).length : 0;
    return { enabled: u.totp_secret !== null, enabled_at: u.totp_enabled_at, recovery_codes_left: left };
  }

  /** A new secret for the admin, waiting for its first code; shown this once (as text and as an otpauth URI). */
  async function enrol(userId: number) {
    const u = await userOf(userId);
    if (u.totp_secret !== null)
      throw new PocketdError('TOTP_ENABLED', 'two-factor sign-in is on already; turn it off first');
    const secret = base32Encode(randomBytes(20));
    await db
      .updateTable('users')
      .set({ totp_pending: await box.seal(Buffer.from(secret), aad(userId)) })
      .where('id', '=', userId)
      .execute();
    return { secret, otpauth_uri: otpauthUri(issuer, u.email, secret) };
  }

  /** The first code confirms the pending secret: two-factor sign-in is on, and the recovery codes are shown once. */
  async function confirm(userId: number, code: string): Promise<{ recovery_codes: string[] }> {
    const u = await userOf(userId);
    if (u.totp_secret !== null) throw new PocketdError('TOTP_ENABLED', 'two-factor sign-in is on already');
    if (u.totp_pending === null) throw new PocketdError('TOTP_NOT_ENROLLED', 'start the enrolment first');
    const key = base32Decode((await box.open(u.totp_pending, aad(userId))).toString());
    const step = matchStep(key, code, nowSec());
    if (step === null)
      throw fieldError('code', 'WRONG_CODE', 'the code does not match; check the device clock and try the next code');
    const codes = Array.from({ length: RECOVERY_COUNT }, newRecoveryCode);
    const r = await db
      .updateTable('users')
      .set({
        totp_secret: u.totp_pending,
        totp_pending: null,
        totp_enabled_at: nowIso(),
        totp_last_step: step,
        totp_recovery: JSON.stringify(codes.map(hashRecovery)),
      })
      .where('id', '=', userId)
      .where('totp_pending', '=', u.totp_pending)
      .executeTakeFirst();
    if (r.numUpdatedRows === 0n)
      throw new PocketdError('TOTP_NOT_ENROLLED', 'the enrolment changed meanwhile; start again');
    return { recovery_codes: codes };
  }

  /** Checks a TOTP code (each step once) or a recovery code (each once); true when it was good and is now used. */
  async function use(userId: number, code: string): Promise<boolean> {
    const u = await userOf(userId);
    if (u.totp_secret === null) return false;
    if (/^\d{6}$/.test(code)) {
      // A secret that does not open (moved from another admin's row, a lost key) matches no code.
      const key = await box.open(u.totp_secret, aad(userId)).then(
        (k) => base32Decode(k.toString()),
        () => null,
      );
      const step = key && matchStep(key, code, nowSec());
      if (step === null || key === null) return false;
      // Taken only if no code of this step or a later one was: a replayed code finds nothing to update.
      const r = await db
        .updateTable('users')
        .set({ totp_last_step: step })
        .where('id', '=', userId)
        .where((eb) => eb.or([eb('totp_last_step', 'is', null), eb('totp_last_step', '<', step)]))
        .executeTakeFirst();
      return r.numUpdatedRows === 1n;
    }
    if (!RECOVERY_PATTERN.test(code.trim()) || !u.totp_recovery) return false;
    const hashes = JSON.parse(u.totp_recovery) as string[];
    const h = Buffer.from(hashRecovery(code));
    const i = hashes.findIndex((x) => timingSafeEqual(Buffer.from(x), h));
    if (i < 0) return false;
    const r = await db
      .updateTable('users')
      .set({ totp_recovery: JSON.stringify(hashes.filter((_, j) => j !== i)) })
      .where('id', '=', userId)
      .where('totp_recovery', '=', u.totp_recovery)
      .executeTakeFirst();
    return r.numUpdatedRows === 1n;
  }

  /** For the sign-in: an admin without a second factor passes; with one, a good unused code is needed. */
  async function check(userId: number, code: string | undefined): Promise<SecondFactorVerdict> {
    const u = await userOf(userId);
    if (u.totp_secret === null) return 'ok';
    if (code === undefined || code.trim() === '') return 'required';
    return (await use(userId, code)) ? 'ok' : 'bad';
  }

  /** Turns it off (the caller checked a code or the password): secret, pending secret and recovery codes go. */
  async function clear(userId: number): Promise<boolean> {
    const r = await db
      .updateTable('users')
      .set({ totp_secret: null, totp_pending: null, totp_enabled_at: null, totp_last_step: null, totp_recovery: null })
      .where('id', '=', userId)
      .executeTakeFirst();
    return r.numUpdatedRows === 1n;
  }

  /** New recovery codes (the old ones stop working), shown once. */
  async function renewRecovery(userId: number): Promise<{ recovery_codes: string[] }> {
    const u = await userOf(userId);
    if (u.totp_secret === null) throw new PocketdError('TOTP_NOT_ENROLLED', 'two-factor sign-in is off');
    const codes = Array.from({ length: RECOVERY_COUNT }, newRecoveryCode);
    await db
      .updateTable('users')
      .set({ totp_recovery: JSON.stringify(codes.map(hashRecovery)) })
      .where('id', '=', userId)
      .execute();
    return { recovery_codes: codes };
  }

  return { status, enrol, confirm, use, check, clear, renewRecovery };
}

export type TwoFactor = ReturnType<typeof createTwoFactor>;
