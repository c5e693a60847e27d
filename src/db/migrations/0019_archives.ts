import type { Kysely } from 'kysely';

/**
 * Deleted apps' archives (#31): one row per archive, with its own id, the identity of the app it
 * was (`app_id`: a restore makes a new one), where root keeps its tree (a direct entry of the
 * archive directory), its size, the app's settings as JSON, and its env values sealed with the
 * store's key (secret-box.ts). Listed from here, never by walking the archive as root.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('archives')
    .addColumn('id', 'integer', (c) => c.primaryKey().autoIncrement())
    .addColumn('app_id', 'text', (c) => c.notNull().unique())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('entry', 'text', (c) => c.notNull().unique())
    .addColumn('size_bytes', 'integer')
    .addColumn('settings', 'text', (c) => c.notNull())
    .addColumn('env_sealed', 'text', (c) => c.notNull())
    .addColumn('deleted_at', 'text', (c) => c.notNull())
    .addColumn('deleted_by', 'text')
    .execute();
  await db.schema.createIndex('archives_deleted_at').on('archives').column('deleted_at').execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('archives').execute();
}
