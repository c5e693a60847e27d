import type { Kysely } from 'kysely';

/**
 * The operator's day (issue #31): a finished deployment says where the app ended (release, bundle, running,
 * healthy) as JSON in `outcome`, and each step says whether it was undone (`undo`: `undone`, or `failed: why`).
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('deployments').addColumn('outcome', 'text').execute();
  await db.schema.alterTable('deployment_steps').addColumn('undo', 'text').execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('deployment_steps').dropColumn('undo').execute();
  await db.schema.alterTable('deployments').dropColumn('outcome').execute();
}
