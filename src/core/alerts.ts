import { statfs } from 'node:fs/promises';
import { z } from 'zod';
import { appNameSchema } from '../rules.js';
import type { Database } from '../db/database.js';
import { PocketdError } from '../errors.js';
import { send, type Message } from '../host/notify.js';
import type { Logger } from '../log.js';
import { ALERT_KINDS, alertKindsSchema, type Channels } from './channels.js';
import { nowIso } from './clock.js';
import type { EventBus, PocketdEvent } from './events.js';

/**
 * Incidents and their messages. An incident opens once (an app down for
 * `after` checks in a row, a disk under its threshold, ...), alerts every
 * channel its rules name once, may remind, and closes once with one recovery
 * message; coming back needs `after` good checks too, which damps flapping.
 * One-off events (a failed deployment or scheduled backup) are a notice.
 * Messages go through an outbox in SQLite: tried in turn, again with a
 * doubling wait, recorded as sent or failed with the reason; a restart of
 * pocketd picks up what is pending. A slow or dead channel holds up only itself.
 */
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

export interface AlertOptions {
  after: number;
  remindMinutes: number;
  diskPercent: number;
  ratePerMinute: number;
  timeoutMs: number;
  retryMax: number;
  retryMs: number;
  /** Directories whose free space is watched. */
  disks: Array<{ name: string; path: string }>;
}

export function createAlerts(
  deps: {
    db: Database;
    channels: Channels;
    events: EventBus;
    log: Logger;
    /** pocketd's own host checks, run every few minutes. */
    hostChecks?: () => Promise<{ checks: Array<{ name: string; ok: boolean; message: string }> }>;
  },
  opts: AlertOptions,
) {
  const { db, log } = deps;
  const streaks = new Map<string, { bad: number; good: number; stopped: boolean }>();
  const inFlight = new Set<number>();
  let timer: NodeJS.Timeout | undefined;
  let diskTimer: NodeJS.Timeout | undefined;
  let hostTimer: NodeJS.Timeout | undefined;
  let unsubscribe: (() => void) | undefined;
  let wake: (() => void) | null = null;

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

  async function enqueue(channelIds: number[], incidentId: number | null, m: Message): Promise<void> {
    if (channelIds.length === 0) return;
    const now = nowIso();
    await db
      .insertInto('alert_outbox')
      .values(
        channelIds.map((channel_id) => ({
          channel_id,
          incident_id: incidentId,
          event: m.event,
          payload: JSON.stringify(m),
          status: 'pending' as const,
          attempts: 0,
          next_at: now,
          created_at: now,
        })),
      )
      .execute();
    wake?.();
  }

  /** Opens the incident named by `key` unless it is open; its channels hear of it once. */
  async function raise(
    key: string,
    kind: AlertKind,
    app: string | null,
    title: string,
    detail: string | null,
  ): Promise<void> {
    const open = await db
      .selectFrom('incidents')
      .select('id')
      .where('key', '=', key)
      .where('closed_at', 'is', null)
      .executeTakeFirst();
    if (open) return;
    const at = nowIso();
    const row = await db
      .insertInto('incidents')
      .values({ key, kind, app, title, detail, opened_at: at })
      .returning('id')
      .executeTakeFirstOrThrow();
    log.warn({ incident: row.id, kind, app }, title);
    deps.events.publish('incident.opened', app, { incident_id: row.id, kind, title });
    await enqueue(await channelsFor(kind, app), row.id, {
      event: 'opened',
      kind,
      app,
      title,
      detail,
      incident_id: row.id,
      at,
    });
  }

  /** Closes the incident named by `key` if it is open, with one recovery message. */
  async function resolve(key: string, title: string, detail: string | null): Promise<void> {
    const open = await db
      .selectFrom('incidents')
      .selectAll()
      .where('key', '=', key)
      .where('closed_at', 'is', null)
      .executeTakeFirst();
    if (!open) return;
    const at = nowIso();
    await db.updateTable('incidents').set({ closed_at: at }).where('id', '=', open.id).execute();
    log.info({ incident: open.id, kind: open.kind, app: open.app }, title);
    deps.events.publish('incident.resolved', open.app, { incident_id: open.id, kind: open.kind, title });
    await enqueue(await channelsFor(open.kind as AlertKind, open.app), open.id, {
      event: 'resolved',
      kind: open.kind,
      app: open.app,
      title,
      detail,
      incident_id: open.id,
      at,
    });
  }

  /** Something that happened once: recorded as an incident opened and closed at once, one message. */
  async function notice(kind: AlertKind, app: string | null, title: string, detail: string | null): Promise<void> {
    const at = nowIso();
    const row = await db
      .insertInto('incidents')
      .values({ key: `${kind}:${app ?? ''}:${at}`, kind, app, title, detail, opened_at: at, closed_at: at })
      .returning('id')
      .executeTakeFirstOrThrow();
    await enqueue(await channelsFor(kind, app), row.id, {
      event: 'notice',
      kind,
      app,
      title,
      detail,
      incident_id: row.id,
      at,
    });
  }

  /** Every health check of an app: `after` bad ones in a row open its incident, `after` good ones close it. */
  async function healthChecked(
    app: string,
    state: 'healthy' | 'unhealthy' | 'stopped',
    error: string | null,
  ): Promise<void> {
    const s = streaks.get(app) ?? { bad: 0, good: 0, stopped: false };
    const wasStopped = s.stopped;
    s.stopped = state === 'stopped';
    if (state === 'unhealthy') {
      s.bad++;
      s.good = 0;
    } else {
      s.good++;
      s.bad = 0;
    }
    streaks.set(app, s);
    if (state === 'unhealthy' && s.bad === opts.after) {
      await raise(
        `app_down:${app}`,
        'app_down',
        app,
        `${app} is down`,
        `${opts.after} failed health checks in a row${error ? `: ${error}` : ''}`,
      );
    } else if (state === 'healthy' && s.good === opts.after) {
      // Once per good streak (not at every check of every healthy app): the streak restarts after any bad check.
      await resolve(`app_down:${app}`, `${app} is up again`, `${opts.after} passed health checks in a row`);
    } else if (state === 'stopped' && !wasStopped) {
      await resolve(`app_down:${app}`, `${app} was stopped`, 'stopped on purpose; no longer watched as down');
    }
  }

  async function onEvent(e: PocketdEvent): Promise<void> {
    if (e.type === 'deployment.finished' && (e.data.status === 'failed' || e.data.status === 'rolled_back') && e.app) {
      const d = await db
        .selectFrom('deployments')
        .select(['id', 'kind', 'actor', 'error'])
        .where('id', '=', Number(e.data.deployment_id))
        .executeTakeFirst();
      if (!d) return;
      if (d.kind === 'backup') {
        if (d.actor === 'pocketd:schedule')
          await notice('backup_failed', e.app, `a scheduled backup of ${e.app} failed`, d.error);
        return;
      }
      await notice(
        'deployment_failed',
        e.app,
        `${d.kind} #${d.id} of ${e.app} ${String(e.data.status).replace('_', ' ')}`,
        d.error,
      );
    } else if (e.type === 'app.deleted' && e.app) {
      streaks.delete(e.app);
      await resolve(`app_down:${e.app}`, `${e.app} was deleted`, null);
    }
  }

  async function checkDisks(): Promise<void> {
    for (const d of opts.disks) {
      const fs = await statfs(d.path).catch(() => null);
      if (!fs) continue;
      const free = Math.round((fs.bavail / fs.blocks) * 1000) / 10;
      if (free < opts.diskPercent)
        await raise(
          `disk_low:${d.name}`,
          'disk_low',
          null,
          `the ${d.name} disk has ${free}% free`,
          `${d.path}: under ${opts.diskPercent}%`,
        );
      else await resolve(`disk_low:${d.name}`, `the ${d.name} disk has room again (${free}% free)`, null);
    }
  }

  /** Host checks (pocketd's own): a failing one is an incident until it passes. */
  async function hostChecked(name: string, ok: boolean, message: string): Promise<void> {
    if (ok) await resolve(`host_check:${name}`, `host check ${name} passes again`, message);
    else await raise(`host_check:${name}`, 'host_check', null, `host check ${name} fails`, message);
  }

  /**
   * A domain's certificate: one that could not be had, or that ends within `warnDays` (within a quarter of its
   * lifetime for short-lived ones, such as Caddy's internal 12-hour certificates, renewed long before), is an
   * incident until it is fine.
   */
  async function certificateChecked(
    app: string,
    f: { domain: string; error: string | null; valid_from?: string; valid_until?: string },
    warnDays: number,
  ): Promise<void> {
    const key = `certificate:${f.domain}`;
    if (f.error !== null || !f.valid_until || !f.valid_from) {
      await raise(key, 'certificate', app, `no certificate for ${f.domain}`, f.error);
      return;
    }
    const left = Date.parse(f.valid_until) - Date.now();
    const warn = Math.min(warnDays * 86_400_000, (Date.parse(f.valid_until) - Date.parse(f.valid_from)) / 4);
    if (left < warn)
      await raise(
        key,
        'certificate',
        app,
        `the certificate of ${f.domain} ends in ${Math.max(0, Math.floor(left / 3600_000))} hours`,
        `valid until ${f.valid_until}`,
      );
    else await resolve(key, `the certificate of ${f.domain} is fine again`, `valid until ${f.valid_until}`);
  }

  // --- delivery --------------------------------------------------------------

  async function deliver(
    row: { id: number; channel_id: number; payload: string; attempts: number },
    retry = true,
  ): Promise<void> {
    const target = await deps.channels.target(row.channel_id);
    if (!target) return;
    const attempts = row.attempts + 1;
    try {
      await send(target, JSON.parse(row.payload) as Message, opts.timeoutMs);
      await db
        .updateTable('alert_outbox')
        .set({ status: 'sent', attempts, sent_at: nowIso(), last_error: null })
        .where('id', '=', row.id)
        .execute();
    } catch (err) {
      const reason = (err as Error).message.slice(0, 500);
      const last = !retry || attempts >= opts.retryMax;
      const next = new Date(Date.now() + Math.min(opts.retryMs * 2 ** (attempts - 1), 3_600_000)).toISOString();
      await db
        .updateTable('alert_outbox')
        .set({ status: last ? 'failed' : 'pending', attempts, last_error: reason, next_at: next })
        .where('id', '=', row.id)
        .execute();
      // The channel is named by id: its URL may be its secret.
      log.warn(
        { outbox: row.id, channel: row.channel_id, attempts, reason },
        last ? 'an alert could not be delivered; giving up' : 'an alert could not be delivered; trying again later',
      );
    }
  }

  async function tick(): Promise<void> {
    const now = nowIso();
    const due = await db
      .selectFrom('alert_outbox')
      .select(['id', 'channel_id', 'payload', 'attempts'])
      .where('status', '=', 'pending')
      .where('next_at', '<=', now)
      .orderBy('id')
      .limit(100)
      .execute();
    const minuteAgo = new Date(Date.now() - 60_000).toISOString();
    for (const row of due) {
      if (inFlight.has(row.channel_id)) continue;
      const sent = await db
        .selectFrom('alert_outbox')
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .where('channel_id', '=', row.channel_id)
        .where('sent_at', '>=', minuteAgo)
        .executeTakeFirstOrThrow();
      if (Number(sent.n) >= opts.ratePerMinute) {
        await db
          .updateTable('alert_outbox')
          .set({ next_at: new Date(Date.now() + 10_000).toISOString() })
          .where('id', '=', row.id)
          .execute();
        continue;
      }
      inFlight.add(row.channel_id);
      void deliver(row)
        .catch((err: unknown) => log.error({ err, outbox: row.id }, 'alert delivery failed'))
        .finally(() => {
          inFlight.delete(row.channel_id);
          wake?.();
        });
    }
    await remind();
  }

  async function remind(): Promise<void> {
    if (opts.remindMinutes <= 0) return;
    const before = new Date(Date.now() - opts.remindMinutes * 60_000).toISOString();
    const open = await db
      .selectFrom('incidents')
      .selectAll()
      .where('closed_at', 'is', null)
      .where('opened_at', '<=', before)
      .where((eb) => eb.or([eb('reminded_at', 'is', null), eb('reminded_at', '<=', before)]))
      .execute();
    for (const i of open) {
      await db.updateTable('incidents').set({ reminded_at: nowIso() }).where('id', '=', i.id).execute();
      await enqueue(await channelsFor(i.kind as AlertKind, i.app), i.id, {
        event: 'reminder',
        kind: i.kind,
        app: i.app,
        title: i.title,
        detail: i.detail,
        incident_id: i.id,
        at: nowIso(),
      });
    }
  }

  return {
    raise,
    resolve,
    notice,
    healthChecked,
    hostChecked,
    checkDisks,
    certificateChecked,
    start() {
      unsubscribe = deps.events.subscribe((e) => {
        void onEvent(e).catch((err: unknown) => log.error({ err }, 'an alert rule failed'));
      });
      let running = false;
      const loop = () => {
        if (running) return;
        running = true;
        void tick()
          .catch((err: unknown) => log.error({ err }, 'the alert outbox failed'))
          .finally(() => {
            running = false;
          });
      };
      wake = () => setImmediate(loop);
      timer = setInterval(loop, 1000);
      timer.unref();
      diskTimer = setInterval(() => void checkDisks().catch(() => undefined), 60_000);
      diskTimer.unref();
      void checkDisks().catch(() => undefined);
      const runHostChecks = async () => {
        for (const c of (await deps.hostChecks?.())?.checks ?? []) await hostChecked(c.name, c.ok, c.message);
      };
      hostTimer = setInterval(
        () => void runHostChecks().catch((err: unknown) => log.error({ err }, 'host checks for alerts failed')),
        300_000,
      );
      hostTimer.unref();
      loop();
    },
    async stop() {
      unsubscribe?.();
      clearInterval(timer);
      clearInterval(diskTimer);
      clearInterval(hostTimer);
      wake = null;
    },
    /** Sends a test message now and records it like any other. */
    async test(channelId: number): Promise<{ outbox_id: number; status: 'sent' | 'failed'; error: string | null }> {
      await deps.channels.get(channelId);
      const at = nowIso();
      const m: Message = {
        event: 'test',
        kind: 'test',
        app: null,
        title: 'a test message from pocketd',
        detail: 'If you read this, the channel works.',
        incident_id: null,
        at,
      };
      const row = await db
        .insertInto('alert_outbox')
        .values({
          channel_id: channelId,
          incident_id: null,
          event: 'test',
          payload: JSON.stringify(m),
          status: 'pending',
          attempts: 0,
          next_at: '9999-12-31T00:00:00.000Z',
          created_at: at,
        })
        .returning(['id', 'channel_id', 'payload', 'attempts'])
        .executeTakeFirstOrThrow();
      await deliver(row, false);
      const done = await db
        .selectFrom('alert_outbox')
        .select(['status', 'last_error'])
        .where('id', '=', row.id)
        .executeTakeFirstOrThrow();
      return { outbox_id: row.id, status: done.status === 'sent' ? 'sent' : 'failed', error: done.last_error };
    },
    async rules() {
      return (await db.selectFrom('alert_rules').selectAll().orderBy('id').execute()).map((r) => ({
        ...r,
        kinds: JSON.parse(r.kinds) as string[],
      }));
    },
    async addRule(input: CreateRule) {
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
    },
    async removeRule(id: number) {
      const r = await db.deleteFrom('alert_rules').where('id', '=', id).executeTakeFirst();
      if (Number(r.numDeletedRows) !== 1) throw new PocketdError('NOT_FOUND', `no rule ${id}`);
    },
    async incidents(open: boolean | undefined, limit: number) {
      let q = db.selectFrom('incidents').selectAll().orderBy('id', 'desc').limit(limit);
      if (open === true) q = q.where('closed_at', 'is', null);
      if (open === false) q = q.where('closed_at', 'is not', null);
      return q.execute();
    },
    async outbox(limit: number) {
      return db
        .selectFrom('alert_outbox')
        .innerJoin('alert_channels', 'alert_channels.id', 'alert_outbox.channel_id')
        .select([
          'alert_outbox.id',
          'alert_outbox.channel_id',
          'alert_channels.name as channel',
          'alert_outbox.incident_id',
          'alert_outbox.event',
          'alert_outbox.status',
          'alert_outbox.attempts',
          'alert_outbox.next_at',
          'alert_outbox.last_error',
          'alert_outbox.created_at',
          'alert_outbox.sent_at',
          'alert_outbox.payload',
        ])
        .orderBy('alert_outbox.id', 'desc')
        .limit(limit)
        .execute()
        .then((rows) =>
          rows.map(({ payload, ...r }) => ({
            ...r,
            title: (JSON.parse(payload) as Message).title,
            next_at: r.status === 'pending' ? r.next_at : null,
          })),
        );
    },
  };
}

export type Alerts = ReturnType<typeof createAlerts>;
