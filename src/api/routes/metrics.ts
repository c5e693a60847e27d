import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi';
import type { Apps } from '../../core/apps/apps.js';
import { appNameSchema } from '../../core/apps/rules.js';
import type { Deployments } from '../../core/deployments/engine.js';
import type { HealthChecker } from '../../core/observe/health.js';
import type { Metrics } from '../../core/observe/metrics.js';
import { renderMetrics } from '../../core/observe/prometheus.js';
import type { HostInfo } from '../../host/hostinfo.js';
import { VERSION } from '../../shared/version.js';
import { childProcessesStarted } from '../../shared/exec.js';
import { busMessagesSeen } from '../../host/systemd/bus.js';
import { authorize, type ApiEnv } from '../context.js';
import { commonErrors, errors, json } from '../../contract/common.js';
import { range, AppMetrics, AppsSummary, SystemMetrics } from '../../contract/metrics.js';

const appMetrics = createRoute({
  method: 'get',
  path: '/api/apps/{name}/metrics',
  tags: ['observe'],
  summary: 'Sampled memory, CPU and restarts of the app, oldest first',
  request: { params: z.object({ name: appNameSchema }), query: range },
  responses: {
    200: json(AppMetrics, 'Samples'),
    ...commonErrors,
    ...errors(404),
  },
});
const appsSummary = createRoute({
  method: 'get',
  path: '/api/summary',
  tags: ['observe'],
  summary: "Every app's health and its last samples in one answer (the apps page)",
  request: { query: z.object({ limit: z.coerce.number().int().min(1).max(1440).default(60) }).strict() },
  responses: {
    200: json(AppsSummary, 'Summary'),
    ...commonErrors,
  },
});
const systemMetrics = createRoute({
  method: 'get',
  path: '/api/system/metrics',
  tags: ['observe'],
  summary: 'The host now, and its sampled history oldest first',
  request: { query: range },
  responses: {
    200: json(SystemMetrics, 'Host metrics'),
    ...commonErrors,
  },
});
const prometheus = createRoute({
  method: 'get',
  path: '/metrics',
  tags: ['observe'],
  summary: 'Prometheus text format (admin token required)',
  responses: {
    200: { content: { 'text/plain': { schema: z.string() } }, description: 'Exposition format 0.0.4' },
    ...commonErrors,
  },
});

export function registerMetricsRoutes(
  app: OpenAPIHono<ApiEnv>,
  deps: {
    apps: Apps;
    metrics: Metrics;
    health: HealthChecker;
    hostInfo: HostInfo;
    deployments: Deployments;
    systemdSource: () => 'dbus' | 'systemctl';
  },
) {
  app.openapi(appMetrics, async (c) => {
    const { name } = c.req.valid('param');
    authorize(c, { kind: 'app', app: name, level: 'read' });
    const q = c.req.valid('query');
    return c.json(await deps.metrics.forApp(name, q.since && new Date(q.since).toISOString(), q.limit), 200);
  });
  app.openapi(appsSummary, async (c) => {
    authorize(c, { kind: 'admin' });
    const [samples, states] = [await deps.metrics.forAllApps(c.req.valid('query').limit), deps.health.states()];
    const names = new Set([...samples.keys(), ...states.keys()]);
    return c.json(
      {
        apps: Object.fromEntries(
          [...names].map((n) => [n, { health: states.get(n) ?? 'unknown', samples: samples.get(n) ?? [] }]),
        ),
      },
      200,
    );
  });
  app.openapi(systemMetrics, async (c) => {
    authorize(c, { kind: 'admin' });
    const q = c.req.valid('query');
    return c.json(await deps.metrics.forHost(q.since && new Date(q.since).toISOString(), q.limit), 200);
  });
  app.openapi(prometheus, async (c) => {
    authorize(c, { kind: 'admin' });
    const [apps, host, deployments] = await Promise.all([
      deps.apps.list({ limit: 1_000_000, offset: 0 }),
      deps.hostInfo.sample(),
      deps.deployments.countByStatus(),
    ]);
    const text = renderMetrics({
      version: VERSION,
      apps: apps.apps,
      health: deps.health.states(),
      host,
      deployments,
      childProcesses: childProcessesStarted(),
      systemdSource: deps.systemdSource(),
      busMessages: busMessagesSeen(),
    });
    return c.body(text, 200, { 'content-type': 'text/plain; version=0.0.4; charset=utf-8' }) as never;
  });
}
