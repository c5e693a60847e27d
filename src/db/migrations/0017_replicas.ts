import type { Kysely } from 'kysely';

/**
 * Off-host replicas (issue #27): one target per app identity (app_id, not the name: a new app of a deleted
 * app's name inherits no replica). `target` is the whole target as JSON, its secrets included: the store is
 * the daemon's alone (0600) and no answer ever carries them. The status columns are the last status check.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('replicas')
    .addColumn('app_id', 'text', (c) => c.primaryKey())
    .addColumn('app', 'text', (c) => c.notNull())
    .addColumn('target', 'text', (c) => c.notNull())
    .addColumn('sync_seconds', 'integer', (c) => c.notNull())
    .addColumn('retention_hours', 'integer', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .addColumn('checked_at', 'text')
    .addColumn('generation', 'text')
    .addColumn('last_sync_at', 'text')
    .addColumn('lag_seconds', 'real')
    .addColumn('generations', 'integer')
    .addColumn('error', 'text')
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('replicas').execute();
}
