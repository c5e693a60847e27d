import { sql, type Kysely } from '../kysely.js';

/**
 * Deployments wait their turn: two more statuses, `queued` (recorded, not yet
 * started) and `superseded` (a newer deploy of the same app took its place).
 * SQLite cannot widen a CHECK in place, so the table is built again; the steps
 * are kept aside first, since dropping the old table would cascade to them.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('deployments_next')
    .addColumn('id', 'integer', (c) => c.primaryKey().autoIncrement())
    .addColumn('app', 'text', (c) => c.notNull())
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) =>
      c
        .notNull()
        .check(
          sql`status in ('queued', 'pending', 'running', 'success', 'failed', 'rolled_back', 'cancelled', 'superseded')`,
        ),
    )
    .addColumn('params', 'text', (c) => c.notNull().defaultTo('{}'))
    .addColumn('error', 'text')
    .addColumn('actor', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('started_at', 'text')
    .addColumn('finished_at', 'text')
    .execute();
  await sql`insert into deployments_next select id, app, kind, status, params, error, actor, created_at, started_at, finished_at from deployments`.execute(
    db,
  );
  await sql`create table deployment_steps_kept as select * from deployment_steps`.execute(db);
  await db.schema.dropTable('deployment_steps').execute();
  await db.schema.dropTable('deployments').execute();
  await sql`alter table deployments_next rename to deployments`.execute(db);
  await db.schema.createIndex('deployments_app').on('deployments').columns(['app', 'id']).execute();
  await db.schema.createIndex('deployments_status').on('deployments').columns(['status', 'app', 'id']).execute();
  await db.schema
    .createTable('deployment_steps')
    .addColumn('id', 'integer', (c) => c.primaryKey().autoIncrement())
    .addColumn('deployment_id', 'integer', (c) => c.notNull().references('deployments.id').onDelete('cascade'))
    .addColumn('position', 'integer', (c) => c.notNull())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) =>
      c.notNull().check(sql`status in ('pending', 'running', 'success', 'failed', 'skipped')`),
    )
    .addColumn('message', 'text')
    .addColumn('started_at', 'text')
    .addColumn('finished_at', 'text')
    .addUniqueConstraint('deployment_steps_position', ['deployment_id', 'position'])
    .execute();
  await sql`insert into deployment_steps select id, deployment_id, position, name, status, message, started_at, finished_at from deployment_steps_kept`.execute(
    db,
  );
  await db.schema.dropTable('deployment_steps_kept').execute();
  // What a queued operation will apply (a patch, an env): kept apart from `params`, which
  // every reader of the app sees, because it may hold env values; removed when it ends.
  await db.schema
    .createTable('deployment_inputs')
    .addColumn('deployment_id', 'integer', (c) => c.primaryKey().references('deployments.id').onDelete('cascade'))
    .addColumn('input', 'text', (c) => c.notNull())
    .execute();
}
