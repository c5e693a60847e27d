import cron from 'node-cron';
import { z } from 'zod';

/** The field rules live in src/rules.ts (shared with the root helper); these are the daemon's own. */
export {
  NO_CONTROL,
  APP_NAME_PATTERN,
  ENV_KEY_PATTERN,
  VERSION_PATTERN,
  appNameSchema,
  isValidDomain,
  domainSchema,
  versionSchema,
  memoryMaxSchema,
  toBytes,
  cpuQuotaSchema,
  envSchema,
  portSchema,
} from '../../shared/rules.js';

/** A node-cron expression (5 or 6 fields of digits, *, /, , and -), e.g. "0 3 * * *". */
/** One message for one bad value: the shape first, and only a well-shaped value is asked of node-cron. */
export const backupScheduleSchema = z
  .string()
  .max(100)
  .superRefine((s, ctx) => {
    if (!/^[0-9*/,-]+( [0-9*/,-]+){4,5}$/.test(s))
      ctx.addIssue({ code: 'custom', message: 'must be a cron expression like "0 3 * * *" (digits, * / , - only)' });
    else if (!cron.validate(s))
      ctx.addIssue({ code: 'custom', message: 'is not a valid cron expression (minute hour day month weekday)' });
  });
export const backupKeepSchema = z.number().int().min(1).max(1000);
