import { rm } from 'node:fs/promises';
import net from 'node:net';
import { type UnitContext } from '../shared/templates.js';
import type { HelperContext } from './context.js';
import { socketUnitOf, unitName, wakeUnitOf } from '../shared/naming.js';
import { readIfExists, writeRootFile } from './root-files.js';

/**
 * The units that let an idle app sleep (issue #28): `pb-<name>.socket` holds the app's port,
 * `pbwake-<name>.service` (systemd-socket-proxyd, as the app, in the app's sandbox) forwards to
 * the app behind it and ends after the idle time; the app's unit stops when nothing needs it
 * (`StopWhenUnneeded=`), that is when the proxy has ended. Both are rendered here from root's templates, like the app's unit.
 */

/** Whether the app's record says it may sleep: its control verbs then drive the socket too. */
export const sleeps = async (ctx: HelperContext, name: string): Promise<boolean> =>
  (await ctx.records.get(name))?.app_port !== undefined;

/** Writes the socket and the proxy of an app that may sleep. */
export async function writeWake(ctx: HelperContext, unit: UnitContext): Promise<void> {
  const wake = ctx.templates.renderWake(unit);
  if (!wake) return;
  await writeRootFile(ctx.config.unit_dir, socketUnitOf(unit.name), wake.socket, 0o644);
  await writeRootFile(ctx.config.unit_dir, wakeUnitOf(unit.name), wake.service, 0o644);
}

/** Stops and removes an app's socket and proxy, if it has them (the app ends with its proxy). */
export async function removeWake(ctx: HelperContext, name: string): Promise<boolean> {
  const dir = ctx.config.unit_dir;
  const present = (await readIfExists(`${dir}/${socketUnitOf(name)}`)) !== null;
  if (!present && (await readIfExists(`${dir}/${wakeUnitOf(name)}`)) === null) return false;
  await ctx.run(69, 'systemctl', ['disable', '--now', '--quiet', socketUnitOf(name)], { allowFailure: true });
  await ctx.run(69, 'systemctl', ['stop', wakeUnitOf(name)], { allowFailure: true });
  await rm(`${dir}/${socketUnitOf(name)}`, { force: true });
  await rm(`${dir}/${wakeUnitOf(name)}`, { force: true });
  return true;
}

/**
 * At boot an app that may sleep is not started: its socket listens and the first request wakes
 * it. Otherwise the app's unit is wanted at boot, as before.
 */
export async function enableFor(ctx: HelperContext, name: string, sleep: boolean): Promise<void> {
  if (sleep) {
    await ctx.run(69, 'systemctl', ['disable', '--no-reload', '--quiet', unitName(name)]);
    await ctx.run(69, 'systemctl', ['enable', '--no-reload', '--quiet', socketUnitOf(name)]);
  } else await ctx.run(69, 'systemctl', ['enable', '--no-reload', '--quiet', unitName(name)]);
}

/**
 * start, stop, restart of an app that may sleep: the socket goes with the app, so a stopped app
 * is not woken by a request, and a started one listens even while it sleeps. A restart stops
 * all three first: the socket takes the port only once the app gave it up (sleep turned on).
 */
export async function controlSleeping(
  ctx: HelperContext,
  verb: 'start' | 'stop' | 'restart' | 'enable' | 'disable',
  name: string,
): Promise<void> {
  const all = [socketUnitOf(name), wakeUnitOf(name), unitName(name)];
  if (verb === 'enable' || verb === 'disable') {
    await ctx.run(69, 'systemctl', [verb, socketUnitOf(name)]);
    return;
  }
  if (verb !== 'start') await ctx.run(69, 'systemctl', ['stop', ...all]);
  if (verb === 'stop') return;
  // Wakes that failed (the app would not start) may have closed the socket and spent the app's start limit: a
  // start asked for is a fresh start.
  await ctx.run(69, 'systemctl', ['reset-failed', ...all], { allowFailure: true });
  // The app runs while its proxy needs it (StopWhenUnneeded=): a start opens the socket and wakes the app as a
  // request would (a connection, closed at once: the proxy counts its idle time only after a connection ended),
  // then waits for the proxy, which waits until the app listens.
  await ctx.run(69, 'systemctl', ['start', socketUnitOf(name)]);
  const record = await ctx.records.get(name);
  if (record) await knock(record.port);
  await ctx.run(69, 'systemctl', ['start', wakeUnitOf(name)]);
}

/** Opens a connection to the app's socket and closes it (bounded: 5 s). */
function knock(port: number): Promise<void> {
  return new Promise((resolve) => {
    const c = net.connect({ host: '127.0.0.1', port });
    const done = () => {
      c.destroy();
      resolve();
    };
    c.setTimeout(5000, done);
    c.once('connect', done);
    c.once('error', done);
  });
}
