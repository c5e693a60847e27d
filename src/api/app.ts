import { TrieRouter } from 'hono/router/trie-router';
import { OpenAPIHono } from '@hono/zod-openapi';
import type { Context, Next } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { requestId } from 'hono/request-id';
import type { Logger } from '../shared/log.js';
import type { Audit } from '../core/auth/audit.js';
import type { AuthService } from '../core/auth/auth.js';
import { VERSION } from '../shared/version.js';
import type { ApiEnv } from './context.js';
import { envelope, onError, zodFields } from './errors.js';
import { jsonProblem } from './middleware/json-guard.js';
import { invalid } from '../shared/errors.js';
import { registerHealthRoutes } from './routes/health.js';
import { registerAuthRoutes } from './routes/auth.js';
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

/** Routes that answer without a token. */
const PUBLIC = new Set(['GET /api/health', 'POST /api/auth/login', 'GET /api/openapi.json']);
const UPLOAD_PATH = /^\/api\/apps\/[^/]+\/bundles\/?$/;
const READ_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

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
  // The logger is shared, not a child per request (a child costs more than a whole fast request);
  // what is logged carries the request id itself.
  const debug = deps.log.isLevelEnabled('debug');
  app.use('*', async (c, next) => {
    c.set('log', deps.log);
    c.set('principal', null);
    c.set('auditTarget', undefined);
    if (!debug) return next();
    const t0 = performance.now();
    await next();
    deps.log.debug(
      {
        req: c.get('requestId'),
        method: c.req.method,
        path: c.req.path,
        status: c.res.status,
        ms: Math.round(performance.now() - t0),
      },
      'request',
    );
  });
  const limit = (max: number) =>
    bodyLimit({
      maxSize: max,
      onError: (c) => envelope(c as never, 413, 'PAYLOAD_TOO_LARGE', `the body is larger than ${max} bytes`),
    });
  const jsonLimit = limit(deps.bodyLimitBytes);
  // A bundle upload is streamed to disk by its handler, which bounds it as it reads: hono's
  // bodyLimit would hold a body sent without Content-Length whole in memory. A declared length
  // over the bound is refused here before anything is read.
  const uploadMax = (deps.uploadLimitBytes ?? deps.bodyLimitBytes) + 64 * 1024;
  app.use('/api/*', (c, next) => {
    if (READ_METHODS.has(c.req.method)) return next();
    if (c.req.method === 'POST' && UPLOAD_PATH.test(c.req.path)) {
      const declared = Number(c.req.header('content-length') ?? '0');
      return declared > uploadMax
        ? Promise.resolve(envelope(c as never, 413, 'PAYLOAD_TOO_LARGE', `the body is larger than ${uploadMax} bytes`))
        : next();
    }
    return jsonLimit(c as Context<ApiEnv, string>, next);
  });

  const bearer = async (c: Context<ApiEnv>, next: Next) => {
    const header = c.req.header('authorization');
    if (header !== undefined) {
      const m = /^Bearer (\S+)$/i.exec(header);
      const principal = m ? await deps.auth.authenticate(m[1]!) : null;
      if (!principal) return envelope(c, 401, 'UNAUTHENTICATED', 'the bearer token is unknown, expired or revoked');
      c.set('principal', principal);
    } else if (!PUBLIC.has(`${c.req.method} ${c.req.path}`)) {
      return envelope(c, 401, 'UNAUTHENTICATED', 'a bearer token is required (Authorization: Bearer <token>)');
    }
    return next();
  };
  app.use('/api/*', bearer);
  app.use('/metrics', bearer);

  // Duplicate keys and very deep nesting are refused before any parser sees the body.
  app.use('/api/*', async (c, next) => {
    if (!READ_METHODS.has(c.req.method) && /json/i.test(c.req.header('content-type') ?? '')) {
      const problem = jsonProblem(await c.req.text());
      if (problem)
        return envelope(c as Context<ApiEnv>, 422, 'VALIDATION_FAILED', problem, [
          { field: '(body)', code: 'MALFORMED_JSON', message: problem },
        ]);
    }
    return next();
  });

  app.use('/api/*', deps.auditLog?.middleware ?? auditLog(deps.audit).middleware);

  registerHealthRoutes(app, { version: VERSION, startedAt: deps.startedAt });
  registerAuthRoutes(app, deps.auth, clientAddressResolver(deps.trustedProxies ?? []));
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
