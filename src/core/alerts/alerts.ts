import type { Database } from '../../db/database.js';
import type { Message } from '../../host/notify.js';
import type { Logger } from '../../shared/log.js';
import { createOutbox, type OutboxOptions } from './outbox.js';
import { createAlertRules, type AlertKind } from './rules.js';
import type { Channels } from './channels.js';
import { nowIso } from '../clock.js';
import { createIncidentActions, dashboardLink } from './incident-actions.js';
import { diskFree } from './disks.js';
import type { EventBus, PocketdEvent } from '../events.js';

/**
 * Incidents and their messages. An incident opens once (an app down for
 * `after` checks in a row, a disk under its threshold, ...), alerts every
 * channel its rules name once, may remind, and closes once with one recovery
 * message; coming back needs `after` good checks too, which damps flapping.
 * One-off events (a failed deployment or scheduled backup) are a notice.
 * Rules (alert-rules.ts) say which channels hear of what; messages go through
 * the outbox (alert-outbox.ts).
 */
export { ALERT_KINDS, createRuleSchema, type AlertKind, type CreateRule } from './rules.js';

export interface AlertOptions extends OutboxOptions {
  after: number;
  remindMinutes: number;
  diskPercent: number;
  /** The dashboard's public address: each message links to the page about it. */
  publicUrl?: string;
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
  const rules = createAlertRules(deps);
  const outbox = createOutbox(deps, opts);
  const actions = createIncidentActions(deps);
  let diskTimer: NodeJS.Timeout | undefined;
  let hostTimer: NodeJS.Timeout | undefined;
  let unsubscribe: (() => void) | undefined;

  /** One message about an incident to every channel whose rules take its kind and app. */
  async function tell(
    event: Message['event'],
    i: { id: number; kind: string; app: string | null },
    title: string,
    detail: string | null,
    at = nowIso(),
  ): Promise<void> {
    if (await actions.muted(i.id)) return;
    await outbox.enqueue(await rules.channelsFor(i.kind as AlertKind, i.app), i.id, {
      event,
      kind: i.kind,
      app: i.app,
      title,
      detail,
      incident_id: i.id,
      at,
      url: dashboardLink(opts.publicUrl, i.app),
    });
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
      .values({ key, kind, app, title, detail, opened_at: at, muted_until: await actions.inheritedMute(key) })
      .returning('id')
      .executeTakeFirstOrThrow();
    log.warn({ incident: row.id, kind, app }, title);
    deps.events.publish('incident.opened', app, { incident_id: row.id, kind, title });
    await tell('opened', { id: row.id, kind, app }, title, detail, at);
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
    await tell('resolved', open, title, detail, at);
  }

  /** Something that happened once: recorded as an incident opened and closed at once, one message. */
  async function notice(kind: AlertKind, app: string | null, title: string, detail: string | null): Promise<void> {
    const at = nowIso();
    const row = await db
      .insertInto('incidents')
      .values({ key: `${kind}:${app ?? ''}:${at}`, kind, app, title, detail, opened_at: at, closed_at: at })
      .returning('id')
      .executeTakeFirstOrThrow();
    await tell('notice', { id: row.id, kind, app }, title, detail, at);
  }

  /** Every health check of an app: `after` bad ones in a row open its incident, `after` good ones close it. */
  async function healthChecked(
    app: string,
    state: 'healthy' | 'unhealthy' | 'stopped' | 'sleeping',
    error: string | null,
  ): Promise<void> {
    const s = streaks.get(app) ?? { bad: 0, good: 0, stopped: false };
    // An app asleep is neither down nor a check that passed: it breaks a bad streak and opens nothing.
    if (state === 'sleeping') {
      s.bad = 0;
      streaks.set(app, s);
      return;
    }
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
    for (const { free, ...d } of await diskFree(opts.disks)) {
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

  async function remind(): Promise<void> {
    if (opts.remindMinutes <= 0) return;
    const before = new Date(Date.now() - opts.remindMinutes * 60_000).toISOString();
    const open = await db
      .selectFrom('incidents')
      .selectAll()
      .where('closed_at', 'is', null)
      .where('acknowledged_at', 'is', null)
      .where('opened_at', '<=', before)
      .where((eb) => eb.or([eb('reminded_at', 'is', null), eb('reminded_at', '<=', before)]))
      .execute();
    for (const i of open) {
      await db.updateTable('incidents').set({ reminded_at: nowIso() }).where('id', '=', i.id).execute();
      await tell('reminder', i, i.title, i.detail);
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
      outbox.start(remind);
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
    },
    async stop() {
      unsubscribe?.();
      outbox.stop();
      clearInterval(diskTimer);
      clearInterval(hostTimer);
    },
    test: outbox.test,
    outbox: outbox.list,
    rules: rules.list,
    acknowledge: actions.acknowledge,
    mute: actions.mute,
    addRule: rules.add,
    removeRule: rules.remove,
    incidents: actions.list,
  };
}

export type Alerts = ReturnType<typeof createAlerts>;
