import { appDirOf, appUserOf, socketUnitOf, wakeUnitOf } from './naming.js';
import path from 'node:path';

/**
 * The unit's layout version, written into every unit. A unit of an older layout
 * is re-rendered when the daemon starts (the host was upgraded under it).
 */
export const UNIT_LAYOUT = 3;

export interface UnitContext {
  name: string;
  /** The app's own user and group. */
  apps_user: string;
  app_dir: string;
  apps_dir: string;
  releases_dir: string;
  release_dir: string;
  release_bin: string;
  /** Directories the app must not see at all: the daemon's store, pocketd's config. */
  hidden: string[];
  port: number;
  /** The port the app itself listens on: its own port, or while it may sleep the port behind the proxy. */
  listen_port: number;
  /** `listen_port` as /proc/net/tcp spells it (four upper-case hex digits). */
  listen_hex: string;
  /** The proxy that wakes the app (templates/wake.service.hbs), while it may sleep; null otherwise. */
  wake_unit: string | null;
  socket_unit: string | null;
  app_unit: string;
  sleep_after: number | null;
  /**
   * Starts allowed in 120 s before systemd gives up (a crash loop): 10, and for an app that may sleep as many
   * more as wakes can come in that time (one per idle time at most).
   */
  start_burst: number;
  env_file: string;
  memory_max: string | null;
  cpu_quota: number | null;
}

export interface SiteContext {
  name: string;
  addresses: string[];
  port: number;
  body_max: string;
  tls_internal: boolean;
  sleep: boolean;
}

/** Where an app's files live; the daemon's config and the helper's agree on these. */
export interface AppLayout {
  apps_dir: string;
  releases_dir: string;
  env_dir: string;
  /** The daemon's store, hidden from every app. */
  data_dir: string;
}

/** The directories of an app's layout, from the daemon's config or the helper's (both hold them). */
export const layoutOf = (c: AppLayout): AppLayout => ({
  apps_dir: c.apps_dir,
  releases_dir: c.releases_dir,
  env_dir: c.env_dir,
  data_dir: c.data_dir,
});

/** Sleep when idle: after `after_seconds` without a connection; the app listens on `app_port` behind a proxy. */
export interface SleepSettings {
  after_seconds: number;
  app_port: number;
}

/** What a unit runs, as the helper's install-unit spec says it. */
export interface UnitSettings {
  port: number;
  version: string;
  memory_max: string | null;
  cpu_quota: number | null;
  sleep?: SleepSettings | null;
}
/** What a site serves, as the helper's install-site spec says it. */
export interface SiteSettings {
  port: number;
  domains: string[];
  http_only: boolean;
  body_max: string;
  tls?: 'acme' | 'internal';
  /** The app may sleep: Caddy keeps idle connections to it only briefly, so they do not keep it awake. */
  sleep?: boolean;
}

export const envFileOf = (l: AppLayout, name: string) => path.join(l.env_dir, `${name}.env`);
export const releaseBinOf = (l: AppLayout, version: string) => path.join(l.releases_dir, version, 'pocketbase');

/** The one mapping from an app's settings to its unit's values, used by the daemon (drift) and the helper (install). */
export const unitContext = (l: AppLayout, name: string, s: UnitSettings): UnitContext => ({
  name,
  apps_user: appUserOf(name),
  app_dir: appDirOf(l.apps_dir, name),
  apps_dir: l.apps_dir,
  releases_dir: l.releases_dir,
  release_dir: path.join(l.releases_dir, s.version),
  release_bin: releaseBinOf(l, s.version),
  hidden: [l.data_dir, path.dirname(l.env_dir)],
  port: s.port,
  listen_port: s.sleep ? s.sleep.app_port : s.port,
  listen_hex: (s.sleep ? s.sleep.app_port : s.port).toString(16).toUpperCase().padStart(4, '0'),
  wake_unit: s.sleep ? wakeUnitOf(name) : null,
  socket_unit: s.sleep ? socketUnitOf(name) : null,
  app_unit: `pb-${name}.service`,
  sleep_after: s.sleep ? s.sleep.after_seconds : null,
  start_burst: s.sleep ? 10 + Math.ceil(120 / s.sleep.after_seconds) : 10,
  env_file: envFileOf(l, name),
  memory_max: s.memory_max,
  cpu_quota: s.cpu_quota,
});

export const siteContext = (name: string, s: SiteSettings): SiteContext => ({
  name,
  addresses: s.domains.map((d) => (s.http_only ? `http://${d}` : d)),
  port: s.port,
  body_max: s.body_max,
  tls_internal: !s.http_only && s.tls === 'internal',
  sleep: s.sleep === true,
});

export class TemplateError extends Error {
  override name = 'TemplateError';
}

// Values are validated before they get here; this is the last line: anything
// that could end a directive, open a block or quote text is refused, not escaped.
const UNSAFE = /[\0-\x1f\x7f{}"'`\\;$%\s]/;

/** Throws a TemplateError naming the first value that may not reach a unit or site file. */
export function assertSafe(ctx: object): void {
  for (const [key, value] of Object.entries(ctx)) {
    const values: unknown[] = Array.isArray(value) ? value : [value];
    for (const v of values) {
      if (v === null || typeof v === 'number' || typeof v === 'boolean') continue;
      if (typeof v !== 'string' || v.length === 0 || UNSAFE.test(v)) {
        throw new TemplateError(`template value ${key}=${JSON.stringify(v)} is not allowed in a unit or site file`);
      }
    }
  }
}
