import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { unitName } from '../shared/naming.js';
import { cpuQuotaSchema, memoryMaxSchema, toBytes } from '../shared/rules.js';
import type { HelperContext } from './context.js';
import { HelperError } from './errors.js';

/** An app's resource limits, as its unit has them. */
export interface AppLimits {
  memory_max: string | null;
  cpu_quota: number | null;
}

/**
 * The trial's cgroup holds, besides the new release, the helper's own node
 * (interpreted, about 60 MiB) and the sqlite3 that copies the data: it gets the
 * app's memory plus this, so the release has what it has live.
 */
export const TRIAL_MEMORY_MARGIN = 128 * 1024 * 1024;

/**
 * `MemoryMax=` and `CPUQuota=` as the unit file the helper rendered
 * (templates/unit.service.hbs) says them, checked again with the schemas they
 * were rendered from: a value no schema allows is refused, not carried over.
 */
export function limitsOfUnit(text: string): AppLimits {
  const mem = /^MemoryMax=(.*)$/m.exec(text)?.[1];
  const cpu = /^CPUQuota=(.*)$/m.exec(text)?.[1];
  const memory_max = mem === undefined ? null : memoryMaxSchema.safeParse(mem);
  const cpu_quota = cpu === undefined ? null : cpuQuotaSchema.safeParse(Number(/^(\d+)%$/.exec(cpu)?.[1] ?? NaN));
  if ((memory_max && !memory_max.success) || (cpu_quota && !cpu_quota.success))
    throw new HelperError(72, "the app's unit has limits pocketd did not write; repair the app first");
  return { memory_max: memory_max?.data ?? null, cpu_quota: cpu_quota?.data ?? null };
}

/** The limits as properties of the trial's transient unit: the app's CPU quota, its memory plus the margin. */
export function trialLimitProperties(l: AppLimits): string[] {
  const props: string[] = [];
  if (l.memory_max) props.push(`MemoryMax=${Math.ceil((toBytes(l.memory_max) + TRIAL_MEMORY_MARGIN) / 1024)}K`);
  if (l.cpu_quota) props.push(`CPUQuota=${l.cpu_quota}%`);
  return props;
}

/** The app's limits from its installed unit (root's file in root's directory). */
export async function appLimits(ctx: HelperContext, name: string): Promise<AppLimits> {
  const text = await readFile(path.join(ctx.config.unit_dir, unitName(name)), 'utf8').catch(() => {
    throw new HelperError(72, `app ${name} has no installed unit`);
  });
  return limitsOfUnit(text);
}
