import type { Kysely } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('app_metrics')
    .addColumn('id', 'integer', (c) => c.primaryKey().autoIncrement())
    .addColumn('app', 'text', (c) => c.notNull())
    .addColumn('at', 'text', (c) => c.notNull())
    .addColumn('active', 'integer', (c) => c.notNull())
    .addColumn('memory_bytes', 'integer')
    .addColumn('cpu_ns', 'integer')
    .addColumn('restarts', 'integer', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('app_metrics_app').on('app_metrics').columns(['app', 'id']).execute();
  await db.schema
    .createTable('host_metrics')
    .addColumn('id', 'integer', (c) => c.primaryKey().autoIncrement())
    .addColumn('at', 'text', (c) => c.notNull())
    .addColumn('load1', 'real', (c) => c.notNull())
    .addColumn('cpu_percent', 'real', (c) => c.notNull())
    .addColumn('memory_total', 'integer', (c) => c.notNull())
    .addColumn('memory_available', 'integer', (c) => c.notNull())
    .addColumn('disk_total', 'integer', (c) => c.notNull())
    .addColumn('disk_free', 'integer', (c) => c.notNull())
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('app_metrics').execute();
  await db.schema.dropTable('host_metrics').execute();
}
