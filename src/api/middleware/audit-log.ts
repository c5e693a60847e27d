import type { Context, MiddlewareHandler } from 'hono';
import { auditFields, isAuditTarget, type Audit } from '../../core/auth/audit.js';
import { actorName, type ApiEnv } from '../context.js';

const READ_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/** How long refused anonymous requests of one kind share one audit row. */
const WINDOW_MS = 60_000;

/**
 * One audit row for every request that tries to change something, whatever its outcome; but
 * refused requests without a token (failed sign-ins, probes) of one kind (method, route,
 * status) share one row a minute whose fields count them, so nobody can grow the log by
 * knocking. Returns the middleware and a `flush()` that writes the counts now (on stop).
 */
export function auditLog(audit: Audit): { middleware: MiddlewareHandler<ApiEnv>; flush(): Promise<void> } {
  const refused = new Map<string, { id: number; since: number; count: number; written: number }>();

  async function flush(): Promise<void> {
    const now = Date.now();
    for (const [key, r] of refused) {
      if (r.count !== r.written) {
        await audit.setFields(r.id, JSON.stringify({ refused_requests: r.count }));
        r.written = r.count;
      }
      if (now - r.since >= WINDOW_MS) refused.delete(key);
    }
  }
  let timer: NodeJS.Timeout | null = null;

  const routeOf = (c: Context<ApiEnv>) =>
    c.req.routePath && !c.req.routePath.includes('*') ? c.req.routePath : c.req.path;

  const middleware: MiddlewareHandler<ApiEnv> = async (c, next) => {
    await next();
    if (READ_METHODS.has(c.req.method)) return;
    const p = c.get('principal');
    const anonymousRefusal = p === null && c.res.status >= 400;
    // An unknown path of an anonymous caller is one kind, whatever it says.
    const route = anonymousRefusal && c.req.routePath.includes('*') ? '(no route)' : routeOf(c);
    if (anonymousRefusal) {
      const key = `${c.req.method} ${route} ${c.res.status}`;
      const r = refused.get(key);
      if (r && Date.now() - r.since < WINDOW_MS) {
        r.count++;
        timer ??= setTimeout(() => {
          timer = null;
          void flush().catch(() => undefined);
        }, WINDOW_MS).unref();
        return;
      }
      if (r && r.count !== r.written) await flush();
    }
    // Only a well-formed name or id is recorded as the target; hostile text never reaches the store.
    const raw = c.get('auditTarget') ?? c.req.param('name') ?? c.req.param('id') ?? null;
    const target = raw !== null && isAuditTarget(raw) ? raw : null;
    // What a request that was taken asked to change: the body as the handler's validator read it (hono keeps it).
    // A refused request changed nothing and its text was not validated, so it is left out (as are dry runs).
    let fields: string | null = null;
    if (
      c.res.status < 400 &&
      (c.req.header('content-type') ?? '').startsWith('application/json') &&
      !/^\/api\/(auth|validate)\//.test(c.req.path)
    ) {
      fields = auditFields(await c.req.json().catch(() => null));
    }
    const id = await audit.record({
      actor: actorName(p),
      method: c.req.method,
      route,
      target,
      status: c.res.status,
      request_id: c.get('requestId'),
      fields,
    });
    if (anonymousRefusal)
      refused.set(`${c.req.method} ${route} ${c.res.status}`, { id, since: Date.now(), count: 1, written: 1 });
  };
  return {
    middleware,
    async flush() {
      if (timer) clearTimeout(timer);
      timer = null;
      await flush();
    },
  };
}
