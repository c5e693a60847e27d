import type { Config } from '../../shared/config.js';
import type { Logger } from '../../shared/log.js';
import type { Systemd } from '../../host/systemd/units.js';
import type { Journal } from '../../host/journal.js';
import type { AppDeps } from '../apps/deps.js';
import type { Alerts } from '../alerts/alerts.js';
import type { Deployments } from '../deployments/engine.js';
import type { EventBus } from '../events.js';
import type { HealthChecker } from '../observe/health.js';
import { createCrashWatch, type CrashWatch } from './crash-watch.js';

/** The crash watch wired to the rest of pocketd as the daemon has it; `stop()` ends its timers. */
export function startHealing(d: {
  config: Config;
  events: EventBus;
  log: Logger;
  deployments: Deployments;
  systemd: Systemd;
  journal: Journal;
  appDeps: AppDeps;
  health: HealthChecker;
  alerts: Alerts;
}): CrashWatch {
  const { config, events, log, deployments, systemd, journal, appDeps, health, alerts } = d;
  const crashes = createCrashWatch(
    {
      events,
      log: log.child({ mod: 'healing' }),
      shouldRun: async (app) => (await appDeps.store.find(app))?.desired_state === 'running',
      busy: deployments.busy,
      exitOf: (app) => systemd.exitOf(`pb-${app}.service`),
      tail: (app, lines) => journal.tail(`pb-${app}.service`, lines),
      unit: (app) => appDeps.host.unitDetails(app),
      start: async (app) => {
        if (!(await deployments.isQueued(app, 'start')))
          await deployments.enqueue({ app, kind: 'start', actor: 'pocketd:heal' });
      },
      // The last check that probed (not a line of a crash or of a stopped unit): refused, timeout or bad status.
      lastHealthError: async (app) =>
        (await health.status(app, 20)).history.find((h) => h.error && !/^(crashed|the unit is)/.test(h.error))?.error ??
        null,
      alerts,
    },
    {
      backoffSeconds: config.heal_backoff_seconds,
      backoffMaxSeconds: config.heal_backoff_max_seconds,
      stableSeconds: config.heal_stable_seconds,
      crashNoticeMinutes: config.crash_notice_minutes,
    },
  );
  // Stopped on purpose or deleted: no crash loop is left to watch.
  const unsubscribe = events.subscribe((e) => {
    if ((e.type === 'app.stopped' || e.type === 'app.deleted') && e.app) {
      crashes.forget(e.app);
      void alerts
        .resolve(`crash_loop:${e.app}`, `${e.app} was ${e.type === 'app.stopped' ? 'stopped' : 'deleted'}`, null)
        .catch(() => undefined);
    }
  });
  return {
    ...crashes,
    stop() {
      unsubscribe();
      crashes.stop();
    },
  };
}
