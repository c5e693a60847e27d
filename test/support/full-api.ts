import pino from 'pino';
import { createApi } from '../../src/api/app.js';
import { registerAppRoutes } from '../../src/api/routes/apps.js';
import { registerAppHealthRoutes } from '../../src/api/routes/app-health.js';
import { registerBackupRoutes } from '../../src/api/routes/backups.js';
import { registerDeployRoutes } from '../../src/api/routes/deploy.js';
import { registerDeploymentRoutes } from '../../src/api/routes/deployments.js';
import { registerEnvRoutes } from '../../src/api/routes/env.js';
import { registerObserveRoutes } from '../../src/api/routes/observe.js';
import { createAppOps } from '../../src/core/apps/ops.js';
import { createApps } from '../../src/core/apps/apps.js';
import { createAuthService, type AuthService } from '../../src/core/auth/auth.js';
import { createAudit } from '../../src/core/auth/audit.js';
import { createBackups } from '../../src/core/backups.js';
import { createChanges } from '../../src/core/changes/changes.js';
import { createHealthChecker } from '../../src/core/observe/health.js';
import { createLogStreams } from '../../src/core/observe/log-streams.js';
import { startHttpServer } from '../../src/main/http-server.js';
import { inProcess, type InProcess } from './fake-host.js';
import { jsonCall } from './json-call.js';

export interface FullApi {
  env: InProcess;
  auth: AuthService;
  url: string;
  adminToken: string;
  /** JSON call with the admin token (or another; null for none). */
  call(method: string, path: string, body?: unknown, token?: string | null): Promise<{ status: number; body: any }>;
  close(): Promise<void>;
}

/**
 * The API's app, deployment, deploy, backup, env, health and log routes on the in-process app core (a real
 * store, the fake host of fake-host.ts), served on a loopback port: what the command line and a token's
 * seat are tested against without a sandbox.
 */
export async function fullApi(opts: { portRange?: string } = {}): Promise<FullApi> {
  const env = await inProcess({ portRange: opts.portRange ?? '41100-41149' });
  const { deps, db } = env;
  const log = pino({ level: 'silent' });
  const auth = createAuthService(db, { sessionDays: 1, maxFailures: 5, lockSeconds: 60 });
  const apps = createApps(deps);
  const ops = createAppOps(deps, async () => undefined);
  const backups = createBackups({
    db,
    privileged: deps.privileged,
    events: deps.events,
    log,
    deployments: deps.deployments,
    manualMax: 5,
  });
  const changes = createChanges({ ...deps, backups });
  const health = createHealthChecker(
    { db, systemd: deps.systemd, events: deps.events, log, busy: deps.deployments.busy, restart: async () => false },
    { intervalSeconds: 3600, probeTimeoutMs: 1000, restartAfter: 0, history: 50 },
  );
  const journal = { read: async () => [], tail: async () => [], follow: () => ({ stop() {} }) } as never;
  const logStreams = createLogStreams(journal, { perToken: 2, max: 4 });
  const api = createApi({
    audit: createAudit(db),
    auth,
    log,
    bodyLimitBytes: 1024 * 1024,
    uploadLimitBytes: 10 * 1024 * 1024,
    startedAt: Date.now(),
    trustedProxies: [],
    hosts: [],
    listenHost: '127.0.0.1',
    extra: [
      (a) => registerAppRoutes(a, apps, ops),
      (a) => registerDeploymentRoutes(a, deps.deployments),
      (a) => registerDeployRoutes(a, { changes, bundles: deps.bundles }),
      (a) => registerBackupRoutes(a, { backups, changes }),
      (a) => registerEnvRoutes(a, { apps, ops }),
      (a) => registerAppHealthRoutes(a, { health }),
      (a) => registerObserveRoutes(a, { apps, journal, events: deps.events, logStreams }),
    ],
  });
  const server = await startHttpServer(api.fetch, '127.0.0.1', 0, log);
  const url = `http://127.0.0.1:${server.port}`;
  const { token: adminToken } = await auth.createApiToken('test-admin', 'admin', 1, null);
  return {
    env,
    auth,
    url,
    adminToken,
    call: jsonCall(url, adminToken),
    async close() {
      await server.stop(1000);
      await backups.stop();
      await env.close();
    },
  };
}
