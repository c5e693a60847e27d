/** Where Caddy serves the apps: the scheme and port a browser must use to reach a domain. */
export interface SiteOrigin {
  httpOnly: boolean;
  httpPort: number;
  httpsPort: number;
}

/**
 * PocketBase's own admin (/_/) on the app's first served domain, with the scheme and
 * port Caddy really serves it on (http with caddy_http_only, a port only when it is
 * not the scheme's own); null for an app served on loopback only.
 */
export function adminUrlOf(domains: readonly string[], site: SiteOrigin): string | null {
  const domain = domains.find((d) => !d.startsWith('*.'));
  if (!domain) return null;
  const [scheme, port, usual] = site.httpOnly ? ['http', site.httpPort, 80] : ['https', site.httpsPort, 443];
  return `${scheme}://${domain}${port === usual ? '' : `:${port}`}/_/`;
}

/** The admin link of an app (at the domains `served` says it has), as this host's Caddy settings serve it. */
export const adminUrlFor =
  <A>(
    config: { caddy_http_only: boolean; caddy_http_port: number; caddy_https_port: number },
    served: (app: A) => readonly string[],
  ) =>
  (app: A): string | null =>
    adminUrlOf(served(app), {
      httpOnly: config.caddy_http_only,
      httpPort: config.caddy_http_port,
      httpsPort: config.caddy_https_port,
    });
