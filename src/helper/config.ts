import { lstatSync, readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { HelperError } from './errors.js';

/** The helper's own settings: root's file, never the daemon's. Its path is fixed; no variable or argument changes it. */
export const HELPER_CONFIG_FILE = '/etc/pocketd/helper.json';

const abs = z
  .string()
  .min(2)
  .max(200)
  .regex(/^(\/[A-Za-z0-9._-]+)+$/, 'must be an absolute path of plain names')
  .refine((p) => !p.split('/').includes('..'), 'must not contain ..');
const user = z.string().regex(/^[a-z_][a-z0-9_-]{0,31}$/, 'must be a user name');

export const helperConfigSchema = z
  .object({
    apps_dir: abs.default('/var/lib/pocketd-apps'),
    archive_dir: abs.default('/var/lib/pocketd-apps/.archive'),
    backups_dir: abs.default('/var/lib/pocketd-apps/.backups'),
    releases_dir: abs.default('/var/lib/pocketd-releases'),
    state_dir: abs.default('/var/lib/pocketd-helper'),
    /** The daemon's store: hidden from every app. */
    data_dir: abs.default('/var/lib/pocketd'),
    unit_dir: abs.default('/etc/systemd/system'),
    sites_dir: abs.default('/etc/caddy/pocketd'),
    env_dir: abs.default('/etc/pocketd/env'),
    caddyfile: abs.default('/etc/caddy/Caddyfile'),
    caddy_unit: z
      .string()
      .regex(/^[a-z0-9@._-]+\.service$/)
      .default('caddy.service'),
    caddy_user: user.default('caddy'),
    caddy_admin_socket: abs.default('/run/caddy/admin.sock'),
    /** The one user every app ran as before each app had its own (layouts 1 and 2): only migration uses it. */
    apps_user: user.default('pocketbase'),
    daemon_user: user.default('pocketd'),
    releases_url: z.url({ protocol: /^https?$/ }).default('https://api.github.com'),
    /** The only loopback ports an app's unit may listen on and a site may proxy to: root's word, not the daemon's. */
    port_min: z.number().int().min(1024).max(65535).default(20000),
    port_max: z.number().int().min(1024).max(65535).default(20999),
    /** Apps' uids come from this range and are never given out twice (src/helper/users.ts). */
    app_uid_min: z.number().int().min(1000).max(2_000_000_000).default(50000),
    app_uid_max: z.number().int().min(1000).max(2_000_000_000).default(59999),
  })
  .strict()
  .refine((c) => c.port_min <= c.port_max, { path: ['port_max'], message: 'must not be below port_min' })
  .refine((c) => c.app_uid_min <= c.app_uid_max, { path: ['app_uid_max'], message: 'must not be below app_uid_min' });

export type HelperConfig = z.output<typeof helperConfigSchema> & { templates_dir: string };

/** A file or directory only root may change: owned by root, not writable by group or others, not a link. */
export function assertRootOnly(file: string): void {
  let st;
  try {
    st = lstatSync(file);
  } catch (err) {
    throw new HelperError(76, `${file}: ${(err as Error).message}`);
  }
  if (st.isSymbolicLink()) throw new HelperError(76, `${file} is a symbolic link`);
  if (st.uid !== 0 || (st.mode & 0o022) !== 0)
    throw new HelperError(76, `${file} must be root's alone (owner root, no group or other write)`);
}

/**
 * Loads the helper's config and checks that everything the helper loads is
 * root's: its own code, its templates, its config, and every directory above them.
 */
export function loadHelperConfig(selfFile: string): HelperConfig {
  const installDir = path.dirname(selfFile);
  const templatesDir = path.join(installDir, 'templates');
  for (const f of [
    selfFile,
    ...ancestors(installDir),
    templatesDir,
    HELPER_CONFIG_FILE,
    ...ancestors(path.dirname(HELPER_CONFIG_FILE)),
  ])
    assertRootOnly(f);
  for (const f of readdirSync(templatesDir)) assertRootOnly(path.join(templatesDir, f));
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(HELPER_CONFIG_FILE, 'utf8'));
  } catch (err) {
    throw new HelperError(76, `${HELPER_CONFIG_FILE}: ${(err as Error).message}`);
  }
  const parsed = helperConfigSchema.safeParse(raw);
  if (!parsed.success) {
    throw new HelperError(
      76,
      `${HELPER_CONFIG_FILE}: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`,
    );
  }
  return { ...parsed.data, templates_dir: templatesDir };
}

function ancestors(dir: string): string[] {
  const out: string[] = [];
  for (let d = dir; ; d = path.dirname(d)) {
    out.push(d);
    if (d === '/') return out;
  }
}
