import { randomBytes } from 'node:crypto';
import { lstat, rm } from 'node:fs/promises';
import { syncFirewall } from './firewall.js';
import { renderEnvFile } from '../shared/env-file.js';
import { releaseBinOf, unitContext } from '../shared/templates.js';
import type { HelperContext } from './context.js';
import { HelperError } from './errors.js';
import type { EnvSpec, UnitSpec } from '../shared/protocol.js';
import { ensureRootDir, writeRootFile } from './root-files.js';
import { controlSleeping, enableFor, removeWake, sleeps, writeWake } from './wake.js';

import { unitName } from '../shared/naming.js';

/** The unit is pocketd's template with validated values: the app's user, a root-owned release, the sandbox. */
export async function installUnit(ctx: HelperContext, name: string, spec: UnitSpec): Promise<void> {
  await writeUnit(ctx, name, spec);
  await daemonReload(ctx);
}

/** Makes systemd read the units again: it sees a new or changed unit, and its place in its target. */
export const daemonReload = (ctx: HelperContext) => ctx.run(69, 'systemctl', ['daemon-reload']);

/**
 * Asks for systemd's reload without waiting for it: a transient unit of root's runs `systemctl daemon-reload`
 * (systemctl's own --no-block does not apply to a reload). For a new unit that already runs: systemd loaded it
 * when asked to start it, and the reload only adds its place in its target (boot reads that from disk anyway).
 * A reload takes 180 ms on an idle host and 600 ms with 200 apps (issue #29); a create need not wait for it.
 */
export const daemonReloadSoon = (ctx: HelperContext) =>
  ctx.run(69, 'systemd-run', [
    '--no-block',
    '--quiet',
    '--collect',
    '--unit',
    `pocketd-reload-${randomBytes(4).toString('hex')}`,
    '-p',
    'Type=oneshot',
    '/usr/bin/systemctl',
    'daemon-reload',
  ]);

/** The unit's files, its record and its enablement, without the reload that makes systemd see them. */
export async function writeUnit(ctx: HelperContext, name: string, spec: UnitSpec): Promise<void> {
  await assertRelease(ctx, spec.version);
  const record = await ctx.records.get(name);
  await ctx.records.assertFree(name, spec.port, record?.domains ?? []);
  if (spec.sleep) await ctx.records.assertFree(name, spec.sleep.app_port, [], 'sleep.app_port');
  ctx.appIds(name);
  const unit = unitContext(ctx.layout, name, spec);
  const text = ctx.templates.renderUnit(unit);
  await ctx.records.put(name, {
    port: spec.port,
    version: spec.version,
    domains: record?.domains ?? [],
    ...(spec.sleep ? { app_port: spec.sleep.app_port } : {}),
  });
  // Sleep turned off: the socket gives the port back before the app takes it again.
  if (!spec.sleep) await removeWake(ctx, name);
  await writeRootFile(ctx.config.unit_dir, unitName(name), text, 0o644);
  await writeWake(ctx, unit);
  // An installed app starts at boot (or, when it may sleep, its socket listens): enabled here, in the same
  // call, rather than by another helper call; the one reload after it makes systemd see both the unit and its
  // place in its target (a stopped unit nothing wants would be unloaded, and vanish from list-units).
  await enableFor(ctx, name, spec.sleep !== null);
  await syncFirewall(ctx);
}

export async function removeUnit(ctx: HelperContext, name: string): Promise<void> {
  await removeWake(ctx, name);
  await ctx.run(69, 'systemctl', ['disable', '--now', unitName(name)], { allowFailure: true });
  await rm(`${ctx.config.unit_dir}/${unitName(name)}`, { force: true });
  await ctx.run(69, 'systemctl', ['daemon-reload']);
  await ctx.run(69, 'systemctl', ['reset-failed', unitName(name)], { allowFailure: true });
  await ctx.records.remove(name);
  await syncFirewall(ctx);
}

export async function control(
  ctx: HelperContext,
  verb: 'start' | 'stop' | 'restart' | 'enable' | 'disable',
  name: string,
): Promise<void> {
  if (await sleeps(ctx, name)) return controlSleeping(ctx, verb, name);
  if (verb !== 'start' && verb !== 'restart') return void (await ctx.run(69, 'systemctl', [verb, unitName(name)]));
  // A start asked for is a start: systemd's start limit, hit by a crash loop, would refuse it for minutes, so a
  // refused start resets the unit's failed state and is asked once more. The loop stays visible (pocketd's
  // crash_loop incident); the limit only paces systemd's own restarts. One systemctl process when nothing
  // stands in the way (issue #29: a call near one systemctl's cost).
  try {
    await ctx.run(69, 'systemctl', [verb, unitName(name)]);
  } catch (err) {
    if (!(err instanceof HelperError)) throw err;
    await ctx.run(69, 'systemctl', ['reset-failed', unitName(name)], { allowFailure: true });
    await ctx.run(69, 'systemctl', [verb, unitName(name)]);
  }
}

/**
 * Refuses unless the app's unit is at rest: inactive or failed, not starting and not waiting to
 * restart; and, for an app that may sleep, unless its socket is closed too (a request would wake it).
 */
export async function assertStopped(ctx: HelperContext, name: string): Promise<void> {
  const units = [unitName(name), `pb-${name}.socket`];
  const states = (await ctx.run(69, 'systemctl', ['show', '-p', 'ActiveState', '--value', ...units])).trim();
  const [app, socket] = states.split(/\n+/);
  if (app !== 'inactive' && app !== 'failed') throw new HelperError(74, `${unitName(name)} is ${app}; stop it first`);
  if (socket && socket !== 'inactive' && socket !== 'failed')
    throw new HelperError(74, `pb-${name}.socket is ${socket}: a request would wake the app; stop it first`);
}

/** The env file: root's, readable by the app's group only. */
export async function installEnv(ctx: HelperContext, name: string, spec: EnvSpec): Promise<void> {
  const { gid } = ctx.appIds(name);
  // systemd reads it as root; the app's group may read its own file, and no app may list the others'.
  await ensureRootDir(ctx.config.env_dir, 0o711);
  await writeRootFile(ctx.config.env_dir, `${name}.env`, renderEnvFile(spec.env), 0o640, gid);
}

export const removeEnv = (ctx: HelperContext, name: string) => rm(`${ctx.config.env_dir}/${name}.env`, { force: true });

export async function assertRelease(ctx: HelperContext, version: string): Promise<void> {
  const bin = releaseBinOf(ctx.layout, version);
  const st = await lstat(bin).catch(() => null);
  if (!st || !st.isFile() || st.uid !== 0 || (st.mode & 0o022) !== 0) {
    throw new HelperError(65, `version: PocketBase ${version} is not installed in ${ctx.config.releases_dir}`);
  }
}
