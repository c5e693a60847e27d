import type { Database } from '../../db/database.js';
import type { Logger } from '../../shared/log.js';

const HOUR = 3_600_000;

/**
 * What would otherwise grow for ever is pruned by age: audit rows older than the retention,
 * sign-in failures that were forgotten (`pruneFailures`). Runs at start and every hour.
 *
 * @example
 * const r = createRetention({ db, log, pruneFailures: auth.pruneFailures }, { auditDays: 90 });
 * r.start(); // ... r.stop()
 */
export function createRetention(
  deps: { db: Database; log: Logger; pruneFailures: () => Promise<void> },
  opts: { auditDays: number },
) {
  let timer: NodeJS.Timeout | null = null;

  async function run(): Promise<{ audit: number }> {
    const cutoff = new Date(Date.now() - opts.auditDays * 24 * HOUR).toISOString();
    const r = await deps.db.deleteFrom('audit_log').where('at', '<', cutoff).executeTakeFirst();
    await deps.pruneFailures();
    const audit = Number(r.numDeletedRows);
    if (audit > 0) deps.log.info({ audit, older_than: cutoff }, 'audit rows past their retention removed');
    return { audit };
  }

  const tick = () => void run().catch((err: unknown) => deps.log.error({ err }, 'retention pass failed'));
  return {
    run,
    start() {
      tick();
      timer = setInterval(tick, HOUR);
      timer.unref();
    },
    async stop() {
      if (timer) clearInterval(timer);
      timer = null;
    },
  };
}
