import type { Kysely } from 'kysely';

/** The audit log keeps what a request asked to change (its fields, secrets masked), and is filtered by actor. */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('audit_log').addColumn('fields', 'text').execute();
  await db.schema.createIndex('audit_log_actor').on('audit_log').columns(['actor', 'id']).execute();
  await db.schema.createIndex('audit_log_target').on('audit_log').columns(['target', 'id']).execute();
}
