import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import path from 'node:path';
import { z } from 'zod';

/**
 * The one place that reads `process.env` and the config file. Every setting has
 * an environment variable (`POCKETD_<KEY>` in upper case) and a key of the same
 * name in the optional JSON file named by `POCKETD_CONFIG`; the variable wins.
 */

const absPath = z
  .string()
  .min(1)
  .refine((p) => path.isAbsolute(p), 'must be an absolute path')
  .refine((p) => !/[\0\n\r]/.test(p), 'must not contain control characters');
const boolish = z
  .union([z.boolean(), z.enum(['true', 'false', '1', '0', 'yes', 'no'])])
  .transform((v) => v === true || v === 'true' || v === '1' || v === 'yes');
const int = (min: number, max: number) => z.coerce.number().int().min(min).max(max);

const listenSchema = z
  .string()
  .regex(/^(\[[0-9a-f:]+\]|[a-zA-Z0-9.-]+):\d{1,5}$/, 'must be host:port')
  .transform((s) => {
    const i = s.lastIndexOf(':');
    return { host: s.slice(0, i).replace(/^\[|\]$/g, ''), port: Number(s.slice(i + 1)) };
  })
  .refine((l) => l.port > 0 && l.port < 65536, 'port must be 1-65535');

const portRange = z
  .string()
  .regex(/^\d{1,5}-\d{1,5}$/, 'must be FROM-TO')
  .transform((s) => {
    const [from, to] = s.split('-').map(Number) as [number, number];
    return { from, to };
  })
  .refine((r) => r.from >= 1024 && r.to <= 65535 && r.from <= r.to, 'must lie within 1024-65535, FROM <= TO');

/** A list as a JSON array or a comma-separated string (the environment's form). */
const list = (item: z.ZodType<string, string>) =>
  z
    .union([
      z.array(z.string()),
      z.string().transform((s) =>
        s
          .split(',')
          .map((x) => x.trim())
          .filter(Boolean),
      ),
    ])
    .pipe(z.array(item).max(100));
const ipOrCidr = z.string().refine((s) => {
  const [ip = '', bits, extra] = s.split('/');
  const v = isIP(ip);
  if (v === 0 || extra !== undefined) return false;
  return bits === undefined || (/^\d{1,3}$/.test(bits) && Number(bits) <= (v === 4 ? 32 : 128));
}, 'must be IP addresses or CIDR ranges (10.0.0.0/8)');
const hostName = z
  .string()
  .max(253)
  .regex(
    /^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/,
    'must be lowercase host names',
  );

const appsUser = z.string().regex(/^[a-z_][a-z0-9_-]{0,31}$/, 'must be a valid user name');

export const configSchema = z
  .object({
    listen: listenSchema.prefault('127.0.0.1:8091'),
    data_dir: absPath.default('/var/lib/pocketd'),
    apps_dir: absPath.default('/var/lib/pocketd-apps'),
    archive_dir: absPath.default('/var/lib/pocketd-apps/.archive'),
    unit_dir: absPath.default('/etc/systemd/system'),
    sites_dir: absPath.default('/etc/caddy/pocketd'),
    env_dir: absPath.default('/etc/pocketd/env'),
    /** Root's: the helper installs verified releases here; the daemon and the apps only read them. */
    releases_dir: absPath.default('/var/lib/pocketd-releases'),
    templates_dir: absPath.optional(),
    ui_dir: absPath.optional(),
    helper: absPath.default('/usr/local/lib/pocketd/pocketd-helper'),
    helper_sudo: boolish.default(true),
    /**
     * The resident helper's socket (pocketd-helper.socket): an app's start, stop and restart go there
     * when it listens, through sudo when it does not. Used only with helper_sudo.
     */
    helper_socket: absPath.default('/run/pocketd-helper.sock'),
    apps_user: appsUser.default('pocketbase'),
    port_range: portRange.prefault('20000-20999'),
    caddy_http_only: boolish.default(false),
    /** `acme`: Caddy gets public certificates itself; `internal`: Caddy's own CA (`tls internal`: private networks, the sandbox). */
    caddy_tls: z.enum(['acme', 'internal']).default('acme'),
    /** Where Caddy serves HTTPS: pocketd reads each domain's certificate there with a TLS handshake. */
    caddy_https_port: int(1, 65535).default(443),
    /** Where Caddy serves plain HTTP (links to an app's admin with caddy_http_only). */
    caddy_http_port: int(1, 65535).default(80),
    request_body_max: z
      .string()
      .regex(/^\d{1,6}(KB|MB|GB)$/, 'must be like 64MB')
      .default('64MB'),
    releases_url: z.url({ protocol: /^https?$/ }).default('https://api.github.com'),
    releases_cache_seconds: int(0, 86400).default(600),
    health_timeout_seconds: int(1, 600).default(30),
    health_interval_seconds: int(1, 3600).default(30),
    health_probe_timeout_ms: int(100, 60_000).default(3000),
    health_restart_after: int(0, 100).default(3),
    /** An app that should run and that systemd gave up on is started again after this, doubling up to the max. */
    heal_backoff_seconds: int(1, 3600).default(10),
    heal_backoff_max_seconds: int(1, 86_400).default(300),
    /** Up this long without a crash: the back-off starts again from its first wait, the crash loop is over. */
    heal_stable_seconds: int(1, 86_400).default(120),
    /** One crash notice per app in this time at most (the loop is the incident). */
    crash_notice_minutes: int(0, 1440).default(10),
    health_history: int(10, 100_000).default(500),
    metrics_interval_seconds: int(1, 3600).default(60),
    /** Samples kept per app (and for the host): 1440 at one minute is a day. */
    metrics_history: int(10, 100_000).default(1440),
    body_limit_bytes: int(1024, 1024 * 1024 * 1024).default(1024 * 1024),
    /** An uploaded bundle (the zip itself), its unpacked size, its file count and the largest ratio of one entry. */
    bundle_max_bytes: int(1024, 4 * 1024 ** 3).default(100 * 1024 * 1024),
    bundle_max_unpacked_bytes: int(1024, 16 * 1024 ** 3).default(1024 ** 3),
    bundle_max_files: int(1, 1_000_000).default(20_000),
    bundle_max_ratio: int(2, 100_000).default(200),
    shutdown_timeout_seconds: int(1, 300).default(10),
    /** A pause at the start of each deployment step: slow motion for demos and fault tests. */
    step_pause_ms: int(0, 60_000).default(0),
    /** The shortest `sleep_after` an app may have (issue #28): a minute; tests set a few seconds. */
    sleep_min_seconds: int(1, 3600).default(60),
    /** Operations that may wait in one app's queue behind the one that runs; one more is a 429. */
    queue_max: int(1, 1000).default(10),
    /** With it set, every app is also served at <name>.<base_domain> (PocketHost's and PBLauncher's way). */
    base_domain: z
      .string()
      .max(200)
      .regex(
        /^(?=.{1,200}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/,
        'a lowercase domain such as apps.example.com',
      )
      .optional(),
    /** The dashboard's public address (https://ops.example.com): alerts link to the page about each incident. */
    public_url: z
      .url({ protocol: /^https?$/ })
      .max(500)
      .optional(),
    /** Alerts: an app is down after this many unhealthy checks in a row, and recovered after as many healthy ones. */
    alert_after: int(1, 1000).default(3),
    /** A reminder of an incident still open, every this many minutes; 0 sends none. */
    alert_remind_minutes: int(0, 10_080).default(0),
    /** The data or apps directory with less free space than this is an incident. */
    disk_alert_percent: int(0, 99).default(10),
    /** How often each app's replica is asked what the target holds (one helper call per app with a replica). */
    replica_check_seconds: int(5, 86400).default(60),
    /** A replica further behind than this, or failing, raises a `replica` incident until it is back. */
    replica_lag_alert_seconds: int(1, 86400).default(30),
    /** Messages one channel may send in a minute; the rest wait their turn. */
    alert_rate_per_minute: int(1, 10_000).default(20),
    /** A channel that does not answer in this time has failed this try. */
    alert_timeout_ms: int(100, 120_000).default(10_000),
    /** Tries of one message before it is recorded as failed; the wait doubles from alert_retry_ms. */
    alert_retry_max: int(1, 50).default(6),
    alert_retry_ms: int(10, 3_600_000).default(30_000),
    /**
     * systemd's D-Bus (the system bus, e.g. unix:path=/run/dbus/system_bus_socket) to be told of unit
     * changes; `off` reads unit state with systemctl.
     */
    systemd_bus: z
      .string()
      .regex(/^(off|unix:path=\/[A-Za-z0-9._/-]+)$/, 'must be unix:path=/... or off')
      .default('unix:path=/run/dbus/system_bus_socket'),
    /** Host names the API answers to besides its listen address and localhost (a name of a proxy in front). */
    api_hosts: list(hostName).default([]),
    /** Proxies whose X-Forwarded-For names the client (sign-in throttling); none by default. */
    trusted_proxies: list(ipOrCidr).default([]),
    session_days: int(1, 365).default(7),
    /** Failed sign-ins of one address at one account before that pair is blocked. */
    login_max_failures: int(1, 1000).default(5),
    /** Failed sign-ins of one address across accounts before the address is blocked. */
    login_max_failures_per_address: int(1, 100_000).default(50),
    login_lock_seconds: int(1, 86400).default(300),
    /** Audit rows older than this are removed (daily). */
    audit_retention_days: int(1, 3650).default(90),
    /** Manual backups kept per app; one more is refused until one is deleted. */
    backup_manual_max: int(1, 1000).default(20),
    /** Deleted apps' archives kept: for this many days, and this many at most (the oldest go first). */
    archive_keep_days: int(1, 3650).default(30),
    archive_max: int(1, 1000).default(20),
    /** Live log streams (follow=1) open at once per token, and in all. */
    log_follow_per_token: int(1, 1000).default(10),
    log_follow_max: int(1, 10_000).default(128),
    /** Bundle uploads read at once; one more waits its turn (bounded) or is a 429. */
    upload_concurrency: int(1, 64).default(2),
    log_level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  })
  .strict()
  // An app's site proxies to its port: the API's own port among the apps' would publish the API through Caddy.
  .refine((c) => c.listen.port < c.port_range.from || c.listen.port > c.port_range.to, {
    path: ['listen'],
    message: "the API's port must lie outside port_range",
  });

export type Config = z.output<typeof configSchema> & {
  /** Derived paths, fixed relative to data_dir and the package. */
  db_file: string;
  staging_dir: string;
  bundles_dir: string;
  templates_dir: string;
  ui_dir: string;
};

export class ConfigError extends Error {
  override name = 'ConfigError';
}

const packageRoot = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..', '..', '..');

const envName = (key: string) => `POCKETD_${key.toUpperCase()}`;

/** Parses the configuration once; an invalid value throws a ConfigError naming it. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  let fileValues: Record<string, unknown> = {};
  const file = env.POCKETD_CONFIG;
  if (file) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (err) {
      throw new ConfigError(`POCKETD_CONFIG: cannot read ${file}: ${(err as Error).message}`);
    }
    try {
      const parsed: unknown = JSON.parse(text);
      if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new Error('not a JSON object');
      fileValues = parsed as Record<string, unknown>;
    } catch (err) {
      throw new ConfigError(`POCKETD_CONFIG: ${file} is not a valid JSON object: ${(err as Error).message}`);
    }
  }
  const merged: Record<string, unknown> = { ...fileValues };
  const keys = Object.keys(configSchema.shape);
  for (const key of keys) {
    const value = env[envName(key)];
    if (value !== undefined && value !== '') merged[key] = value;
  }
  const known = new Set(keys);
  for (const name of Object.keys(env)) {
    if (name.startsWith('POCKETD_') && name !== 'POCKETD_CONFIG' && !known.has(name.slice(8).toLowerCase())) {
      throw new ConfigError(`${name}: unknown setting (known: ${keys.map(envName).join(', ')})`);
    }
  }
  const result = configSchema.safeParse(merged);
  if (!result.success) {
    const lines = result.error.issues.map((issue) => {
      const key = String(issue.path[0] ?? '');
      const source = env[envName(key)] !== undefined ? envName(key) : file ? `${key} in ${file}` : envName(key);
      return `${source}: ${issue.message}`;
    });
    throw new ConfigError(`invalid configuration:\n  ${lines.join('\n  ')}`);
  }
  const c = result.data;
  return {
    ...c,
    db_file: path.join(c.data_dir, 'pocketd.db'),
    staging_dir: path.join(c.data_dir, 'staging'),
    bundles_dir: path.join(c.data_dir, 'bundles'),
    templates_dir: c.templates_dir ?? path.join(packageRoot, 'templates'),
    ui_dir: c.ui_dir ?? path.join(packageRoot, 'ui', 'dist'),
  };
}
