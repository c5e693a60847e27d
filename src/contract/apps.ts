import { z } from '@hono/zod-openapi';
import { appNameSchema, domainSchema } from '../shared/rules.js';

export const Runtime = z
  .object({
    active_state: z.string(),
    sub_state: z.string(),
    main_pid: z.number().int().nullable(),
    memory_bytes: z.number().nullable(),
    cpu_ns: z.number().nullable(),
    restarts: z.number().int(),
    active_since: z.string().nullable(),
    control_group: z.string().nullable(),
  })
  .openapi('Runtime');
export const STATES = [
  'running',
  'starting',
  'stopping',
  'stopped',
  'sleeping',
  'failed',
  'creating',
  'deleting',
  'unknown',
] as const;
export const AppView = z
  .object({
    name: z.string(),
    port: z.number().int(),
    version: z.string(),
    domains: z.array(z.string()),
    memory_max: z.string().nullable(),
    cpu_quota: z.number().int().nullable(),
    status: z.enum(['creating', 'ready', 'failed', 'deleting']),
    bundle: z.number().int().nullable(),
    backup_schedule: z.string().nullable(),
    backup_keep: z.number().int(),
    sleep_after: z.string().nullable().meta({ description: 'idle time before the app sleeps (e.g. 15m); null: never' }),
    health_path: z.string().describe('What the deploy gate and the health checks ask for a 200 (default /api/health)'),
    desired_state: z.enum(['running', 'stopped']),
    state: z.enum(STATES),
    runtime: Runtime.nullable(),
    created_at: z.string(),
    updated_at: z.string(),
  })
  .openapi('App');
export const FileMatch = z.object({
  expected: z.string().nullable(),
  installed: z.string().nullable(),
  match: z.boolean(),
});
export const AppDetail = AppView.extend({
  env: z
    .record(z.string(), z.string())
    .describe('Values of secret-looking keys are masked; for an app-scoped token every value is'),
  site_present: z.boolean(),
  config_match: z.object({
    match: z.boolean(),
    unit: FileMatch,
    site: FileMatch,
    routes: z
      .object({ match: z.boolean(), expected: z.array(z.string()), live: z.array(z.string()) })
      .describe("Caddy's live routes for the app's domains (domain -> upstream) against what pocketd installed"),
  }),
  certificates: z
    .array(
      z.object({
        domain: z.string(),
        checked_at: z.string(),
        issuer: z.string().optional(),
        subject: z.string().optional(),
        valid_from: z.string().optional(),
        valid_until: z.string().optional(),
        fingerprint256: z.string().optional(),
        days_left: z.number().int().nullable(),
        error: z.string().nullable().describe("The handshake's failure, or Caddy's last error for the domain"),
      }),
    )
    .describe('What Caddy serves for each domain, from a TLS handshake (empty with caddy_http_only)'),
  admin_url: z
    .string()
    .nullable()
    .describe(
      "PocketBase's admin (/_/) on the first domain, with the scheme and port Caddy serves; null without a domain",
    ),
}).openapi('AppDetail');
export const Accepted = z
  .object({ deployment_id: z.number().int(), name: z.string(), port: z.number().int(), pocketbase_version: z.string() })
  .openapi('CreateAccepted');
export const DeploymentRef = z.object({ deployment_id: z.number().int() });

export const NameParam = z.object({ name: appNameSchema });
export const ListQuery = z
  .object({
    status: z.enum(STATES).optional(),
    domain: domainSchema.optional(),
    limit: z.coerce.number().int().min(1).max(500).default(100),
    offset: z.coerce.number().int().min(0).max(1_000_000).default(0),
  })
  .strict();
export const DeleteQuery = z.object({ purge: z.enum(['true', 'false', '1', '0']).optional() }).strict();

export type AppState = (typeof STATES)[number];
export type Runtime = z.infer<typeof Runtime>;
export type AppView = z.infer<typeof AppView>;
export type AppDetail = z.infer<typeof AppDetail>;
