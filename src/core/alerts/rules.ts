import { z } from 'zod';
import type { Database } from '../../db/database.js';
import { PocketdError } from '../../shared/errors.js';
import { appNameSchema } from '../../shared/rules.js';
import { ALERT_KINDS, alertKindsSchema, type Channels } from './channels.js';
import { nowIso } from '../clock.js';

export { ALERT_KINDS };
export type AlertKind = (typeof ALERT_KINDS)[number];

export const createRuleSchema = z
  .object({
    kinds: alertKindsSchema.describe('What alerts; "*" for everything'),
    app: appNameSchema.nullable().default(null).describe('One app, or null for all'),
    channel_id: z.number().int().positive(),
  })
  .strict();
export type CreateRule = z.infer<typeof createRuleSchema>;

/** Alert rules: which kinds, for one app or all, go to which channel. */
export function createAlertRules(deps: { db: Database; channels: Channels }) {
  const { db } = deps;

  /** Channels whose rules take this kind for this app. */
  async function channelsFor(kind: AlertKind, app: string | null): Promise<number[]> {
    const rules = await db.selectFrom('alert_rules').select(['kinds', 'app', 'channel_id']).execute();
    const ids = rules
      .filter(
        (r) =>
          (r.app === null || r.app === app) && (JSON.parse(r.kinds) as string[]).some((k) => k === '*' || k === kind),
      )
      .map((r) => r.channel_id);
    return [...new Set(ids)];
  }

  async function list() {
    return (await db.selectFrom('alert_rules').selectAll().orderBy('id').execute()).map((r) => ({
      ...r,
      kinds: JSON.parse(r.kinds) as string[],
    }));
  }
  async function add(input: CreateRule) {
    await deps.channels.get(input.channel_id);
    const row = await db
      .insertInto('alert_rules')
      .values({
        kinds: JSON.stringify(input.kinds),
        app: input.app,
        channel_id: input.channel_id,
        created_at: nowIso(),
      })
      .returningAll()
      .executeTakeFirstOrThrow();
    return { ...row, kinds: input.kinds };
  }
  async function remove(id: number) {
    const r = await db.deleteFrom('alert_rules').where('id', '=', id).executeTakeFirst();
    if (Number(r.numDeletedRows) !== 1) throw new PocketdError('NOT_FOUND', `no rule ${id}`);
  }

  return { channelsFor, list, add, remove };
}

export type AlertRules = ReturnType<typeof createAlertRules>;
/** A rule as `GET /api/alerts/rules` lists it. */
export type AlertRule = Awaited<ReturnType<AlertRules['list']>>[number];
