import type { Kysely } from 'kysely';

/**
 * Idle apps sleep (issue #28): `sleep_after` is the idle time in seconds after which the app
 * stops until its next request (null: never), and `wake_port` the loopback port the app itself
 * listens on while systemd holds its public port (null while sleep is off).
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('apps').addColumn('sleep_after', 'integer').execute();
  await db.schema.alterTable('apps').addColumn('wake_port', 'integer').execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('apps').dropColumn('wake_port').execute();
  await db.schema.alterTable('apps').dropColumn('sleep_after').execute();
}
