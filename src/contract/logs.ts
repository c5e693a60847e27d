import { z } from '@hono/zod-openapi';

// journalctl's own time syntax, restricted to what cannot be read as an option.
export const when = z
  .string()
  .max(40)
  .regex(
    /^(\d{4}-\d{2}-\d{2}([ T]\d{2}:\d{2}(:\d{2})?)?|-?\d{1,6}\s?(s|sec|min|m|h|d|days?|weeks?)( ago)?|now|today|yesterday)$/,
    'must be YYYY-MM-DD[ HH:MM[:SS]], -10min, 2h ago, today, yesterday or now',
  );
export const LogEntry = z
  .object({
    timestamp: z.string(),
    priority: z.number().int(),
    level: z.enum(['debug', 'info', 'warn', 'error', 'fatal']),
    message: z.string(),
    pid: z.number().int().nullable(),
  })
  .openapi('LogEntry');

export type LogEntry = z.infer<typeof LogEntry>;
