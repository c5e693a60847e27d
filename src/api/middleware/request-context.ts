import type { MiddlewareHandler } from 'hono';
import type { Logger } from '../../shared/log.js';
import type { ApiEnv } from '../context.js';

/**
 * Every request starts with the shared logger, no principal and no audit target; at debug
 * level each request is logged with its id, status and time. The logger is shared, not a child
 * per request (a child costs more than a whole fast request); what is logged carries the
 * request id itself.
 */
export function requestContext(log: Logger): MiddlewareHandler<ApiEnv> {
  const debug = log.isLevelEnabled('debug');
  return async (c, next) => {
    c.set('log', log);
    c.set('principal', null);
    c.set('auditTarget', undefined);
    if (!debug) return next();
    const t0 = performance.now();
    await next();
    log.debug(
      {
        req: c.get('requestId'),
        method: c.req.method,
        path: c.req.path,
        status: c.res.status,
        ms: Math.round(performance.now() - t0),
      },
      'request',
    );
  };
}
