import { readdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { APP_NAME_PATTERN, portSchema } from '../shared/rules.js';
import type { HelperContext } from './context.js';
import { withRootLock } from './id-lock.js';
import { ensureRootDir, portsOf, readIfExists, readUsers, writeRootFile, type AppRecord } from './root-files.js';

/** The nftables table the helper owns; nothing else in it, and nothing of it anywhere else. */
export const FIREWALL_TABLE = 'pocketd_apps';

/**
 * What one app may not do on this host's loopback: open a connection to another app's port. Units cannot say
 * it (IPAddressDeny cannot tell Caddy's connection in from the app's own out: both are 127.0.0.1), so the
 * helper keeps one nftables table, rendered whole from its own records and replaced in one transaction: for
 * each app, its ports (its PocketBase's, and for an app that may sleep the one behind its proxy) refuse a new
 * connection from any app user (the app uid range) but its own. Caddy, the daemon and root are not app users
 * and are not touched; a trial's port is its app's while the trial runs (withTrialPort).
 */
export function renderFirewall(
  apps: Array<{ uid: number; ports: number[] }>,
  range: { uidMin: number; uidMax: number },
): string {
  const refusals = apps
    .filter((a) => a.ports.length > 0)
    .map(
      (a) =>
        `    oifname "lo" tcp dport { ${a.ports.join(', ')} } meta skuid != ${a.uid} meta skuid ${range.uidMin}-${range.uidMax} ct state new reject with tcp reset`,
    );
  return [
    `table inet ${FIREWALL_TABLE}`,
    `delete table inet ${FIREWALL_TABLE}`,
    `table inet ${FIREWALL_TABLE} {`,
    '  chain output {',
    '    type filter hook output priority 0; policy accept;',
    ...refusals,
    '  }',
    '}',
    '',
  ].join('\n');
}

/** Where the table is kept for boot: deploy/pocketd-firewall.service loads it before any app starts. */
export const FIREWALL_FILE = 'firewall.nft';
/** Root's record of each trial that runs now (trial-release): the port its copy boots on, and until when. */
const TRIALS_DIR = 'trials';

const trialSchema = z.strictObject({ port: portSchema, until: z.number().int().positive() });
export type TrialPort = z.infer<typeof trialSchema>;

/**
 * Each app's ports as the table refuses them: its own (its PocketBase's, and behind its proxy while it may
 * sleep) and, while a trial of it runs, the trial's port. A trial's record counts only until its `until`
 * (a helper killed mid-trial leaves it) and never for a port an app's record holds (that port is the app's).
 */
export function firewallApps(
  records: Map<string, AppRecord>,
  trials: Map<string, TrialPort>,
  uidOf: (name: string) => number | undefined,
  now: number,
): Array<{ uid: number; ports: number[] }> {
  const held = new Set([...records.values()].flatMap(portsOf));
  const apps: Array<{ uid: number; ports: number[] }> = [];
  for (const name of new Set([...records.keys(), ...trials.keys()])) {
    const uid = uidOf(name);
    if (uid === undefined) continue;
    const r = records.get(name);
    const trial = trials.get(name);
    const own = r ? portsOf(r) : [];
    const ports = [...own, ...(trial && trial.until > now && !held.has(trial.port) ? [trial.port] : [])];
    if (ports.length > 0) apps.push({ uid, ports });
  }
  return apps;
}

async function readTrials(dir: string): Promise<Map<string, TrialPort>> {
  const out = new Map<string, TrialPort>();
  const names = await readdir(dir).catch(() => [] as string[]);
  for (const n of names) {
    if (!n.endsWith('.json') || !APP_NAME_PATTERN.test(n.slice(0, -5))) continue;
    const text = await readIfExists(path.join(dir, n));
    let raw: unknown = null;
    try {
      raw = text === null ? null : JSON.parse(text);
    } catch {
      /* a record cut short: no port */
    }
    const r = trialSchema.safeParse(raw);
    if (r.success) out.set(n.slice(0, -5), r.data);
  }
  return out;
}

/** The ports of trials that run now: a new trial takes none of them. */
export async function trialPortsInUse(ctx: HelperContext): Promise<Set<number>> {
  const now = Date.now();
  const trials = await readTrials(path.join(ctx.config.state_dir, TRIALS_DIR));
  return new Set([...trials.values()].filter((t) => t.until > now).map((t) => t.port));
}

/**
 * Puts the table in place from the helper's records, after every change of an app's unit and around every
 * trial; the same text is root's file in the helper's state directory, which pocketd-firewall.service loads
 * at boot. One sync at a time (a lock in root's state directory), each reading the records afresh inside it,
 * so the last table applied is never older than the records.
 */
export async function syncFirewall(ctx: HelperContext): Promise<void> {
  const c = ctx.config;
  await withRootLock(ctx, 'firewall.lock', 'the firewall table', async () => {
    // passwd read once for every app, not once per app.
    const users = readUsers();
    const apps = firewallApps(
      await ctx.records.all(),
      await readTrials(path.join(c.state_dir, TRIALS_DIR)),
      (name) => users.get(ctx.appUser(name))?.uid,
      Date.now(),
    );
    const script = renderFirewall(apps, { uidMin: c.app_uid_min, uidMax: c.app_uid_max });
    await writeRootFile(c.state_dir, FIREWALL_FILE, script, 0o600);
    await ctx.run(69, 'nft', ['-f', `${c.state_dir}/${FIREWALL_FILE}`]);
  });
}

/**
 * Runs a trial of `name` on `port` with that port in the table as the app's own (no other app may connect to
 * the copy it boots) for its run, at most `maxMs`; the record goes and the table is synced again after.
 */
export async function withTrialPort<T>(
  ctx: HelperContext,
  name: string,
  port: number,
  maxMs: number,
  fn: () => Promise<T>,
): Promise<T> {
  const dir = path.join(ctx.config.state_dir, TRIALS_DIR);
  await ensureRootDir(ctx.config.state_dir, 0o700);
  await ensureRootDir(dir, 0o700);
  await writeRootFile(dir, `${name}.json`, `${JSON.stringify({ port, until: Date.now() + maxMs })}\n`, 0o600);
  try {
    await syncFirewall(ctx);
    return await fn();
  } finally {
    await rm(path.join(dir, `${name}.json`), { force: true });
    await syncFirewall(ctx);
  }
}
