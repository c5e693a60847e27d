import { z } from 'zod';
import type { AppRow } from '../../db/schema.js';
import { backupKeepSchema, backupScheduleSchema } from './rules.js';
import { sleepAfterSchema } from '../sleep/sleep-after.js';
import { healthPathSchema } from '../health-path.js';
import {
  appNameSchema,
  cpuQuotaSchema,
  domainsSchema,
  envSchema,
  memoryMaxSchema,
  portSchema,
  superuserSchema,
  versionSchema,
} from '../../shared/rules.js';

export { superuserSchema };

export const createAppSchema = z
  .object({
    name: appNameSchema,
    domains: domainsSchema.default([]),
    port: portSchema.optional(),
    pocketbase_version: versionSchema.optional(),
    env: envSchema.default({}),
    memory_max: memoryMaxSchema.optional(),
    cpu_quota: cpuQuotaSchema.optional(),
    superuser: superuserSchema.optional(),
    health_path: healthPathSchema.optional(),
  })
  .strict();
export type CreateAppInput = z.infer<typeof createAppSchema>;

export const patchAppSchema = z
  .object({
    domains: domainsSchema.optional(),
    env: envSchema.optional(),
    memory_max: memoryMaxSchema.nullable().optional(),
    cpu_quota: cpuQuotaSchema.nullable().optional(),
    backup_schedule: backupScheduleSchema.nullable().optional(),
    backup_keep: backupKeepSchema.optional(),
    health_path: healthPathSchema.nullable().optional(),
    sleep_after: sleepAfterSchema.optional(),
  })
  .strict()
  .refine(
    (p) => Object.keys(p).length > 0,
    'name at least one of domains, env, memory_max, cpu_quota, backup_schedule, backup_keep, sleep_after, health_path',
  );
export type PatchAppInput = z.infer<typeof patchAppSchema>;

/** The settings of an app as the store holds them, decoded. */
export interface AppSettings {
  name: string;
  port: number;
  version: string;
  domains: string[];
  env: Record<string, string>;
  memory_max: string | null;
  cpu_quota: number | null;
  /** Idle seconds before the app sleeps, and the port it listens on behind its proxy then; null: never. */
  sleep_after: number | null;
  wake_port: number | null;
}

export const settingsOf = (row: AppRow, domains: string[]): AppSettings => ({
  name: row.name,
  port: row.port,
  version: row.version,
  domains,
  env: JSON.parse(row.env) as Record<string, string>,
  memory_max: row.memory_max,
  cpu_quota: row.cpu_quota,
  sleep_after: row.sleep_after ?? null,
  wake_port: row.wake_port ?? null,
});

const SECRET_KEY = /(SECRET|PASSW|PASS$|TOKEN|KEY|PRIVATE|CREDENTIAL|AUTH|DSN)/i;
export const MASK = '********';

/** Values of keys that look secret are masked in every response; with `all`, every value is. */
export const maskEnv = (env: Record<string, string>, all = false): Record<string, string> =>
  Object.fromEntries(Object.entries(env).map(([k, v]) => [k, all || SECRET_KEY.test(k) ? MASK : v]));

export { renderEnvFile } from '../../shared/env-file.js';
