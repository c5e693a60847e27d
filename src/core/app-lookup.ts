import type { Database } from '../db/database.js';
import type { AppStatus } from '../db/schema.js';
import { notFound } from '../errors.js';

/** The app's name and status, or a 404: the one existence check of the modules that hang off an app. */
export async function requireApp(db: Database, name: string): Promise<{ name: string; status: AppStatus }> {
  const row = await db.selectFrom('apps').select(['name', 'status']).where('name', '=', name).executeTakeFirst();
  if (!row) throw notFound('app', name);
  return row;
}
