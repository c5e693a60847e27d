import { randomInt } from 'node:crypto';
import net from 'node:net';
import { releaseBinOf } from '../shared/templates.js';
import { TRIAL_BOOT_MS, type TrialResult } from './as-app-trial.js';
import type { HelperContext } from './context.js';
import { HelperError } from './errors.js';
import { trialPortsInUse, withTrialPort } from './firewall.js';
import { assertRelease } from './units.js';
import { appLimits, trialLimitProperties } from './unit-limits.js';

/**
 * `trial-release NAME VERSION`: boots a release on a throwaway copy of an app
 * before the app is switched to it. Root checks the release is its own, picks
 * a free port of its range that no app holds, and hands the rest to the app's
 * own sandbox (src/helper/as-app-trial.ts, the release bound read-only): the
 * copy is made, booted and removed by the app's user inside the app's
 * directory; root never walks it. The live app is not touched. A trial that is
 * not healthy is exit 77 with what the release printed.
 */

/** Copying pb_data (bounded by the sandbox's own limit), then the boot. */
const TRIAL_TOTAL_MS = 30 * 60_000 + TRIAL_BOOT_MS;
const ERROR_MAX = 3000;

const canBind = (port: number) =>
  new Promise<boolean>((resolve) => {
    const srv = net.createServer();
    srv.once('error', () => resolve(false));
    srv.listen({ port, host: '127.0.0.1', exclusive: true }, () => srv.close(() => resolve(true)));
  });

/** A port of root's range that no app's record or running trial holds and nothing listens on now. */
async function trialPort(ctx: HelperContext): Promise<number> {
  const held = new Set([...(await ctx.records.heldPorts()), ...(await trialPortsInUse(ctx))]);
  const { port_min: min, port_max: max } = ctx.config;
  for (let i = 0; i < 64; i++) {
    const p = randomInt(min, max + 1);
    if (!held.has(p) && (await canBind(p))) return p;
  }
  throw new HelperError(72, `no free port in ${min}-${max} for a trial`);
}

export async function trialRelease(ctx: HelperContext, name: string, version: string): Promise<string> {
  await assertRelease(ctx, version);
  ctx.appIds(name);
  const port = await trialPort(ctx);
  // The new release boots within the app's own limits (a release that needs more fails here, not live).
  const limits = trialLimitProperties(await appLimits(ctx, name));
  // The copy serves the app's data on that port: no other app may connect to it while it runs.
  const out = await withTrialPort(ctx, name, port, TRIAL_TOTAL_MS + 60_000, () =>
    ctx.asApp(name, 'trial', { version, timeoutMs: TRIAL_TOTAL_MS, limits }, [
      releaseBinOf(ctx.layout, version),
      String(port),
    ]),
  );
  let r: TrialResult;
  try {
    r = JSON.parse(out.trim().split('\n').pop() ?? '') as TrialResult;
  } catch {
    throw new HelperError(72, `the trial of PocketBase ${version} gave no result`);
  }
  const copied = `copy of ${r.bytes} bytes in ${r.copy_ms} ms`;
  const within = limits.length ? `; ${limits.join(', ')}` : '';
  if (r.healthy)
    return `PocketBase ${version} healthy on a ${copied}, booted in ${r.boot_ms} ms (port ${port}${within})`;
  const said = r.output.length ? r.output.join(' | ') : '(nothing)';
  // One line: the daemon keeps the helper's last lines of stderr as the error.
  const msg = `trial of PocketBase ${version} on a copy of ${name} failed (${r.reason}; ${copied}); the new release printed: ${said}`;
  throw new HelperError(77, msg.replace(/[\r\n]+/g, ' ').slice(-ERROR_MAX));
}
