import { lstat } from 'node:fs/promises';
import path from 'node:path';
import type { CaddyRoutes, CreateSpec } from '../shared/protocol.js';
import { purgeApp, prepareApp } from './app-dirs.js';
import { installSite, removeSite } from './caddy.js';
import type { HelperContext } from './context.js';
import { HelperError } from './errors.js';
import { unitName } from '../shared/naming.js';
import { control, daemonReload, daemonReloadSoon, installEnv, removeEnv, removeUnit, writeUnit } from './units.js';

/**
 * A new app in one call (issue #29): its user and directories, env, unit, site and start, the work of
 * prepare-app, install-env, install-unit, install-site and start with the checks of each, in one root
 * process instead of five. Only for an app that is not there: no unit record, no directory, no backups. A part
 * that fails removes what the call made, so a failed create leaves nothing behind, and nothing that
 * was there before is ever touched. Answers what Caddy serves, as install-site does.
 */
export async function createApp(ctx: HelperContext, name: string, spec: CreateSpec): Promise<string> {
  if (await ctx.records.get(name)) throw new HelperError(65, `name: app ${name} has a unit installed already`);
  // Neither a directory nor backups of that name: a failed create removes both, and a new app never takes
  // an older one's backups (they belong to that app, not to its name).
  for (const dir of [ctx.appDir(name), path.join(ctx.config.backups_dir, name)])
    if (await lstat(dir).catch(() => null))
      throw new HelperError(65, `name: ${dir} exists already; a create makes a new app only`);
  let routes: CaddyRoutes | null = null;
  try {
    await prepareApp(ctx, name);
    await installEnv(ctx, name, { env: spec.env });
    await writeUnit(ctx, name, spec.unit);
    // A new unit is started before systemd's reload: systemd loads a unit it never saw when it is asked to
    // start it, so PocketBase boots while Caddy loads the site, and the reload (which makes systemd see the
    // unit's place in its target) is only asked for, not waited for. An app that may sleep starts by its
    // socket, after a reload waited for and the site.
    if (!spec.unit.sleep) await ctx.run(69, 'systemctl', ['start', unitName(name)]);
    const [reload, site] = await Promise.allSettled([
      spec.unit.sleep ? daemonReload(ctx) : daemonReloadSoon(ctx),
      spec.site ? installSite(ctx, name, spec.site) : Promise.resolve(null),
    ]);
    if (reload.status === 'rejected') throw reload.reason;
    if (site.status === 'rejected') throw site.reason;
    routes = site.value;
    if (spec.unit.sleep) await control(ctx, 'start', name);
  } catch (err) {
    const left = await undoCreate(ctx, name);
    if (left.length === 0 || !(err instanceof Error)) throw err;
    throw new HelperError(
      err instanceof HelperError ? err.exitCode : 72,
      `${err.message}; removing the half-made app also failed: ${left.join('; ')}`,
    );
  }
  return routes ? JSON.stringify(routes) : '';
}

/** Removes each part a create may have made, newest first; answers the parts that could not be removed. */
async function undoCreate(ctx: HelperContext, name: string): Promise<string[]> {
  const left: string[] = [];
  const parts: Array<[string, () => Promise<unknown>]> = [
    ['unit', () => removeUnit(ctx, name)],
    ['site', () => removeSite(ctx, name)],
    ['env', () => removeEnv(ctx, name)],
    ['directory and user', () => purgeApp(ctx, name)],
  ];
  for (const [what, undo] of parts)
    await undo().catch((err: unknown) => left.push(`${what}: ${err instanceof Error ? err.message : String(err)}`));
  return left;
}
