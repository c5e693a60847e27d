import type { Database } from '../../db/database.js';
import type { AuditLogTable, AuditRow } from '../../db/schema.js';
import { nowIso } from '../clock.js';

export { auditFields, isAuditTarget } from './audit-fields.js';

/** One request that tried to change something, as the audit log keeps it (its id and time are the store's). */
export type AuditRecord = Omit<AuditLogTable, 'id' | 'at'>;

export interface AuditQuery {
  limit: number;
  before?: number | undefined;
  actor?: string | undefined;
  target?: string | undefined;
  route?: string | undefined;
}

/**
 * The audit log: the only code on its table. The API's middleware records each request that
 * tried to change something; the audit route reads it back, newest first; retention prunes it.
 */
export function createAudit(db: Database) {
  return {
    async record(r: AuditRecord): Promise<number> {
      const row = await db
        .insertInto('audit_log')
        .values({ at: nowIso(), ...r })
        .returning('id')
        .executeTakeFirstOrThrow();
      return row.id;
    },
    /** A row's fields replaced (the count of refused requests that share it). */
    async setFields(id: number, fields: string): Promise<void> {
      await db.updateTable('audit_log').set({ fields }).where('id', '=', id).execute();
    },
    async list(q: AuditQuery): Promise<AuditRow[]> {
      let s = db.selectFrom('audit_log').selectAll().orderBy('id', 'desc').limit(q.limit);
      if (q.before !== undefined) s = s.where('id', '<', q.before);
      if (q.actor !== undefined) s = s.where('actor', '=', q.actor);
      if (q.target !== undefined) s = s.where('target', '=', q.target);
      if (q.route !== undefined) s = s.where('route', '=', q.route);
      return s.execute();
    },
  };
}

export type Audit = ReturnType<typeof createAudit>;
