import type { Config } from '../shared/config.js';
import { openStore } from '../main/store.js';

const MINUTES = 30;

/**
 * A short-lived admin session for one local command, made in the daemon's store; `remove()` deletes it. Rows
 * of earlier commands that ended without removing theirs (killed) are deleted once expired: they never pile up.
 */
export async function localToken(config: Config, name: string): Promise<{ token: string; remove(): Promise<void> }> {
  const { db, auth } = await openStore(config);
  try {
    await db
      .deleteFrom('tokens')
      .where('kind', '=', 'session')
      .where('name', 'like', 'cli:%')
      .where('expires_at', '<=', new Date().toISOString())
      .execute();
    const { token, info } = await auth.issueLocal(name, MINUTES);
    return {
      token,
      async remove() {
        const s = await openStore(config);
        try {
          await s.db.deleteFrom('tokens').where('id', '=', info.id).execute();
        } finally {
          await s.db.destroy();
        }
      },
    };
  } finally {
    await db.destroy();
  }
}
