import { z } from 'zod';
import type { AppRow } from '../db/schema.js';
import {
  NO_CONTROL, appNameSchema, backupKeepSchema, backupScheduleSchema, cpuQuotaSchema, domainSchema, envSchema, memoryMaxSchema, portSchema, versionSchema,
} from './app-rules.js';

const uniqueList = <T extends z.ZodType<string>>(item: T, max: number) => z.array(item).max(max)
  .refine((xs) => new Set(xs).size === xs.length, 'must not repeat an entry');

export const superuserSchema = z.object({
  email: z.email().max(254),
  // eslint-disable-next-line no-control-regex
  password: z.string().min(10).max(256).regex(NO_CONTROL, 'must not contain control characters'),
}).strict();

export const createAppSchema = z.object({
  name: appNameSchema,
  domains: uniqueList(domainSchema, 20).default([]),
  port: portSchema.optional(),
  pocketbase_version: versionSchema.optional(),
  env: envSchema.default({}),
  memory_max: memoryMaxSchema.optional(),
  cpu_quota: cpuQuotaSchema.optional(),
  superuser: superuserSchema.optional(),
}).strict();
export type CreateAppInput = z.infer<typeof createAppSchema>;

export const patchAppSchema = z.object({
  domains: uniqueList(domainSchema, 20).optional(),
  env: envSchema.optional(),
  memory_max: memoryMaxSchema.nullable().optional(),
  cpu_quota: cpuQuotaSchema.nullable().optional(),
  backup_schedule: backupScheduleSchema.nullable().optional(),
  backup_keep: backupKeepSchema.optional(),
}).strict().refine((p) => Object.keys(p).length > 0, 'name at least one of domains, env, memory_max, cpu_quota, backup_schedule, backup_keep');
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
}

export const settingsOf = (row: AppRow, domains: string[]): AppSettings => ({
  name: row.name, port: row.port, version: row.version, domains,
  env: JSON.parse(row.env) as Record<string, string>, memory_max: row.memory_max, cpu_quota: row.cpu_quota,
});

const SECRET_KEY = /(SECRET|PASSW|PASS$|TOKEN|KEY|PRIVATE|CREDENTIAL|AUTH|DSN)/i;
export const MASK = '********';

/** Values of keys that look secret are masked in every response. */
export const maskEnv = (env: Record<string, string>): Record<string, string> =>
  Object.fromEntries(Object.entries(env).map(([k, v]) => [k, SECRET_KEY.test(k) ? MASK : v]));

/**
 * An EnvironmentFile: one KEY="value" per line. Values are validated to hold no
 * control characters; inside double quotes systemd takes \\, \", \` and \$ literally.
 */
export const renderEnvFile = (env: Record<string, string>): string =>
  `# Managed by pocketd\n${Object.entries(env).map(([k, v]) => `${k}="${v.replace(/[\\"`$]/g, (c) => `\\${c}`)}"`).join('\n')}\n`;
