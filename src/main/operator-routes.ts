import type { OpenAPIHono } from '@hono/zod-openapi';
import type { ApiEnv } from '../api/context.js';
import { registerBackupDownloadRoute } from '../api/routes/backup-download.js';
import { registerIncidentRoutes } from '../api/routes/incidents.js';
import type { Alerts } from '../core/alerts/alerts.js';
import type { Backups } from '../core/backups.js';
import { createPrivilegedStream } from '../host/privileged-stream.js';
import type { Config } from '../shared/config.js';

export { adminUrlFor } from '../core/admin-url.js';

/** The operator's routes of #31 beside the app's own: a backup's download (through the helper) and incident ack/mute. */
export function operatorRoutes(
  config: Config,
  deps: { backups: Backups; alerts: Alerts },
): Array<(app: OpenAPIHono<ApiEnv>) => void> {
  const readBackup = createPrivilegedStream(config.helper, config.helper_sudo);
  return [
    (app) => registerBackupDownloadRoute(app, { backups: deps.backups, readBackup }),
    (app) => registerIncidentRoutes(app, { alerts: deps.alerts }),
  ];
}
