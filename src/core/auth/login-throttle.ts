import type { Database } from '../../db/database.js';
import { PocketdError } from '../../shared/errors.js';

export interface ThrottleOptions {
  /** Failures of one address at one account before that pair is blocked. */
  pairMax: number;
  /** Failures of one address across all accounts before the address is blocked (higher). */
  addressMax: number;
  /** How long a block lasts; failures older than this are forgotten too. */
  lockSeconds: number;
  /** Rows kept at most; the oldest unblocked ones go first. */
  maxRows?: number;
}

/** One sign-in attempt that has taken its place in the counts; it ends as a failure or a success. */
export interface Attempt {
  /** Keeps the attempt as a failure; returns how many the pair has now and blocks it at the bound. */
  failed(): Promise<number>;
  /** Gives the attempt back: the pair's count is cleared, the address's reduced by this one. */
  succeeded(): Promise<void>;
}

const refused = (until: string) =>
  new PocketdError('TOO_MANY_ATTEMPTS', `too many failed sign-ins from this address; try again after ${until}`);

/**
 * Sign-in throttling the way fail2ban and OWASP describe it: failures are
 * counted per (address, account) pair and, with a higher bound, per address
 * across accounts; never per account alone, so strangers cannot lock an admin
 * out. An attempt takes its place in the counts (a transaction) before the
 * password is checked, so a burst of concurrent attempts cannot pass the bound.
 *
 * @example
 * const attempt = await throttle.reserve('203.0.113.7', 'admin@example.com'); // 429 when blocked
 * if (await verify()) await attempt.succeeded(); else await attempt.failed();
 */
export function createLoginThrottle(db: Database, opts: ThrottleOptions) {
  const lockMs = opts.lockSeconds * 1000;
  const maxRows = opts.maxRows ?? 100_000;
  let prunedAt = 0;

  /** Rows whose failures were forgotten and whose block ran out go; beyond maxRows the oldest go. */
  async function prune(now: number): Promise<void> {
    const cutoff = new Date(now - lockMs).toISOString();
    const nowIso = new Date(now).toISOString();
    await db
      .deleteFrom('login_failures')
      .where('last_at', '<', cutoff)
      .where((eb) => eb.or([eb('locked_until', 'is', null), eb('locked_until', '<', nowIso)]))
      .execute();
    const { n } = await db
      .selectFrom('login_failures')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .executeTakeFirstOrThrow();
    if (Number(n) > maxRows) {
      await db
        .deleteFrom('login_failures')
        .where(
          'key',
          'in',
          db
            .selectFrom('login_failures')
            .select('key')
            .orderBy('last_at')
            .limit(Number(n) - maxRows),
        )
        .execute();
    }
  }

  async function reserve(address: string, email: string): Promise<Attempt> {
    const now = Date.now();
    if (now - prunedAt > 60_000) {
      prunedAt = now;
      await prune(now);
    }
    const pairKey = `pair:${address} ${email}`;
    const addrKey = `addr:${address}`;
    const bounds = new Map([
      [pairKey, opts.pairMax],
      [addrKey, opts.addressMax],
    ]);
    const nowIso = new Date(now).toISOString();
    const stale = new Date(now - lockMs).toISOString();
    // kysely's SQLite driver runs a transaction alone on its connection: read, decide and count are one step.
    await db.transaction().execute(async (trx) => {
      const rows = await trx
        .selectFrom('login_failures')
        .selectAll()
        .where('key', 'in', [...bounds.keys()])
        .execute();
      for (const r of rows) if (r.locked_until !== null && r.locked_until > nowIso) throw refused(r.locked_until);
      for (const [key, max] of bounds) {
        const row = rows.find((r) => r.key === key);
        const count = (row && row.last_at >= stale && row.locked_until === null ? row.count : 0) + 1;
        if (count > max) {
          // Attempts in flight already fill the bound: this one is refused and blocks the key.
          const until = new Date(now + lockMs).toISOString();
          await trx
            .updateTable('login_failures')
            .set({ locked_until: until, last_at: nowIso })
            .where('key', '=', key)
            .execute();
          throw refused(until);
        }
      }
      for (const key of bounds.keys()) {
        const row = rows.find((r) => r.key === key);
        const count = (row && row.last_at >= stale && row.locked_until === null ? row.count : 0) + 1;
        await trx
          .insertInto('login_failures')
          .values({ key, count, last_at: nowIso, locked_until: null })
          .onConflict((oc) => oc.column('key').doUpdateSet({ count, last_at: nowIso, locked_until: null }))
          .execute();
      }
    });
    return {
      async failed() {
        const at = new Date().toISOString();
        const until = new Date(Date.now() + lockMs).toISOString();
        let pairCount = 0;
        await db.transaction().execute(async (trx) => {
          for (const [key, max] of bounds) {
            const row = await trx.selectFrom('login_failures').selectAll().where('key', '=', key).executeTakeFirst();
            const count = row?.count ?? 1;
            if (key === pairKey) pairCount = count;
            await trx
              .updateTable('login_failures')
              .set({ last_at: at, locked_until: count >= max ? until : (row?.locked_until ?? null) })
              .where('key', '=', key)
              .execute();
          }
        });
        return pairCount;
      },
      async succeeded() {
        await db.transaction().execute(async (trx) => {
          await trx.deleteFrom('login_failures').where('key', '=', pairKey).execute();
          await trx
            .updateTable('login_failures')
            .set((eb) => ({ count: eb('count', '-', 1) }))
            .where('key', '=', addrKey)
            .where('count', '>', 0)
            .execute();
        });
      },
    };
  }

  return { reserve, prune: () => prune(Date.now()) };
}

export type LoginThrottle = ReturnType<typeof createLoginThrottle>;
