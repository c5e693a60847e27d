import type { OpenAPIHono } from '@hono/zod-openapi';
import type { ApiEnv } from '../api/context.js';
import { registerAlertRoutes } from '../api/routes/alerts.js';
import { registerAppHealthRoutes } from '../api/routes/app-health.js';
import { registerAppRoutes } from '../api/routes/apps.js';
import { registerArchiveRoutes } from '../api/routes/archives.js';
import { registerBackupRoutes } from '../api/routes/backups.js';
import { registerDeployRoutes } from '../api/routes/deploy.js';
import { registerDeploymentRoutes } from '../api/routes/deployments.js';
import { registerEnvRoutes } from '../api/routes/env.js';
import { registerMetricsRoutes } from '../api/routes/metrics.js';
import { registerObserveRoutes } from '../api/routes/observe.js';
import { registerReplicaRoutes } from '../api/routes/replica.js';
import { registerRecoverRoutes } from '../api/routes/recover.js';
import { registerSystemRoutes } from '../api/routes/system.js';
import { registerUpgradeNotesRoutes } from '../api/routes/upgrade-notes.js';
import type { Alerts } from '../core/alerts/alerts.js';
import type { Channels } from '../core/alerts/channels.js';
import type { Apps } from '../core/apps/apps.js';
import type { AppDeps } from '../core/apps/deps.js';
import type { AppOps } from '../core/apps/ops.js';
import type { Archives } from '../core/archives/archives.js';
import type { Backups } from '../core/backups.js';
import type { Bundles } from '../core/bundles.js';
import type { Changes } from '../core/changes/changes.js';
import { createUpgradeNotes } from '../core/changes/upgrade-notes.js';
import type { Deployments } from '../core/deployments/engine.js';
import type { EventBus } from '../core/events.js';
import type { Certificates } from '../core/observe/certificates.js';
import type { HealthChecker } from '../core/observe/health.js';
import type { LogStreams } from '../core/observe/log-streams.js';
import type { Metrics } from '../core/observe/metrics.js';
import type { SystemChecks } from '../core/observe/system.js';
import type { createReplication } from '../core/replication/replication.js';
import type { HostInfo } from '../host/hostinfo.js';
import type { Journal } from '../host/journal.js';
import type { ReleaseSource } from '../host/releases.js';
import type { Systemd } from '../host/systemd/units.js';
import type { Config } from '../shared/config.js';
import { operatorRoutes } from './operator-routes.js';

/** What the route groups are given: the subsystems the daemon started. */
export interface RouteDeps {
  config: Config;
  appDeps: AppDeps;
  apps: Apps;
  ops: AppOps;
  certificates: Certificates;
  deployments: Deployments;
  system: SystemChecks;
  releases: ReleaseSource;
  journal: Journal;
  events: EventBus;
  logStreams: LogStreams;
  health: HealthChecker;
  metrics: Metrics;
  hostInfo: HostInfo;
  systemd: Systemd;
  changes: Changes;
  bundles: Bundles;
  backups: Backups;
  alerts: Alerts;
  channels: Channels;
  replication: ReturnType<typeof createReplication>;
  archives: Archives;
  adminUrl: (app: { name: string; domains: string[] }) => string | null;
}

/** Every group of API routes, each given only the subsystems it uses. */
export function routeGroups(d: RouteDeps): Array<(app: OpenAPIHono<ApiEnv>) => void> {
  const { apps, appDeps } = d;
  return [
    (app) => registerAppRoutes(app, apps, d.ops, (v) => d.certificates.of(appDeps.host.servedDomains(v)), d.adminUrl),
    (app) => registerDeploymentRoutes(app, d.deployments),
    (app) => registerSystemRoutes(app, { apps, system: d.system, releases: d.releases }),
    (app) => registerObserveRoutes(app, { apps, journal: d.journal, events: d.events, logStreams: d.logStreams }),
    (app) => registerAppHealthRoutes(app, { health: d.health }),
    (app) =>
      registerMetricsRoutes(app, {
        apps,
        metrics: d.metrics,
        health: d.health,
        hostInfo: d.hostInfo,
        deployments: d.deployments,
        systemdSource: d.systemd.source,
      }),
    (app) => registerDeployRoutes(app, { changes: d.changes, bundles: d.bundles }),
    (app) =>
      registerUpgradeNotesRoutes(app, {
        notes: createUpgradeNotes({
          versionOf: async (name) => (await appDeps.store.admit(name)).settings.version,
          releases: d.releases,
        }),
      }),
    (app) => registerBackupRoutes(app, { backups: d.backups, changes: d.changes }),
    (app) => registerEnvRoutes(app, { apps, ops: d.ops }),
    (app) => registerAlertRoutes(app, { alerts: d.alerts, channels: d.channels }),
    (app) => registerReplicaRoutes(app, { ...d.replication, apps }),
    (app) => registerRecoverRoutes(app, d.replication),
    (app) => registerArchiveRoutes(app, { archives: d.archives }),
    ...operatorRoutes(d.config, { backups: d.backups, alerts: d.alerts }),
  ];
}
