import { z } from '@hono/zod-openapi';

export const Issue = z.object({ field: z.string(), code: z.string(), message: z.string() });
export const Validation = z
  .object({
    valid: z.boolean(),
    errors: z.array(Issue),
    warnings: z.array(Issue),
    checks: z.object({
      name_available: z.boolean(),
      port_available: z.boolean(),
      domains_valid: z.boolean(),
      domains_available: z.boolean(),
      version_exists: z.boolean(),
    }),
    resolved: z.object({ port: z.number().int().nullable(), pocketbase_version: z.string().nullable() }),
  })
  .openapi('AppValidation');
export const Checks = z
  .object({ ok: z.boolean(), checks: z.array(z.object({ name: z.string(), ok: z.boolean(), message: z.string() })) })
  .openapi('SystemChecks');
export const Release = z
  .object({
    version: z.string(),
    prerelease: z.boolean(),
    published_at: z.string().nullable(),
    installed: z.boolean(),
    latest: z.boolean(),
  })
  .openapi('Release');
export const Info = z
  .object({
    version: z.string(),
    node: z.string(),
    uptime_seconds: z.number().int(),
    paths: z.record(z.string(), z.string()),
    memory: z.object({
      rss_bytes: z.number(),
      heap_used_bytes: z.number(),
      heap_total_bytes: z.number(),
      external_bytes: z.number(),
    }),
    port_range: z.object({ from: z.number().int(), to: z.number().int() }),
    releases_url: z.string(),
    apps_user: z.string(),
  })
  .openapi('SystemInfo');

export type ValidationReport = z.infer<typeof Validation>;
export type Check = z.infer<typeof Checks>['checks'][number];
export type SystemInfo = z.infer<typeof Info>;
export type Release = z.infer<typeof Release>;
