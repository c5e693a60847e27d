import { sql, type Kysely } from '../kysely.js';

/**
 * Tokens and history belong to an app's identity, not its name: each app gets
 * an `app_id` of its own at create, and an app-scoped token and each deployment
 * carry the id of the app they were made for. A new app of a deleted app's name
 * has a new id, so nothing of the old one (tokens, deployments) is its.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('apps').addColumn('app_id', 'text').execute();
  await sql`update apps set app_id = lower(hex(randomblob(8)))`.execute(db);
  await db.schema.createIndex('apps_app_id').unique().on('apps').column('app_id').execute();
  await db.schema.alterTable('tokens').addColumn('app_id', 'text').execute();
  await sql`update tokens set app_id = (select a.app_id from apps a where tokens.scope in ('app:' || a.name || ':read', 'app:' || a.name || ':deploy'))`.execute(
    db,
  );
  // A token scoped to an app that is gone already matches no app: revoked, as a delete now does.
  await sql`update tokens set revoked_at = coalesce(revoked_at, strftime('%Y-%m-%dT%H:%M:%fZ', 'now')) where scope like 'app:%' and app_id is null`.execute(
    db,
  );
  await db.schema.alterTable('deployments').addColumn('app_id', 'text').execute();
  await sql`update deployments set app_id = (select a.app_id from apps a where a.name = deployments.app)`.execute(db);
  await db.schema.createIndex('deployments_app_id').on('deployments').columns(['app_id', 'id']).execute();
}
