import type { Logger } from '../../shared/log.js';
import type { UnitDetails } from '../../host/systemd/units.js';
import type { EventBus } from '../events.js';
import { backoffSeconds, crashKind } from './backoff.js';

export interface HealingOptions {
  backoffSeconds: number;
  backoffMaxSeconds: number;
  stableSeconds: number;
  /** At most one crash notice per app in this time (0: every crash). */
  crashNoticeMinutes: number;
}

/** What the watcher needs of the rest of pocketd, each a narrow function (wired in daemon.ts). */
export interface CrashWatchDeps {
  events: EventBus;
  log: Logger;
  /** Whether the app should run (its desired state), false for an unknown app. */
  shouldRun: (app: string) => Promise<boolean>;
  /** Whether an operation of the app runs now (its crashes are the operation's business). */
  busy: (app: string) => boolean;
  /** How the unit's main process ended, in words; null when unknown. */
  exitOf: (app: string) => Promise<string | null>;
  /** The app's last log lines. */
  tail: (app: string, lines: number) => Promise<string[]>;
  /** The unit as systemd says it is now. */
  unit: (app: string) => Promise<UnitDetails | undefined>;
  /** Starts the app in its turn (the helper resets systemd's start limit first). */
  start: (app: string) => Promise<void>;
  /** The app's last health failure ("connection refused: ..."), if any. */
  lastHealthError: (app: string) => Promise<string | null>;
  alerts: {
    notice(kind: 'app_crashed', app: string, title: string, detail: string | null): Promise<void>;
    raise(key: string, kind: 'crash_loop', app: string, title: string, detail: string | null): Promise<void>;
    resolve(key: string, title: string, detail: string | null): Promise<void>;
  };
}

/**
 * Self-healing: every crash of an app's process is an event (`app.crashed`, with how it ended) and a line of
 * the app's health history, and a notice that only a rule for `app_crashed` sends. An app that should run
 * and that systemd gave up on (its start limit, or any failure) is a `crash_loop` incident naming the exit,
 * the last log lines and the last health failure, and is started again after a back-off that doubles up to
 * a bound, however often systemd gives up: the loop stays visible while the app keeps coming back. Up
 * `stableSeconds` without a crash, the back-off starts over and the incident closes.
 * One timer per app at most; none for an app that is not in a loop.
 */
export function createCrashWatch(deps: CrashWatchDeps, opts: HealingOptions) {
  const state = new Map<string, { attempt: number; timer?: NodeJS.Timeout; stable?: NodeJS.Timeout }>();
  const noticed = new Map<string, number>();
  const of = (app: string) => {
    let s = state.get(app);
    if (!s) state.set(app, (s = { attempt: 0 }));
    return s;
  };

  /** Returns the crash's words when this change is a crash (health records them), else null. */
  async function unitChanged(app: string, now: UnitDetails, before: UnitDetails | null): Promise<string | null> {
    const kind = crashKind(now, before);
    if (now.active_state === 'active' && before?.active_state !== 'active') watchStable(app);
    if (kind === null) return null;
    const s = state.get(app);
    clearTimeout(s?.stable);
    if (deps.busy(app) || !(await deps.shouldRun(app))) return null;
    const exit = (await deps.exitOf(app).catch(() => null)) ?? 'ended';
    const reason =
      kind === 'restarting'
        ? `crashed: ${exit}; systemd restarts it (restart ${now.restarts + 1})`
        : `crashed: ${exit}; systemd gave up after ${now.restarts} restarts`;
    deps.events.publish('app.crashed', app, { exit, restarts: now.restarts, gave_up: kind === 'gave_up' });
    deps.log.warn({ app, exit, restarts: now.restarts }, 'an app crashed');
    const last = noticed.get(app) ?? 0;
    if (Date.now() - last >= opts.crashNoticeMinutes * 60_000) {
      noticed.set(app, Date.now());
      await deps.alerts.notice('app_crashed', app, `${app} crashed`, `${reason}\n${await logLines(app)}`);
    }
    if (kind === 'gave_up') await gaveUp(app, exit, now);
    return reason;
  }

  const logLines = async (app: string) => {
    const lines = await deps.tail(app, 8).catch(() => [] as string[]);
    return lines.length ? `last log lines:\n${lines.join('\n')}` : 'no log lines';
  };

  async function gaveUp(app: string, exit: string, now: UnitDetails): Promise<void> {
    const s = of(app);
    const wait = backoffSeconds(s.attempt, opts.backoffSeconds, opts.backoffMaxSeconds);
    const health = await deps.lastHealthError(app).catch(() => null);
    await deps.alerts.raise(
      `crash_loop:${app}`,
      'crash_loop',
      app,
      `${app} is in a crash loop: ${exit}`,
      [
        `its process ${exit}; systemd restarted it ${now.restarts} times and gave up (${now.active_state}/${now.sub_state})`,
        health ? `last health check: ${health}` : null,
        `pocketd starts it again in ${wait} s (attempt ${s.attempt + 1}), then waits longer each time, up to ${opts.backoffMaxSeconds} s`,
        await logLines(app),
      ]
        .filter(Boolean)
        .join('\n'),
    );
    schedule(app, wait);
  }

  function schedule(app: string, seconds: number): void {
    const s = of(app);
    clearTimeout(s.timer);
    s.timer = setTimeout(() => void heal(app), seconds * 1000);
    s.timer.unref();
  }

  async function heal(app: string): Promise<void> {
    const s = of(app);
    s.timer = undefined;
    try {
      if (!(await deps.shouldRun(app))) return void forget(app);
      // An operation of the app is under way: it decides; look again after it.
      if (deps.busy(app)) return schedule(app, opts.backoffSeconds);
      const u = await deps.unit(app);
      if (u?.active_state === 'active' || u?.active_state === 'activating') return;
      s.attempt++;
      deps.log.warn({ app, attempt: s.attempt }, 'starting an app systemd gave up on');
      deps.events.publish('app.healing', app, { attempt: s.attempt });
      await deps.start(app);
    } catch (err) {
      deps.log.error({ app, err }, 'an app could not be started again; trying later');
      schedule(app, backoffSeconds(s.attempt, opts.backoffSeconds, opts.backoffMaxSeconds));
    }
  }

  /** Up long enough without a crash: the loop is over. */
  function watchStable(app: string): void {
    const s = state.get(app);
    if (!s) return;
    clearTimeout(s.stable);
    s.stable = setTimeout(() => {
      void (async () => {
        const u = await deps.unit(app);
        if (u?.active_state !== 'active') return;
        forget(app);
        await deps.alerts.resolve(`crash_loop:${app}`, `${app} is up again`, `no crash for ${opts.stableSeconds} s`);
      })().catch((err: unknown) => deps.log.error({ app, err }, 'closing a crash loop failed'));
    }, opts.stableSeconds * 1000);
    s.stable.unref();
  }

  function forget(app: string): void {
    const s = state.get(app);
    clearTimeout(s?.timer);
    clearTimeout(s?.stable);
    state.delete(app);
  }

  return {
    unitChanged,
    /** The app was deleted or stopped on purpose: no timer of it is left. */
    forget(app: string) {
      forget(app);
      noticed.delete(app);
    },
    stop() {
      for (const app of [...state.keys()]) forget(app);
    },
  };
}

export type CrashWatch = ReturnType<typeof createCrashWatch>;
