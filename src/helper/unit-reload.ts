import { lstat } from 'node:fs/promises';
import path from 'node:path';
import type { HelperContext } from './context.js';
import { unitName } from '../shared/naming.js';

/**
 * When systemd must read its unit files again (`daemon-reload`, whose cost grows with every unit
 * on the host and which makes every listener read every unit again), and when it need not.
 *
 * systemd loads a unit it does not hold from its file the first time anything asks for it (a unit
 * it once found missing is looked up again once its directory changed), so a new app's unit is
 * started without a reload. Its place in `multi-user.target` (the enabling link) is then read at
 * the next reload or boot; until then nothing loaded wants the unit, and systemd would unload it
 * once it stops. `stop` therefore reloads first when the target does not know it yet
 * (`reloadIfUnwanted`), so a stopped app stays listed as before.
 */

/** The target an app's unit is enabled in (templates/unit.service.hbs, `WantedBy=`). */
const TARGET = 'multi-user.target';

/** Whether the enabling link of the app's unit is in place. */
export const isLinked = async (ctx: HelperContext, name: string): Promise<boolean> =>
  (await lstat(path.join(ctx.config.unit_dir, `${TARGET}.wants`, unitName(name))).catch(() => null)) !== null;

/**
 * Whether a unit written as `after` (with `before` on disk until now) needs systemd to read its files
 * again: a changed unit, or one just enabled, does; a new or unchanged one only when systemd says its
 * files changed since it read them (a unit it still held while its file was gone, for one).
 */
export async function needsReload(
  ctx: HelperContext,
  name: string,
  before: string | null,
  after: string,
  linkedBefore: boolean,
): Promise<boolean> {
  if (before !== null && (before !== after || !linkedBefore)) return true;
  const said = await ctx.run(69, 'systemctl', ['show', '-p', 'NeedDaemonReload', '--value', unitName(name)]);
  return said.trim() !== 'no';
}

/** Before a stop: a unit started since its link was made, and not wanted by its target yet, is read again. */
export async function reloadIfUnwanted(ctx: HelperContext, name: string): Promise<void> {
  if (!(await isLinked(ctx, name))) return;
  const wantedBy = await ctx.run(69, 'systemctl', ['show', '-p', 'WantedBy', '--value', unitName(name)]);
  if (!wantedBy.split(/\s+/).includes(TARGET)) await ctx.run(69, 'systemctl', ['daemon-reload']);
}
