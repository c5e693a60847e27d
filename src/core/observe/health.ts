import { unitName } from '../../shared/naming.js';
import type { Database } from '../../db/database.js';
import type { HealthState } from '../../db/schema.js';
import { appStore } from '../apps/store.js';
import type { Logger } from '../../shared/log.js';
import { probeHealth } from '../../host/ports.js';
import type { Systemd, UnitDetails } from '../../host/systemd/units.js';
import { every, nowIso, type Ticker } from '../clock.js';
import type { EventBus } from '../events.js';
import { socketUnitOf } from '../../shared/naming.js';
import { isAsleep, probePortOf } from '../sleep/sleep-state.js';
import { healthPathOf } from '../health-path.js';

export interface HealthOptions {
  intervalSeconds: number;
  probeTimeoutMs: number;
  /** Restart an app after this many failed checks in a row; 0 turns it off. */
  restartAfter: number;
  history: number;
}

/**
 * Scheduled health checks: each app's /api/health on its loopback port, results
 * kept with a bounded history, changes of state published as events, and (when
 * configured) a restart after N failures in a row.
 */
export function createHealthChecker(
  deps: {
    db: Database;
    systemd: Systemd;
    events: EventBus;
    log: Logger;
    busy: (app: string) => boolean;
    /** Queues a restart in the app's turn; false when one already waits. */
    restart: (app: string) => Promise<boolean>;
    /** Told of every check (alerts count them). */
    onCheck?: (app: string, state: HealthState, error: string | null) => Promise<void>;
  },
  opts: HealthOptions,
) {
  const { db } = deps;
  const store = appStore(db);
  const last = new Map<string, { state: HealthState; since: string; failures: number; probeFailures: number }>();
  let task: Ticker | null = null;

  async function checkAll(): Promise<void> {
    const apps = await store.ready();
    if (apps.length === 0) return;
    const sockets = apps.filter((a) => a.sleep_after !== null).map((a) => socketUnitOf(a.name));
    const details = await deps.systemd.show([...apps.map((a) => unitName(a.name)), ...sockets]);
    await Promise.all(
      apps.map(async (a) => {
        if (deps.busy(a.name)) return;
        const d = details.get(unitName(a.name));
        let state: HealthState = 'stopped';
        let status: number | null = null;
        let latency: number | null = null;
        let error: string | null = null;
        if (isAsleep(a, d, details.get(socketUnitOf(a.name)))) {
          // Asleep is not down, and a check must not wake it: nothing is asked of it.
          state = 'sleeping';
        } else if (d?.active_state === 'active') {
          // Behind its proxy for an app that may sleep: a check neither wakes it nor keeps it awake.
          const path = healthPathOf(a.health_path);
          const r = await probeHealth(probePortOf(a), opts.probeTimeoutMs, path);
          status = r.status;
          latency = r.ms;
          state = r.status === 200 ? 'healthy' : 'unhealthy';
          error = r.status === 200 ? null : (r.error ?? `bad status: ${path} answered ${r.status}`);
          // It may have fallen asleep while it was asked.
          if (state === 'unhealthy' && a.sleep_after !== null && (await asleepNow(a.name))) {
            state = 'sleeping';
            [status, latency, error] = [null, null, null];
          }
        } else if (a.desired_state === 'running') {
          state = 'unhealthy';
          error = `the unit is ${d?.active_state ?? 'missing'}/${d?.sub_state ?? ''}`;
        }
        // Only an app whose unit runs but does not answer is restarted for its checks; one that systemd
        // gave up on is started again by the healer with its back-off (crash-watch.ts).
        await record(a.name, state, status, latency, error, d?.active_state === 'active');
      }),
    );
  }

  async function asleepNow(app: string): Promise<boolean> {
    const d = await deps.systemd.show([unitName(app), socketUnitOf(app)]);
    return isAsleep({ sleep_after: 1 }, d.get(unitName(app)), d.get(socketUnitOf(app)));
  }

  async function record(
    app: string,
    state: HealthState,
    status: number | null,
    latency: number | null,
    error: string | null,
    restartable = false,
  ) {
    const at = nowIso();
    await db
      .insertInto('health_checks')
      .values({ app, at, state, http_status: status, latency_ms: latency, error })
      .execute();
    const cutoff = await db
      .selectFrom('health_checks')
      .select('id')
      .where('app', '=', app)
      .orderBy('id', 'desc')
      .offset(opts.history)
      .limit(1)
      .executeTakeFirst();
    if (cutoff) await db.deleteFrom('health_checks').where('app', '=', app).where('id', '<=', cutoff.id).execute();
    const prev = last.get(app);
    const failures = state === 'unhealthy' ? (prev?.failures ?? 0) + 1 : 0;
    // Failed probes of a running unit in a row: what a restart is for.
    const probeFailures = state === 'unhealthy' && restartable ? (prev?.probeFailures ?? 0) + 1 : 0;
    last.set(app, { state, since: prev && prev.state === state ? prev.since : at, failures, probeFailures });
    if (prev?.state !== state) deps.events.publish('app.health', app, { from: prev?.state ?? null, to: state, error });
    await deps
      .onCheck?.(app, state, error)
      .catch((err: unknown) => deps.log.error({ app, err }, 'alerts did not take a health check'));
    if (opts.restartAfter > 0 && probeFailures >= opts.restartAfter) {
      deps.log.warn({ app, failures }, 'restarting an app after repeated failed health checks');
      last.set(app, { state, since: last.get(app)!.since, failures: 0, probeFailures: 0 });
      try {
        if (await deps.restart(app)) deps.events.publish('app.auto_restarted', app, { failures });
      } catch (err) {
        deps.log.error({ app, err }, 'automatic restart could not be queued');
      }
    }
  }

  async function status(app: string, limit: number) {
    await store.require(app);
    const history = await db
      .selectFrom('health_checks')
      .select(['at', 'state', 'http_status', 'latency_ms', 'error'])
      .where('app', '=', app)
      .orderBy('id', 'desc')
      .limit(limit)
      .execute();
    const current = last.get(app);
    const state: HealthState | 'unknown' = current?.state ?? history[0]?.state ?? 'unknown';
    return {
      state,
      since: current?.since ?? null,
      consecutive_failures: current?.failures ?? 0,
      history,
    };
  }

  /**
   * What systemd just said of an app's unit: a stop is `stopped` and a failure
   * `unhealthy` at once, and a unit that runs again is probed at once (a few
   * tries while it starts listening), not at the next round.
   */
  async function unitChanged(app: string, d: UnitDetails, asleep = false, crash: string | null = null): Promise<void> {
    const cur = last.get(app)?.state;
    // A crash is a line of the app's history each time, with how the process ended.
    if (crash !== null) {
      await record(app, 'unhealthy', null, null, crash);
      return;
    }
    if (asleep) {
      if (cur !== 'sleeping') await record(app, 'sleeping', null, null, null);
    } else if (d.active_state === 'inactive' || d.active_state === 'deactivating') {
      // Stopped on purpose (by an operation of pocketd's, or wanted stopped) is "stopped"; a unit that stopped
      // behind pocketd's back while the app should run is down.
      const row = await store.find(app);
      if (row?.desired_state === 'running' && d.active_state === 'inactive' && !deps.busy(app)) {
        if (cur !== 'unhealthy')
          await record(app, 'unhealthy', null, null, `the unit is ${d.active_state}/${d.sub_state}`);
      } else if (cur !== 'stopped') await record(app, 'stopped', null, null, null);
    } else if (d.active_state === 'failed' || d.sub_state === 'auto-restart') {
      if (cur !== 'unhealthy')
        await record(app, 'unhealthy', null, null, `the unit is ${d.active_state}/${d.sub_state}`);
    } else if (d.active_state === 'active' && cur !== 'healthy') {
      const row = await store.find(app);
      if (!row) return;
      const path = healthPathOf(row.health_path);
      let r = await probeHealth(probePortOf(row), opts.probeTimeoutMs, path);
      for (let i = 0; i < 20 && r.status !== 200; i++) {
        await new Promise((resolve) => setTimeout(resolve, 250));
        r = await probeHealth(probePortOf(row), opts.probeTimeoutMs, path);
      }
      if (r.status !== 200 && row.sleep_after !== null && (await asleepNow(app))) return;
      await record(
        app,
        r.status === 200 ? 'healthy' : 'unhealthy',
        r.status,
        r.ms,
        r.status === 200 ? null : (r.error ?? `bad status: ${path} answered ${r.status}`),
      );
    }
  }

  let unsubscribe: (() => void) | null = null;
  return {
    start() {
      task = every(opts.intervalSeconds, () =>
        checkAll().catch((err: unknown) => deps.log.error({ err }, 'health checks failed')),
      );
      // A health gate that passed is a check that passed.
      unsubscribe = deps.events.subscribe((e) => {
        if (e.type === 'app.gate_passed' && e.app) {
          const ms = typeof e.data.latency_ms === 'number' ? e.data.latency_ms : null;
          void record(e.app, 'healthy', 200, ms, null).catch((err: unknown) =>
            deps.log.error({ err }, 'recording a health gate failed'),
          );
        }
      });
    },
    async stop() {
      unsubscribe?.();
      await task?.stop();
    },
    unitChanged,
    checkAll,
    status,
    /** The last known state of each checked app. */
    states: (): Map<string, HealthState> => new Map([...last].map(([app, v]) => [app, v.state])),
  };
}

export type HealthChecker = ReturnType<typeof createHealthChecker>;
/** An app's health as `GET /api/apps/:name/health` answers it. */
export type AppHealth = Awaited<ReturnType<HealthChecker['status']>>;
