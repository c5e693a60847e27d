import { copyFile, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { siteContext } from '../shared/templates.js';
import type { HelperContext } from './context.js';
import { HelperError } from './errors.js';
import type { CaddyRoutes, SiteSpec } from '../shared/protocol.js';
import { ensureRootDir, lookupUser, readIfExists, writeRootFile } from './root-files.js';
import { httpModule } from './lazy-builtins.js';

/** `caddy validate` of the whole configuration, as Caddy's own user: root never parses what a site could import. */
export async function validateCaddy(ctx: HelperContext): Promise<void> {
  const { uid, gid, home } = lookupUser(ctx.config.caddy_user);
  await ctx.run(70, 'caddy', ['validate', '--config', ctx.config.caddyfile, '--adapter', 'caddyfile'], {
    uid,
    gid,
    cwd: '/',
    env: { HOME: home, XDG_CONFIG_HOME: path.join(home, '.config'), XDG_DATA_HOME: path.join(home, '.local', 'share') },
  });
}

/** Caddy reloads its files through its admin socket (its unit's ExecReload). */
export const reloadCaddy = (ctx: HelperContext) =>
  ctx.run(71, 'systemctl', ['reload', ctx.config.caddy_unit]).then(() => undefined);

/**
 * Validates and loads the whole configuration in one step, in Caddy itself: its admin socket's `/load`
 * adapts a Caddyfile that only imports root's Caddyfile, so Caddy's own user reads and parses every file
 * (root reads none, as with `caddy validate` run as that user), and a configuration Caddy rejects leaves
 * the running one in place. One request instead of two Go processes (`caddy validate`, `caddy reload`).
 * A rejection is 70, anything else (no socket, no answer) 71.
 */
export async function loadCaddy(ctx: HelperContext): Promise<void> {
  await adminRequest(ctx.config.caddy_admin_socket, '/load', {
    body: `import ${ctx.config.caddyfile}\n`,
    headers: { 'content-type': 'text/caddyfile', 'cache-control': 'must-revalidate' },
    rejected: 70,
  });
}

/**
 * Puts a site (or none) in place, validates, reloads; on any failure puts the
 * previous one back, so one bad site never takes the others down.
 */
async function swapSite(ctx: HelperContext, name: string, text: string | null): Promise<void> {
  const dir = ctx.config.sites_dir;
  const site = path.join(dir, `${name}.caddy`);
  const backup = path.join(dir, `.${name}.caddy.prev`);
  await ensureRootDir(dir, 0o755);
  const hadPrev = (await readIfExists(site)) !== null;
  if (hadPrev) await copyFile(site, backup);
  if (text !== null) await writeRootFile(dir, `${name}.caddy`, text, 0o644);
  else await rm(site, { force: true });
  const restore = async () => {
    if (hadPrev) await rename(backup, site);
    else await rm(site, { force: true });
  };
  try {
    await loadCaddy(ctx);
  } catch (err) {
    await restore();
    const rejected = err instanceof HelperError && err.exitCode === 70;
    // Caddy kept what it ran when it rejected the files; otherwise it is asked to load the previous ones.
    if (!rejected) await loadCaddy(ctx).catch(() => undefined);
    throw new HelperError(
      rejected ? 70 : 71,
      rejected
        ? `caddy rejected the site for ${name}; the previous site was kept (${(err as Error).message})`
        : `caddy reload failed for ${name}; the previous site was restored (${(err as Error).message})`,
    );
  }
  await rm(backup, { force: true });
}

/** The site is pocketd's template: the app's validated domains, proxied to the app's own loopback port. */
export async function installSite(ctx: HelperContext, name: string, spec: SiteSpec): Promise<CaddyRoutes | null> {
  const record = await ctx.records.get(name);
  // A site only ever sends an app's domains to the port its unit listens on: no unit, no site.
  if (!record) throw new HelperError(65, `name: app ${name} has no unit installed by pocketd`);
  if (record.port !== spec.port)
    throw new HelperError(65, `port: ${spec.port} is not the port of app ${name} (${record.port})`);
  await ctx.records.assertFree(name, spec.port, spec.domains);
  await swapSite(ctx, name, ctx.templates.renderSite(siteContext(name, spec)));
  if (record) await ctx.records.put(name, { ...record, domains: spec.domains });
  // What Caddy serves now, answered at once: the daemon needs no second call to know it (nothing when
  // Caddy cannot say: the site is in place all the same, and the daemon asks again).
  return caddyRoutes(ctx).catch(() => null);
}

export async function removeSite(ctx: HelperContext, name: string): Promise<void> {
  if ((await readIfExists(path.join(ctx.config.sites_dir, `${name}.caddy`))) !== null) await swapSite(ctx, name, null);
  const record = await ctx.records.get(name);
  if (record) await ctx.records.put(name, { ...record, domains: [] });
}

/**
 * What Caddy serves now (its live config, through the admin socket only root
 * can reach) for the hosts of pocketd's apps: each host and the upstreams its
 * routes dial. Other sites on the host are not reported.
 */
export async function caddyRoutes(ctx: HelperContext): Promise<CaddyRoutes> {
  const hosts = new Set<string>();
  for (const r of (await ctx.records.all()).values()) r.domains.forEach((d) => hosts.add(d));
  const servers = await adminRequest(ctx.config.caddy_admin_socket, '/config/apps/http/servers');
  const out: Record<string, Set<string>> = {};
  for (const server of Object.values(asObject(servers))) {
    for (const route of asArray(asObject(server).routes)) {
      const matchHosts = asArray(asObject(route).match)
        .flatMap((m) => asArray(asObject(m).host))
        .filter((h): h is string => typeof h === 'string');
      const dials = collectDials(asObject(route).handle);
      for (const h of matchHosts) {
        if (!hosts.has(h)) continue;
        const set = (out[h] ??= new Set());
        dials.forEach((d) => set.add(d));
      }
    }
  }
  return Object.fromEntries(Object.entries(out).map(([h, s]) => [h, [...s].sort()]));
}

const asObject = (v: unknown): Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
const asArray = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);

function collectDials(v: unknown, out: string[] = []): string[] {
  if (Array.isArray(v)) v.forEach((x) => collectDials(x, out));
  else if (typeof v === 'object' && v !== null) {
    for (const [k, x] of Object.entries(v)) {
      if (k === 'dial' && typeof x === 'string') out.push(x);
      else collectDials(x, out);
    }
  }
  return out;
}

/** One request to Caddy's admin socket; a GET answers its JSON. A 4xx is `rejected` (the exit code), else 71. */
function adminRequest(
  socketPath: string,
  urlPath: string,
  post?: { body: string; headers: Record<string, string>; rejected: 70 | 71 },
): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const req = httpModule().request(
      {
        socketPath,
        path: urlPath,
        method: post ? 'POST' : 'GET',
        setHost: false,
        headers: { host: '', ...post?.headers },
        timeout: post ? 60_000 : 10_000,
      },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => {
          body += d;
          if (body.length > 32 * 1024 * 1024) req.destroy(new Error('too large'));
        });
        res.on('end', () => {
          const status = res.statusCode ?? 0;
          if (status !== 200) {
            const code = post && status >= 400 && status < 500 ? post.rejected : 71;
            return reject(new HelperError(code, `caddy's admin answered ${status}: ${body.slice(0, 300)}`));
          }
          try {
            resolve(post ? null : JSON.parse(body || 'null'));
          } catch (err) {
            reject(new HelperError(71, `caddy's admin sent bad JSON: ${(err as Error).message}`));
          }
        });
      },
    );
    req.on('timeout', () => req.destroy(new Error('timed out')));
    req.on('error', (err) => reject(new HelperError(71, `caddy's admin socket ${socketPath}: ${err.message}`)));
    req.end(post?.body);
  });
}
