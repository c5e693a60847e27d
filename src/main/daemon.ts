import type { Config } from '../shared/config.js';
import type { Database } from '../db/database.js';
import { createApi } from '../api/app.js';
import { startHttpServer, type HttpServer } from './http-server.js';
import type { Logger } from '../shared/log.js';
import { VERSION } from '../shared/version.js';
import { createAlerts } from '../core/alerts/alerts.js';
import { createChannels } from '../core/alerts/channels.js';
import { createCertificates } from '../core/observe/certificates.js';
import { createEventBus } from '../core/events.js';
import { createDeployments } from '../core/deployments/engine.js';
import { createApps } from '../core/apps/apps.js';
import { createSystemChecks } from '../core/observe/system.js';
import { createReleaseSource } from '../host/releases.js';
import { createPrivileged } from '../host/privileged.js';
import { createSystemd, type UnitDetails } from '../host/systemd/units.js';
import { keepUnitBus } from '../host/systemd/link.js';
import { createJournal } from '../host/journal.js';
import { createLogStreams } from '../core/observe/log-streams.js';
import { createHealthChecker } from '../core/observe/health.js';
import { createMetrics } from '../core/observe/metrics.js';
import { createHostInfo } from '../host/hostinfo.js';
import { createBundles } from '../core/bundles.js';
import { createBackups } from '../core/backups.js';
import { upgradeUnitLayout } from '../core/apps/upgrade-layout.js';
import { createAppOps } from '../core/apps/ops.js';
import { createChanges } from '../core/changes/changes.js';
import { appStore } from '../core/apps/store.js';
import { createAppHost } from '../core/apps/host.js';
import type { AppDeps } from '../core/apps/deps.js';
import { loadUi } from '../api/ui.js';
import { createAudit } from '../core/auth/audit.js';
import { auditLog } from '../api/middleware/audit-log.js';
import { createRetention } from '../core/auth/retention.js';
import { setSleepMinSeconds } from '../core/sleep/sleep-after.js';
import { createUnitFollower } from '../core/sleep/unit-follower.js';
import { createReplication } from '../core/replication/replication.js';
import { startHealing } from '../core/healing/start-healing.js';
import { adminUrlFor } from './operator-routes.js';
import { routeGroups } from './route-groups.js';
import { wireArchives } from './archives.js';
import { makePrivate, openStore } from './store.js';

export interface Daemon {
  port: number;
  stop(): Promise<void>;
}

/** Starts every subsystem in order; `stop()` ends them in reverse. */
export async function startDaemon(config: Config, log: Logger): Promise<Daemon> {
  const startedAt = Date.now();
  const { db, auth, admins } = await openStore(config);
  const stack: Array<() => Promise<void>> = [() => db.destroy()];
  let http: HttpServer | undefined;
  try {
    await makePrivate(config);
    setSleepMinSeconds(config.sleep_min_seconds);
    const events = createEventBus();
    const deployments = createDeployments(db, events, log.child({ mod: 'deployments' }), {
      stepPauseMs: config.step_pause_ms,
      queueMax: config.queue_max,
    });
    stack.push(() => deployments.idle());
    // Set below, once the subsystems that listen to unit changes exist.
    let onUnit: (unit: string, now: UnitDetails, before: UnitDetails | null) => void = () => undefined;
    const link = await keepUnitBus({
      address: config.systemd_bus,
      log: log.child({ mod: 'systemd' }),
      onChange: (unit, now, before) => onUnit(unit, now, before),
    });
    const systemd = createSystemd(() => link.bus());
    stack.push(async () => link.close());
    const journal = createJournal();
    const logStreams = createLogStreams(journal, {
      perToken: config.log_follow_per_token,
      max: config.log_follow_max,
    });
    const privileged = createPrivileged(
      config.helper,
      config.helper_sudo,
      undefined,
      config.helper_sudo ? config.helper_socket : undefined,
    );
    const releases = createReleaseSource({
      baseUrl: config.releases_url,
      releasesDir: config.releases_dir,
      workDir: config.staging_dir,
      cacheSeconds: config.releases_cache_seconds,
      log: log.child({ mod: 'releases' }),
      installer: async (version, zipFile) => {
        await privileged.run('install-release', [version], { stdinFile: zipFile, timeoutMs: 300_000 });
      },
    });
    const bundles = createBundles({ config, db, events });
    const appDeps: AppDeps = {
      config,
      log: log.child({ mod: 'apps' }),
      store: appStore(db),
      host: createAppHost({
        config,
        privileged,
        systemd,
        journal,
        events,
        healthPath: (name) => appDeps.store.healthPath(name),
      }),
      privileged,
      systemd,
      releases,
      bundles,
      deployments,
      events,
    };
    const apps = createApps(appDeps);
    const archives = wireArchives(db, appDeps, apps);
    stack.push(() => archives.stop());
    // A deleted app's tokens die with it (its identity is gone too, which refuses them on its own).
    events.subscribe((e) => {
      if (e.type === 'app.deleted' && e.app) void auth.revokeAppTokens(e.app).catch(() => undefined);
    });
    const backups = createBackups({
      db,
      privileged,
      events,
      log: log.child({ mod: 'backups' }),
      deployments,
      manualMax: config.backup_manual_max,
    });
    stack.push(() => backups.stop());
    const changes = createChanges({ ...appDeps, backups });
    const replication = createReplication({ ...appDeps, db, backups, apps });
    const ops = createAppOps(appDeps, () => backups.sync());
    // Every kind has registered its planner and recoverer by now; one missing is a wiring bug, found at start.
    deployments.assertEveryKind();
    await deployments.recoverInterrupted();
    const partial = await backups.failInterrupted();
    if (partial > 0)
      log.warn({ count: partial }, 'backups interrupted by the last stop were removed and marked failed');
    await bundles.removePartialUploads();
    await apps.markStale();
    await upgradeUnitLayout({ ...appDeps, log: log.child({ mod: 'layout' }) });
    await replication.upgradeUnits();
    await backups.sync();
    // What waited when pocketd stopped takes its turn now that recovery is done.
    await deployments.resume();
    const channels = createChannels(db);
    // Host checks are asked for later, once `system` exists.
    const alerts = createAlerts(
      { db, channels, events, log: log.child({ mod: 'alerts' }), hostChecks: () => system.run() },
      {
        after: config.alert_after,
        remindMinutes: config.alert_remind_minutes,
        diskPercent: config.disk_alert_percent,
        publicUrl: config.public_url,
        ratePerMinute: config.alert_rate_per_minute,
        timeoutMs: config.alert_timeout_ms,
        retryMax: config.alert_retry_max,
        retryMs: config.alert_retry_ms,
        disks: [
          { name: 'data', path: config.data_dir },
          { name: 'apps', path: config.apps_dir },
        ],
      },
    );
    const health = createHealthChecker(
      {
        db,
        systemd,
        events,
        log: log.child({ mod: 'health' }),
        busy: deployments.busy,
        restart: (app) => ops.autoRestart(app, 'pocketd:health'),
        onCheck: (app, state, error) => alerts.healthChecked(app, state, error),
      },
      {
        intervalSeconds: config.health_interval_seconds,
        probeTimeoutMs: config.health_probe_timeout_ms,
        restartAfter: config.health_restart_after,
        history: config.health_history,
      },
    );
    health.start();
    stack.push(() => health.stop());
    const crashes = startHealing({ config, events, log, deployments, systemd, journal, appDeps, health, alerts });
    stack.push(async () => crashes.stop());
    // systemd said a unit changed: the event goes out at once, and health follows it.
    onUnit = createUnitFollower({
      events,
      health,
      crashes,
      unit: (name) => link.bus()?.units().get(name),
      log,
    });
    const hostInfo = createHostInfo(config.data_dir);
    const metrics = createMetrics(
      { db, systemd, hostInfo, log: log.child({ mod: 'metrics' }) },
      {
        intervalSeconds: config.metrics_interval_seconds,
        history: config.metrics_history,
      },
    );
    metrics.start();
    stack.push(() => metrics.stop());
    const system = createSystemChecks({ config, systemd, journal, privileged, startedAt, drifted: apps.drifted });
    alerts.start();
    stack.push(() => alerts.stop());
    stack.push(replication.watch(alerts));
    const certificates = createCertificates({
      // Every ready app (or one) with the domains it is served at, in one query.
      domains: async (only?: string) =>
        (await appDeps.store.readyDomains(only)).map((a) => ({
          app: a.name,
          domains: appDeps.host.servedDomains(a),
        })),
      httpsPort: config.caddy_https_port,
      enabled: !config.caddy_http_only,
      events,
      log: log.child({ mod: 'certificates' }),
      onResult: (app, f) => alerts.certificateChecked(app, f, 14),
    });
    certificates.start();
    stack.push(async () => certificates.stop());
    const retention = createRetention(
      { db, log: log.child({ mod: 'retention' }), pruneFailures: auth.pruneFailures },
      { auditDays: config.audit_retention_days },
    );
    retention.start();
    stack.push(() => retention.stop());
    const audit = createAudit(db);
    const auditMiddleware = auditLog(audit);
    stack.push(() => auditMiddleware.flush());
    const adminUrl = adminUrlFor(config, appDeps.host.servedDomains);
    const ui = await loadUi(config.ui_dir);
    if (!ui) log.warn({ ui_dir: config.ui_dir }, 'no dashboard build found; the API is served without it');
    const api = createApi({
      auth,
      admins,
      log: log.child({ mod: 'api' }),
      bodyLimitBytes: config.body_limit_bytes,
      uploadLimitBytes: config.bundle_max_bytes,
      startedAt,
      trustedProxies: config.trusted_proxies,
      hosts: config.api_hosts,
      listenHost: config.listen.host,
      audit,
      auditLog: auditMiddleware,
      extra: [
        ...routeGroups({
          config,
          apps,
          ops,
          appDeps,
          certificates,
          deployments,
          system,
          releases,
          journal,
          events,
          logStreams,
          health,
          metrics,
          hostInfo,
          systemd,
          changes,
          bundles,
          backups,
          alerts,
          channels,
          replication,
          archives,
          adminUrl,
        }),
        ...(ui ? [ui] : []),
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
