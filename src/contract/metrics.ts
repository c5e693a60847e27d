import { z } from '@hono/zod-openapi';

export const range = z
  .object({
    since: z.iso
      .datetime({ offset: true })
      .optional()
      .openapi({ description: 'ISO 8601 time; samples at or after it' }),
    limit: z.coerce.number().int().min(1).max(100_000).default(1440),
  })
  .strict();

export const AppSample = z
  .object({
    at: z.string(),
    active: z.boolean(),
    memory_bytes: z.number().nullable(),
    cpu_ns: z.number().nullable(),
    cpu_percent: z.number().nullable(),
    restarts: z.number().int(),
  })
  .openapi('AppSample');
export const HostNow = z
  .object({
    load1: z.number(),
    load5: z.number(),
    load15: z.number(),
    cpu_percent: z.number(),
    cpus: z.number().int(),
    memory_total: z.number(),
    memory_available: z.number(),
    disk_total: z.number(),
    disk_free: z.number(),
    uptime_seconds: z.number(),
  })
  .openapi('HostNow');
export const HostSample = z
  .object({
    at: z.string(),
    load1: z.number(),
    cpu_percent: z.number(),
    memory_total: z.number(),
    memory_available: z.number(),
    disk_total: z.number(),
    disk_free: z.number(),
  })
  .openapi('HostSample');
export const AppMetrics = z
  .object({ app: z.string(), interval_seconds: z.number().int(), samples: z.array(AppSample) })
  .openapi('AppMetrics');
export const AppsSummary = z
  .object({ apps: z.record(z.string(), z.object({ health: z.string(), samples: z.array(AppSample) })) })
  .openapi('AppsSummary');
export const SystemMetrics = z
  .object({ current: HostNow, interval_seconds: z.number().int(), samples: z.array(HostSample) })
  .openapi('SystemMetrics');

export type AppSample = z.infer<typeof AppSample>;
export type HostMetrics = z.infer<typeof SystemMetrics>;
