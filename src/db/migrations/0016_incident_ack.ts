import type { Kysely } from 'kysely';

/**
 * Acknowledge and mute an incident (#31): who saw it and when (reminders stop), and until when
 * its messages are held back (a flapping app's next incident of the same key inherits it).
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('incidents').addColumn('acknowledged_at', 'text').execute();
  await db.schema.alterTable('incidents').addColumn('acknowledged_by', 'text').execute();
  await db.schema.alterTable('incidents').addColumn('muted_until', 'text').execute();
  await db.schema.createIndex('incidents_key_id').on('incidents').columns(['key', 'id']).execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropIndex('incidents_key_id').execute();
  for (const c of ['muted_until', 'acknowledged_by', 'acknowledged_at'])
    await db.schema.alterTable('incidents').dropColumn(c).execute();
}
