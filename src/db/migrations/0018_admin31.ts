import type { Kysely } from 'kysely';

/**
 * Admins' second factor (#31): a TOTP secret sealed with the store's own key (secret-box.ts), one
 * waiting for its first code while enrolling, the last step a code was taken from (a code is used
 * once), and the hashes of the unused recovery codes (a JSON array).
 */
export async function up(db: Kysely<any>): Promise<void> {
  for (const [c, t] of [
    ['totp_secret', 'text'],
    ['totp_pending', 'text'],
    ['totp_enabled_at', 'text'],
    ['totp_last_step', 'integer'],
    ['totp_recovery', 'text'],
  ] as const)
    await db.schema.alterTable('users').addColumn(c, t).execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  for (const c of ['totp_recovery', 'totp_last_step', 'totp_enabled_at', 'totp_pending', 'totp_secret'])
    await db.schema.alterTable('users').dropColumn(c).execute();
}
