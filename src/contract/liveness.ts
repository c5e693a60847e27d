import { z } from '@hono/zod-openapi';

export const HealthSchema = z
  .object({
    status: z.literal('ok'),
    version: z.string(),
    uptime_seconds: z.number().int(),
  })
  .openapi('Liveness');
