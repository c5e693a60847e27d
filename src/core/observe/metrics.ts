import { unitName } from '../../shared/naming.js';
import type { Selectable } from 'kysely';
import { sql } from '../../db/kysely.js';
import type { Database } from '../../db/database.js';
import type { HostMetricsTable } from '../../db/schema.js';
import { appStore } from '../apps/store.js';
import type { Logger } from '../../shared/log.js';
import type { HostInfo, HostSample } from '../../host/hostinfo.js';
import type { Systemd } from '../../host/systemd/units.js';
import { every, nowIso, type Ticker } from '../clock.js';

export interface MetricsOptions {
  intervalSeconds: number;
  /** Samples kept per app and for the host. */
  history: number;
}

export interface AppSample {
  at: string;
  active: boolean;
  memory_bytes: number | null;
  cpu_ns: number | null;
  /** CPU used since the previous sample, in percent of one core; null for the first. */
  cpu_percent: number | null;
  restarts: number;
}

/** Adds the CPU share between consecutive samples (oldest first). */
export function withCpuPercent(rows: Array<Omit<AppSample, 'cpu_percent'>>): AppSample[] {
  return rows.map((r, i) => {
    const prev = rows[i - 1];
    let cpu: number | null = null;
    if (prev && prev.cpu_ns !== null && r.cpu_ns !== null && r.cpu_ns >= prev.cpu_ns) {
      const wallNs = (Date.parse(r.at) - Date.parse(prev.at)) * 1e6;
      if (wallNs > 0) cpu = Math.round(((r.cpu_ns - prev.cpu_ns) / wallNs) * 1000) / 10;
    }
    return { ...r, cpu_percent: cpu };
  });
}

/**
 * Samples every app's memory, CPU time and restarts (one `systemctl show` for all
 * of them) and the host's load, CPU, memory and disk on a schedule, keeping a
 * bounded history of each.
 */
export function createMetrics(
  deps: { db: Database; systemd: Systemd; hostInfo: HostInfo; log: Logger },
  opts: MetricsOptions,
) {
  const { db } = deps;
  const store = appStore(db);
  let task: Ticker | null = null;
  const keepMs = opts.history * opts.intervalSeconds * 1000;

  async function sampleAll(): Promise<void> {
    const at = nowIso();
    const cutoff = new Date(Date.now() - keepMs).toISOString();
    const apps = await store.ready();
    const [details, sample] = await Promise.all([
      deps.systemd.show(apps.map((a) => unitName(a.name))),
      deps.hostInfo.sample(),
    ]);
    const rows = apps.map((a) => {
      const d = details.get(unitName(a.name));
      const active = d?.active_state === 'active';
      return {
        app: a.name,
        at,
        active: active ? 1 : 0,
        memory_bytes: active ? (d?.memory_bytes ?? null) : null,
        cpu_ns: d?.cpu_ns ?? null,
        restarts: d?.restarts ?? 0,
      };
    });
    await db.transaction().execute(async (trx) => {
      if (rows.length) await trx.insertInto('app_metrics').values(rows).execute();
      await trx
        .insertInto('host_metrics')
        .values({
          at,
          load1: sample.load1,
          cpu_percent: sample.cpu_percent,
          memory_total: sample.memory_total,
          memory_available: sample.memory_available,
          disk_total: sample.disk_total,
          disk_free: sample.disk_free,
        })
        .execute();
      await trx.deleteFrom('app_metrics').where('at', '<', cutoff).execute();
      await trx.deleteFrom('host_metrics').where('at', '<', cutoff).execute();
    });
  }

  async function forApp(app: string, since: string | undefined, limit: number) {
    await store.require(app);
    let q = db
      .selectFrom('app_metrics')
      .select(['at', 'active', 'memory_bytes', 'cpu_ns', 'restarts'])
      .where('app', '=', app)
      .orderBy('id', 'desc')
      .limit(limit + 1);
    if (since) q = q.where('at', '>=', since);
    const rows = (await q.execute()).reverse().map((r) => ({ ...r, active: r.active === 1 }));
    // One extra (older) row gives the first returned sample its CPU share.
    const samples = withCpuPercent(rows).slice(rows.length > limit ? 1 : 0);
    return { app, interval_seconds: opts.intervalSeconds, samples };
  }

  /** The last `limit` samples of every app in one query (the apps page's sparklines), oldest first per app. */
  async function forAllApps(limit: number): Promise<Map<string, ReturnType<typeof withCpuPercent>>> {
    const rows = await db
      .selectFrom((eb) =>
        eb
          .selectFrom('app_metrics')
          .select([
            'app',
            'at',
            'active',
            'memory_bytes',
            'cpu_ns',
            'restarts',
            sql<number>`row_number() over (partition by app order by id desc)`.as('n'),
          ])
          .as('m'),
      )
      .selectAll()
      .where('n', '<=', limit + 1)
      .orderBy('app')
      .orderBy('n', 'desc')
      .execute();
    const byApp = new Map<string, typeof rows>();
    for (const r of rows) byApp.set(r.app, [...(byApp.get(r.app) ?? []), r]);
    return new Map(
      [...byApp].map(([app, list]) => {
        const samples = withCpuPercent(list.map(({ app: _a, n: _n, ...r }) => ({ ...r, active: r.active === 1 })));
        return [app, samples.slice(list.length > limit ? 1 : 0)];
      }),
    );
  }

  async function forHost(
    since: string | undefined,
    limit: number,
  ): Promise<{ current: HostSample; interval_seconds: number; samples: HostMetricsRow[] }> {
    let q = db
      .selectFrom('host_metrics')
      .select(['at', 'load1', 'cpu_percent', 'memory_total', 'memory_available', 'disk_total', 'disk_free'])
      .orderBy('id', 'desc')
      .limit(limit);
    if (since) q = q.where('at', '>=', since);
    const [current, rows] = await Promise.all([deps.hostInfo.sample(), q.execute()]);
    return { current, interval_seconds: opts.intervalSeconds, samples: rows.reverse() };
  }

  return {
    start() {
      task = every(opts.intervalSeconds, () =>
        sampleAll().catch((err: unknown) => deps.log.error({ err }, 'metrics sampling failed')),
      );
    },
    async stop() {
      await task?.stop();
    },
    sampleAll,
    forApp,
    forAllApps,
    forHost,
  };
}

export type Metrics = ReturnType<typeof createMetrics>;
/** One stored sample of the host, as the store keeps it (without its row id). */
export type HostMetricsRow = Omit<Selectable<HostMetricsTable>, 'id'>;
/** The host's metrics as `GET /api/system/metrics` answers them. */
export type HostMetrics = Awaited<ReturnType<Metrics['forHost']>>;
