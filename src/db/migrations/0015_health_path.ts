import type { Kysely } from 'kysely';

/** A per-app health path (#31): what the deploy gate and the health checks ask; null is PocketBase's /api/health. */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('apps').addColumn('health_path', 'text').execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('apps').dropColumn('health_path').execute();
}
