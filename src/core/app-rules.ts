import cron from 'node-cron';
import { z } from 'zod';

/** The field rules live in src/rules.ts (shared with the root helper); these are the daemon's own. */
export {
  NO_CONTROL, APP_NAME_PATTERN, ENV_KEY_PATTERN, VERSION_PATTERN, appNameSchema, isValidDomain, domainSchema, versionSchema,
  memoryMaxSchema, toBytes, cpuQuotaSchema, envSchema, portSchema,
} from '../rules.js';

/** A node-cron expression (5 or 6 fields of digits, *, /, , and -), e.g. "0 3 * * *". */
export const backupScheduleSchema = z.string().max(100)
  .regex(/^[0-9*/,-]+( [0-9*/,-]+){4,5}$/, 'must be a cron expression like "0 3 * * *" (digits, * / , - only)')
  .refine((s) => cron.validate(s), 'is not a valid cron expression');
export const backupKeepSchema = z.number().int().min(1).max(1000);
