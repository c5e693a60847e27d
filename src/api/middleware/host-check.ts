import { networkInterfaces } from 'node:os';
import type { MiddlewareHandler } from 'hono';
import type { ApiEnv } from '../context.js';
import { envelope } from '../errors.js';

const bare = (h: string) => h.toLowerCase().replace(/^\[|\]$/g, '');
const ANY = new Set(['0.0.0.0', '::', '']);

/** The host names a request may name: the listen address (every local one for a wildcard), localhost, the configured ones. */
export function allowedHosts(listenHost: string, names: readonly string[]): Set<string> {
  const out = new Set(['localhost', '127.0.0.1', '::1', ...names.map(bare)]);
  if (!ANY.has(bare(listenHost))) out.add(bare(listenHost));
  else
    for (const list of Object.values(networkInterfaces()))
      for (const i of list ?? []) out.add(bare(i.address.replace(/%.*$/, '')));
  return out;
}

/**
 * Refuses a request whose Host is not one the API is served at (421): a page on another
 * site that re-points its own name at this address (DNS rebinding) cannot reach the API.
 *
 * @example
 * app.use('*', hostCheck(allowedHosts('127.0.0.1', ['pocketd.example.com'])));
 */
export function hostCheck(allowed: Set<string>): MiddlewareHandler<ApiEnv> {
  return async (c, next) => {
    let host: string;
    try {
      host = bare(new URL(c.req.url).hostname);
    } catch {
      host = '';
    }
    if (!allowed.has(host))
      return envelope(
        c,
        421,
        'HOST_NOT_ALLOWED',
        'this pocketd does not answer to that host name; add it to api_hosts if it is yours',
      );
    return next();
  };
}
