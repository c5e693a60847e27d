import type { Config } from './config.js';
import { openDatabase, migrateToLatest, type Database } from './db/database.js';
import { createAuthService } from './core/auth.js';
import { createApi } from './api/app.js';
import { startHttpServer, type HttpServer } from './http-server.js';
import type { Logger } from './log.js';
import { VERSION } from './version.js';
import { createEventBus } from './core/events.js';
import { createDeployments } from './core/deployments.js';
import { createApps } from './core/apps.js';
import { createSystemChecks } from './core/system.js';
import { createReleaseSource } from './host/releases.js';
import { createTemplates } from './host/templates.js';
import { createPrivileged } from './host/privileged.js';
import { createSystemd } from './host/systemd.js';
import { createJournal } from './host/journal.js';
import { createStaging } from './host/files.js';
import { registerAppRoutes } from './api/routes/apps.js';
import { registerDeploymentRoutes } from './api/routes/deployments.js';
import { registerSystemRoutes } from './api/routes/system.js';
import { registerObserveRoutes } from './api/routes/logs.js';
import { createHealthChecker } from './core/health.js';
import { createMetrics } from './core/metrics.js';
import { createHostInfo } from './host/hostinfo.js';
import { registerMetricsRoutes } from './api/routes/metrics.js';
import { mkdir, chmod } from 'node:fs/promises';

export interface Daemon {
  port: number;
  stop(): Promise<void>;
}

/** Opens the store and the auth service; used by `serve` and by the admin/token commands. */
export async function openStore(config: Config) {
  const db = openDatabase(config.db_file);
  await migrateToLatest(db);
  const auth = createAuthService(db, {
    sessionDays: config.session_days, maxFailures: config.login_max_failures, lockSeconds: config.login_lock_seconds,
  });
  return { db, auth };
}

/** Starts every subsystem in order; `stop()` ends them in reverse. */
export async function startDaemon(config: Config, log: Logger): Promise<Daemon> {
  const startedAt = Date.now();
  const { db, auth } = await openStore(config);
  const stack: Array<() => Promise<void>> = [() => db.destroy()];
  let http: HttpServer | undefined;
  try {
    // The apps' user runs releases from here, so the data dir must be traversable.
    await mkdir(config.releases_dir, { recursive: true, mode: 0o755 });
    await chmod(config.data_dir, 0o755);
    await chmod(config.db_file, 0o600);
    const events = createEventBus();
    const deployments = createDeployments(db, events, log.child({ mod: 'deployments' }));
    stack.push(() => deployments.idle());
    const systemd = createSystemd();
    const journal = createJournal();
    const privileged = createPrivileged(config.helper, config.helper_sudo);
    const releases = createReleaseSource({ baseUrl: config.releases_url, releasesDir: config.releases_dir, cacheSeconds: config.releases_cache_seconds, log: log.child({ mod: 'releases' }) });
    const apps = createApps({
      config, db, log: log.child({ mod: 'apps' }), events, deployments, releases, templates: createTemplates(config.templates_dir),
      privileged, systemd, journal, staging: createStaging(config.staging_dir),
    });
    const interrupted = await deployments.failInterrupted();
    if (interrupted > 0) log.warn({ count: interrupted }, 'deployments interrupted by the last stop were marked failed');
    await apps.markStale();
    const health = createHealthChecker({ db, systemd, privileged, events, log: log.child({ mod: 'health' }), busy: deployments.busy }, {
      intervalSeconds: config.health_interval_seconds, probeTimeoutMs: config.health_probe_timeout_ms,
      restartAfter: config.health_restart_after, history: config.health_history,
    });
    health.start();
    stack.push(() => health.stop());
    const host = createHostInfo(config.data_dir);
    const metrics = createMetrics({ db, systemd, host, log: log.child({ mod: 'metrics' }) }, {
      intervalSeconds: config.metrics_interval_seconds, history: config.metrics_history,
    });
    metrics.start();
    stack.push(() => metrics.stop());
    const system = createSystemChecks({ config, systemd, journal, privileged, startedAt });
    const api = createApi({
      db, auth, log: log.child({ mod: 'api' }), bodyLimitBytes: config.body_limit_bytes, startedAt,
      extra: [
        (app) => registerAppRoutes(app, apps, deployments),
        (app) => registerDeploymentRoutes(app, deployments),
        (app) => registerSystemRoutes(app, { apps, system, releases }),
        (app) => registerObserveRoutes(app, { apps, journal, events, health }),
        (app) => registerMetricsRoutes(app, { apps, metrics, health, host, deployments }),
      ],
    });
    http = await startHttpServer(api.fetch, config.listen.host, config.listen.port, log.child({ mod: 'http' }));
    const server = http;
    stack.push(() => server.stop(config.shutdown_timeout_seconds * 1000));
  } catch (err) {
    await unwind(stack);
    throw err;
  }
  log.info({ version: VERSION, data_dir: config.data_dir }, 'pocketd started');
  return {
    port: http.port,
    async stop() {
      log.info('stopping');
      await unwind(stack);
      log.info('stopped');
    },
  };
}

async function unwind(stack: Array<() => Promise<void>>): Promise<void> {
  while (stack.length > 0) await stack.pop()!();
}

export type { Database };
