import { z } from '@hono/zod-openapi';

/** An app's health now and its history of checks, newest first. */
export const AppHealth = z
  .object({
    state: z.enum(['healthy', 'unhealthy', 'stopped', 'sleeping', 'unknown']),
    since: z.string().nullable(),
    consecutive_failures: z.number().int(),
    history: z.array(
      z.object({
        at: z.string(),
        state: z.enum(['healthy', 'unhealthy', 'stopped', 'sleeping']),
        http_status: z.number().int().nullable(),
        latency_ms: z.number().int().nullable(),
        error: z.string().nullable(),
      }),
    ),
  })
  .openapi('AppHealth');

export type AppHealth = z.infer<typeof AppHealth>;
