import type { Database } from '../../db/database.js';
import { PocketdError, notFound } from '../../shared/errors.js';
import { nowIso } from '../clock.js';
import type { EventBus } from '../events.js';

/** The longest mute: a week. A mute is a pause, never a way to switch an alert off for good (that is a rule). */
export const MUTE_MAX_MINUTES = 7 * 24 * 60;

/**
 * What a person does with an incident: acknowledge it (seen; reminders stop) and mute it for a
 * while (no message about it, nor about the next incident of the same key while the mute lasts).
 */
export function createIncidentActions(deps: { db: Database; events: EventBus }) {
  const { db } = deps;
  const get = async (id: number) => {
    const row = await db.selectFrom('incidents').selectAll().where('id', '=', id).executeTakeFirst();
    if (!row) throw notFound('incident', String(id));
    return row;
  };

  return {
    get,
    acknowledge: async (id: number, actor: string) => {
      const row = await get(id);
      if (row.closed_at !== null) throw new PocketdError('INCIDENT_CLOSED', `incident ${id} is closed already`);
      if (row.acknowledged_at === null) {
        await db
          .updateTable('incidents')
          .set({ acknowledged_at: nowIso(), acknowledged_by: actor.slice(0, 200) })
          .where('id', '=', id)
          .execute();
        deps.events.publish('incident.acknowledged', row.app, { incident_id: id, by: actor });
      }
      return get(id);
    },
    /** Mutes for `minutes` from now; 0 ends a mute. */
    mute: async (id: number, minutes: number, actor: string) => {
      const row = await get(id);
      const until = minutes === 0 ? null : new Date(Date.now() + minutes * 60_000).toISOString();
      await db.updateTable('incidents').set({ muted_until: until }).where('id', '=', id).execute();
      deps.events.publish('incident.muted', row.app, { incident_id: id, until, by: actor });
      return get(id);
    },
    /** Whether messages about this incident are held back now. */
    muted: async (id: number): Promise<boolean> => {
      const r = await db.selectFrom('incidents').select('muted_until').where('id', '=', id).executeTakeFirst();
      return r?.muted_until != null && r.muted_until > nowIso();
    },
    /** A mute still running on the newest incident of `key`, for the next one of that key to inherit. */
    inheritedMute: async (key: string): Promise<string | null> => {
      const r = await db
        .selectFrom('incidents')
        .select('muted_until')
        .where('key', '=', key)
        .orderBy('id', 'desc')
        .limit(1)
        .executeTakeFirst();
      return r?.muted_until != null && r.muted_until > nowIso() ? r.muted_until : null;
    },
    /** The newest incidents first: open ones, closed ones, or both. */
    list: async (open: boolean | undefined, limit: number) => {
      let q = db.selectFrom('incidents').selectAll().orderBy('id', 'desc').limit(limit);
      if (open === true) q = q.where('closed_at', 'is', null);
      if (open === false) q = q.where('closed_at', 'is not', null);
      return q.execute();
    },
  };
}

export type IncidentActions = ReturnType<typeof createIncidentActions>;

/** Where a person reads about an incident: the app's page, or the alerts page, on the dashboard's public address. */
export function dashboardLink(publicUrl: string | undefined, app: string | null): string | null {
  if (!publicUrl) return null;
  const base = publicUrl.replace(/\/+$/, '');
  return app ? `${base}/#/apps/${encodeURIComponent(app)}/overview` : `${base}/#/alerts`;
}
