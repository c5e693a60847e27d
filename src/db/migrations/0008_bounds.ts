import type { Kysely } from 'kysely';

/**
 * Bounds (issue #25): the audit log and the sign-in failures are pruned by age, so both get an
 * index on their time; failures are now counted per (address, account) pair and per address, so
 * the old per-email and per-address rows go.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.createIndex('audit_log_at').on('audit_log').column('at').execute();
  await db.schema.createIndex('login_failures_last_at').on('login_failures').column('last_at').execute();
  await db.deleteFrom('login_failures').where('key', 'like', 'email:%').execute();
  await db.deleteFrom('login_failures').where('key', 'like', 'ip:%').execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropIndex('login_failures_last_at').execute();
  await db.schema.dropIndex('audit_log_at').execute();
}
