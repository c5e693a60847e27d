import { z } from '@hono/zod-openapi';

/** journald's priority names (journalctl -p), most severe first; the index is the number. */
export const PRIORITY_NAMES = ['emerg', 'alert', 'crit', 'err', 'warning', 'notice', 'info', 'debug'] as const;
/** Spellings journalctl also takes for the same levels. */
const ALIASES: Record<string, number> = { panic: 0, error: 3, warn: 4 };

/**
 * `?priority=`: a syslog number 0-7 or journald's name for it (err, warning, ...), as
 * `journalctl -p` takes it; the answer is always the number. Anything else is a 422 naming `priority`.
 */
export const prioritySchema = z
  .string()
  .max(16)
  .openapi({ description: 'a syslog number 0-7 or a journald name (err, warning, ...)', example: 'err' })
  .transform((s, ctx) => {
    const v = s.trim().toLowerCase();
    const n = /^[0-7]$/.test(v) ? Number(v) : (PRIORITY_NAMES as readonly string[]).indexOf(v);
    const found = n >= 0 ? n : ALIASES[v];
    if (found === undefined) {
      ctx.addIssue({
        code: 'custom',
        message: `must be 0-7 or one of ${PRIORITY_NAMES.join(', ')} (this level and more severe)`,
      });
      return z.NEVER;
    }
    return found;
  });
