import { z } from 'zod';
import {
  cpuQuotaSchema,
  domainSchema,
  envSchema,
  memoryMaxSchema,
  portSchema,
  superuserSchema,
  uniqueList,
  versionSchema,
  APP_NAME_PATTERN,
} from './rules.js';
import {
  replicaCheckSpecSchema,
  replicaRestoreSpecSchema,
  replicaSpecSchema,
  replicaStatusesSpecSchema,
} from './replica-rules.js';
import { replicaFilesRestoreSpecSchema, replicaFilesSpecSchema, replicaListSpecSchema } from './replica-files.js';

/**
 * The root helper's protocol: a fixed table of verbs, each taking positional
 * arguments (an app name, a backup id, a version) and, for the verbs that write
 * configuration, a JSON spec on stdin validated by these schemas. The helper
 * renders every file root writes from its own templates; nothing the daemon
 * sends is ever copied into place as a file.
 */

/** What the helper takes after the verb: `name` an app name, `id` a backup id, `version` a PocketBase version. */
export const HELPER_VERBS = {
  'install-unit': { args: ['name'], stdin: 'unit-spec' },
  'remove-unit': { args: ['name'], stdin: null },
  start: { args: ['name'], stdin: null },
  stop: { args: ['name'], stdin: null },
  restart: { args: ['name'], stdin: null },
  enable: { args: ['name'], stdin: null },
  disable: { args: ['name'], stdin: null },
  'install-site': { args: ['name'], stdin: 'site-spec' },
  'remove-site': { args: ['name'], stdin: null },
  'validate-caddy': { args: [], stdin: null },
  'reload-caddy': { args: [], stdin: null },
  'caddy-routes': { args: [], stdin: null },
  'install-env': { args: ['name'], stdin: 'env-spec' },
  'remove-env': { args: ['name'], stdin: null },
  'install-release': { args: ['version'], stdin: 'release-zip' },
  'prepare-app': { args: ['name'], stdin: null },
  'create-app': { args: ['name'], stdin: 'create-spec' },
  'archive-app': { args: ['name'], stdin: null },
  'purge-app': { args: ['name'], stdin: null },
  'restore-archive': { args: ['name'], stdin: 'archive-spec' },
  'delete-archive': { args: [], stdin: 'archive-spec' },
  'migrate-app': { args: ['name'], stdin: null },
  superuser: { args: ['name'], stdin: 'superuser-spec' },
  backup: { args: ['name', 'id'], stdin: null },
  'restore-backup': { args: ['name', 'id'], stdin: null },
  'delete-backup': { args: ['name', 'id'], stdin: null },
  'read-backup': { args: ['name', 'id'], stdin: null },
  'install-bundle': { args: ['name'], stdin: 'bundle-zip' },
  'revert-bundle': { args: ['name'], stdin: null },
  'trial-release': { args: ['name', 'version'], stdin: null },
  'replica-install': { args: ['name'], stdin: 'replica-spec' },
  'replica-remove': { args: ['name'], stdin: null },
  'replica-start': { args: ['name'], stdin: null },
  'replica-stop': { args: ['name'], stdin: null },
  'replica-restore': { args: ['name'], stdin: 'replica-restore-spec' },
  'replica-generations': { args: ['name'], stdin: null },
  'replica-statuses': { args: [], stdin: 'replica-statuses-spec' },
  'replica-check': { args: ['name'], stdin: 'replica-check-spec' },
  'replica-files': { args: ['name'], stdin: 'replica-files-spec' },
  'replica-list': { args: [], stdin: 'replica-list-spec' },
  'replica-files-restore': { args: ['name'], stdin: 'replica-files-restore-spec' },
} as const satisfies Record<string, { args: readonly ('name' | 'id' | 'version')[]; stdin: string | null }>;

export type HelperVerb = keyof typeof HELPER_VERBS;

/** The helper's exit codes; `code` is what the daemon's errors carry. */
export const HELPER_EXIT = {
  64: { code: 'HELPER_USAGE', meaning: 'unknown verb or wrong number of arguments' },
  65: {
    code: 'HELPER_REFUSED',
    meaning: 'an argument or a spec field that does not match its rule (stderr names the field)',
  },
  66: { code: 'HELPER_INPUT', meaning: 'stdin missing, too large, or not what the verb takes' },
  69: { code: 'SYSTEMD_FAILED', meaning: 'systemctl or systemd-run failed' },
  70: { code: 'CADDY_INVALID', meaning: 'caddy rejected the configuration (the previous site is restored)' },
  71: { code: 'CADDY_RELOAD_FAILED', meaning: 'caddy reload failed (the previous site is restored and reloaded)' },
  72: { code: 'APP_DIR_FAILED', meaning: 'an operation on an app directory or a backup failed' },
  73: { code: 'SUPERUSER_FAILED', meaning: 'setting the superuser failed' },
  74: { code: 'APP_RUNNING', meaning: 'the app must be stopped for this (inactive or failed, not restarting)' },
  75: { code: 'RELEASE_UNVERIFIED', meaning: 'the release does not match the checksums the helper fetched itself' },
  76: { code: 'HELPER_UNSAFE_INSTALL', meaning: "the helper's own config or templates are not root's alone" },
  77: {
    code: 'TRIAL_FAILED',
    meaning: 'the new release was not healthy on a copy of the app (stderr: why, and the last lines it printed)',
  },
} as const;
export type HelperExitCode = keyof typeof HELPER_EXIT;

/**
 * The verbs the resident helper also answers on its socket (pocketd-helper.socket, deploy/): an app's
 * start, stop and restart, the daemon's most frequent root calls. They take one app name, nothing on
 * stdin, and write no file; every other verb goes through sudo only.
 */
export const SOCKET_VERBS = ['start', 'stop', 'restart'] as const;
export type SocketVerb = (typeof SOCKET_VERBS)[number];
export const isSocketVerb = (verb: string): verb is SocketVerb => (SOCKET_VERBS as readonly string[]).includes(verb);

/** One request on the helper's socket: one JSON line, at most SOCKET_REQUEST_MAX bytes. */
export const socketRequestSchema = z.strictObject({
  verb: z.enum(SOCKET_VERBS),
  name: z.string().regex(APP_NAME_PATTERN, 'invalid app name'),
});
export type SocketRequest = z.infer<typeof socketRequestSchema>;
export const SOCKET_REQUEST_MAX = 1024;

/** The answer: the exit code the same verb run through sudo would have exited with, and what it printed. */
export const socketAnswerSchema = z.strictObject({
  code: z.number().int().min(0).max(255),
  stdout: z.string().max(64 * 1024),
  stderr: z.string().max(64 * 1024),
});
export type SocketAnswer = z.infer<typeof socketAnswerSchema>;

/** Idle seconds before an app sleeps, as root takes them: a second to a day. */
export const SLEEP_SECONDS = { min: 1, max: 86_400 } as const;

/**
 * Sleep when idle: systemd listens on the app's `port`, a proxy running as the app forwards to
 * `app_port` (root's range, no other app's) and ends after `after_seconds` without a connection.
 */
export const sleepSpecSchema = z
  .object({
    after_seconds: z.number().int().min(SLEEP_SECONDS.min).max(SLEEP_SECONDS.max),
    app_port: portSchema,
  })
  .strict();

/** install-unit: what the unit of an app runs; user, paths, flags and sandboxing are the helper's. */
export const unitSpecSchema = z
  .object({
    port: portSchema,
    version: versionSchema,
    memory_max: memoryMaxSchema.nullable(),
    cpu_quota: cpuQuotaSchema.nullable(),
    sleep: sleepSpecSchema.nullable().default(null),
  })
  .strict()
  .refine((s) => !s.sleep || s.sleep.app_port !== s.port, {
    path: ['sleep', 'app_port'],
    message: "must differ from the app's port",
  });
export type UnitSpec = z.infer<typeof unitSpecSchema>;

/** Caddy's request_body max_size. */
export const bodyMaxSchema = z.string().regex(/^\d{1,6}(KB|MB|GB)$/, 'must be like 64MB');

/** install-site: the upstream is always 127.0.0.1:<port>, and the port must be the app's own. */
export const siteSpecSchema = z
  .object({
    port: portSchema,
    // An app's own domains (20 at most) and, with a base domain, <name>.<base_domain>.
    domains: uniqueList(domainSchema, 21).min(1),
    http_only: z.boolean(),
    body_max: bodyMaxSchema,
    tls: z.enum(['acme', 'internal']).default('acme'),
    sleep: z.boolean().default(false),
  })
  .strict();
export type SiteSpec = z.infer<typeof siteSpecSchema>;

export const envSpecSchema = z.object({ env: envSchema }).strict();
export type EnvSpec = z.infer<typeof envSpecSchema>;

export const superuserSpecSchema = superuserSchema;
export type SuperuserSpec = z.infer<typeof superuserSpecSchema>;

/** A backup id as the store numbers them. */
export const BACKUP_ID_PATTERN = /^[1-9][0-9]{0,11}$/;

/** caddy-routes answers, for each host of a pocketd app that Caddy serves now, the upstreams it dials. */
export const caddyRoutesSchema = z.record(z.string(), z.array(z.string()));
export type CaddyRoutes = z.infer<typeof caddyRoutesSchema>;

/** What archive-app names a deleted app's archive: `<name>-<UTC stamp>`, a direct entry of the archive directory. */
export const ARCHIVE_ENTRY_PATTERN = /^[a-z][a-z0-9-]{1,30}[a-z0-9]-[0-9]{8}T[0-9]{6}Z$/;

/** restore-archive / delete-archive: which archive (root finds it in its own archive directory, by that name only). */
export const archiveSpecSchema = z
  .object({ archive: z.string().regex(ARCHIVE_ENTRY_PATTERN, 'must be an archive entry as archive-app names them') })
  .strict();
export type ArchiveSpec = z.infer<typeof archiveSpecSchema>;

/**
 * create-app: a new app in one call, what prepare-app, install-env, install-unit, install-site (when it
 * is served at a domain) and start do, each part with the spec and the checks of its own verb.
 */
export const createSpecSchema = z
  .object({ env: envSchema, unit: unitSpecSchema, site: siteSpecSchema.nullable() })
  .strict()
  .refine((s) => !s.site || s.site.port === s.unit.port, {
    path: ['site', 'port'],
    message: "must be the unit's port",
  });
export type CreateSpec = z.infer<typeof createSpecSchema>;

/** Which schema validates the JSON spec of each kind of stdin; the helper parses with it, the daemon's calls are typed by it. */
export const SPEC_SCHEMAS = {
  'unit-spec': unitSpecSchema,
  'site-spec': siteSpecSchema,
  'env-spec': envSpecSchema,
  'create-spec': createSpecSchema,
  'superuser-spec': superuserSpecSchema,
  'replica-spec': replicaSpecSchema,
  'replica-restore-spec': replicaRestoreSpecSchema,
  'replica-check-spec': replicaCheckSpecSchema,
  'replica-statuses-spec': replicaStatusesSpecSchema,
  'replica-files-spec': replicaFilesSpecSchema,
  'replica-list-spec': replicaListSpecSchema,
  'replica-files-restore-spec': replicaFilesRestoreSpecSchema,
  'archive-spec': archiveSpecSchema,
} as const;
type SpecKind = keyof typeof SPEC_SCHEMAS;
/** Kinds of stdin that are a stream of bytes (an archive the helper verifies itself), never a spec. */
type StreamKind = 'release-zip' | 'bundle-zip';

type StdinOf<V extends HelperVerb> = (typeof HELPER_VERBS)[V]['stdin'];

/** A verb's positional arguments, one string for each kind the table names, in order. */
type StringsFor<T extends readonly unknown[]> = { -readonly [I in keyof T]: string };
export type HelperArgs<V extends HelperVerb> = StringsFor<(typeof HELPER_VERBS)[V]['args']>;

/** What a verb takes on stdin: its spec (typed by its schema), a file to stream, or nothing. */
export type HelperInput<V extends HelperVerb> =
  StdinOf<V> extends SpecKind
    ? { spec: z.input<(typeof SPEC_SCHEMAS)[StdinOf<V>]>; stdinFile?: never }
    : StdinOf<V> extends StreamKind
      ? { stdinFile: string; spec?: never }
      : { spec?: never; stdinFile?: never };
