import { TrieRouter } from 'hono/router/trie-router';
import { OpenAPIHono } from '@hono/zod-openapi';
import { requestId } from 'hono/request-id';
import type { Logger } from '../shared/log.js';
import type { Audit } from '../core/auth/audit.js';
import type { AuthService } from '../core/auth/auth.js';
import type { Admins } from '../core/auth/admins.js';
import { VERSION } from '../shared/version.js';
import type { ApiEnv } from './context.js';
import { envelope, onError, zodFields } from './errors.js';
import { jsonGuard } from './middleware/json-guard.js';
import { bearer } from './middleware/bearer.js';
import { bodyLimits } from './middleware/body-limits.js';
import { requestContext } from './middleware/request-context.js';
import { invalid } from '../shared/errors.js';
import { registerHealthRoutes } from './routes/health.js';
import { clientKeyOf, registerAuthRoutes } from './routes/auth.js';
import { registerAdminRoutes } from './routes/admins.js';
import { registerTwoFactorRoutes } from './routes/two-factor.js';
import { registerTokenRoutes } from './routes/tokens.js';
import { registerAuditRoutes } from './routes/audit.js';
import { auditLog } from './middleware/audit-log.js';
import { clientAddressResolver } from './middleware/client-address.js';
import { allowedHosts, hostCheck } from './middleware/host-check.js';
import { scopeTableMarkdown } from '../contract/scopes.js';

export interface ApiDeps {
  /** The audit log (core): the middleware writes it, the audit route reads it. */
  audit: Audit;
  auth: AuthService;
  /** The admins and their second factor (dashboard routes under /api/admins and /api/auth). */
  admins?: Admins;
  log: Logger;
  bodyLimitBytes: number;
  /** Largest bundle upload. */
  uploadLimitBytes?: number;
  startedAt: number;
  /** Proxies (addresses or CIDRs) whose X-Forwarded-For names the client; none by default. */
  trustedProxies?: readonly string[];
  /**
   * Host names the API answers to besides its listen address and localhost (DNS rebinding); with
   * it left out (in-process tests) any host is answered.
   */
  hosts?: readonly string[];
  listenHost?: string;
  /** The audit log's middleware, when the caller flushes its counts on stop. */
  auditLog?: ReturnType<typeof auditLog>;
  /** Extra route groups (apps, releases, ...) registered by the caller. */
  extra?: Array<(app: OpenAPIHono<ApiEnv>) => void>;
}

/** Builds the whole HTTP app once; tests call `app.request()` on the same stack. */
export function createApi(deps: ApiDeps): OpenAPIHono<ApiEnv> {
  const app = new OpenAPIHono<ApiEnv>({
    strict: false,
    defaultHook: (result) => {
      if (!result.success) {
        const target = (result as { target?: string }).target;
        const prefix = target === 'query' ? 'query' : target === 'param' ? 'path' : '';
        throw invalid(zodFields(result.error.issues, prefix));
      }
      return undefined;
    },
  });

  app.use('*', requestId({ headerName: 'X-Request-Id', limitLength: 64 }));
  if (deps.hosts) app.use('*', hostCheck(allowedHosts(deps.listenHost ?? '127.0.0.1', deps.hosts)));
  app.use('*', requestContext(deps.log));
  app.use('/api/*', bodyLimits({ jsonBytes: deps.bodyLimitBytes, uploadBytes: deps.uploadLimitBytes }));
  app.use('/api/*', bearer(deps.auth));
  app.use('/metrics', bearer(deps.auth));
  app.use('/api/*', jsonGuard());
  app.use('/api/*', deps.auditLog?.middleware ?? auditLog(deps.audit).middleware);

  registerHealthRoutes(app, { version: VERSION, startedAt: deps.startedAt });
  const clientAddress = clientAddressResolver(deps.trustedProxies ?? []);
  registerAuthRoutes(app, deps.auth, clientAddress);
  if (deps.admins) {
    const accounts = {
      admins: deps.admins,
      addressOf: (c: Parameters<typeof clientKeyOf>[0]) => clientKeyOf(c, clientAddress),
    };
    registerAdminRoutes(app, accounts);
    registerTwoFactorRoutes(app, accounts);
  }
  registerTokenRoutes(app, deps.auth);
  registerAuditRoutes(app, deps.audit);
  for (const register of deps.extra ?? []) register(app);

  app.openAPIRegistry.registerComponent('securitySchemes', 'bearer', {
    type: 'http',
    scheme: 'bearer',
    description: `A token's scope says what it may do (403 otherwise):\n\n${scopeTableMarkdown()}`,
  });
  // Built once, on first ask, when every route group is registered.
  let doc: OpenApiShape | null = null;
  app.get('/api/openapi.json', (c) => {
    doc ??= describeOperations(
      app.getOpenAPI31Document({
        openapi: '3.1.0',
        info: {
          title: 'pocketd',
          version: VERSION,
          description: `Manage PocketBase apps on one host.\n\n## Scopes\n\n${scopeTableMarkdown()}`,
          license: { name: 'MIT', url: 'https://opensource.org/licenses/MIT' },
        },
        servers: [{ url: '/', description: 'This pocketd (the API is served beside its dashboard)' }],
        security: [{ bearer: [] }],
      }) as unknown as OpenApiShape,
    );
    return c.json(doc);
  });

  const allowedFor = methodsFor(app);
  app.notFound((c) => {
    const allowed = allowedFor(c.req.path);
    if (allowed.length > 0 && !allowed.includes(c.req.method)) {
      c.header('Allow', allowed.join(', '));
      return envelope(c, 405, 'METHOD_NOT_ALLOWED', `${c.req.method} is not allowed here; use ${allowed.join(', ')}`);
    }
    return envelope(c, 404, 'NOT_FOUND', `no route for ${c.req.method} ${c.req.path}`);
  });
  app.onError(onError);
  return app;
}

/**
 * The methods registered for a path, for 405 answers: hono's own trie router
 * over the app's routes (built once, on the first miss), so a path matches
 * here exactly as it would for a request.
 */
function methodsFor(app: OpenAPIHono<ApiEnv>): (path: string) => string[] {
  let router: TrieRouter<string> | null = null;
  return (path) => {
    if (!router) {
      router = new TrieRouter<string>();
      // Middleware (ALL) and catch-alls (the dashboard's GET *) say nothing of what a path allows.
      for (const r of app.routes) if (r.method !== 'ALL' && !r.path.includes('*')) router.add('ALL', r.path, r.method);
    }
    return [...new Set(router.match('GET', path)[0].map(([method]) => method))];
  };
}

const TAGS: Record<string, string> = {
  health: 'Whether pocketd answers',
  auth: 'Signing in and out',
  tokens: 'API tokens and their scopes',
  audit: 'What was changed, by whom',
  apps: 'Apps: create, configure, start, stop, delete',
  deployments: 'Operations on apps, in turn',
  system: 'The host and its checks',
  observe: 'Logs, events and health',
  metrics: 'Metrics of apps and the host',
  deploy: 'Releases, bundles, upgrades, rollbacks',
  backups: "Backups, restores and the app's environment",
  alerts: 'Channels, rules, incidents and the messages sent',
};

/**
 * Names every operation (`getAppsByName`, `postAppsByNameUpgrade`: the method
 * and the path, so the name cannot drift from the route) and describes the tags.
 */
interface OpenApiShape {
  paths?: Record<string, Record<string, unknown>>;
  tags?: Array<{ name: string; description?: string }>;
}
function describeOperations(d: OpenApiShape): OpenApiShape {
  const used = new Set<string>();
  for (const [p, methods] of Object.entries(d.paths ?? {})) {
    for (const [method, op] of Object.entries(methods)) {
      if (!op || typeof op !== 'object' || !['get', 'post', 'put', 'patch', 'delete'].includes(method)) continue;
      const o = op as { operationId?: string; tags?: string[] };
      const words = p
        .replace(/^\/api\/?/, '')
        .split('/')
        .filter(Boolean)
        .map((w) => (w.startsWith('{') ? `by-${w.slice(1, -1)}` : w))
        .flatMap((w) => w.split(/[-_.]/))
        .filter(Boolean)
        .map((w) => w[0]!.toUpperCase() + w.slice(1));
      o.operationId ??= method + words.join('');
      if (used.has(o.operationId)) throw new Error(`two operations are named ${o.operationId}`);
      used.add(o.operationId);
      for (const t of o.tags ?? [])
        if (!(d.tags ?? []).some((x) => x.name === t)) (d.tags ??= []).push({ name: t, description: TAGS[t] ?? t });
    }
  }
  return d;
}
