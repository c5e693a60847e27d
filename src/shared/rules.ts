import { z } from 'zod';
import { toBytes } from './size.js';

/**
 * Rules for every field that reaches a unit file, an env file or a Caddyfile.
 * They reject, never escape: a value either matches or is a 422 naming its field.
 * This module depends on zod alone: the daemon and the root helper (src/helper/)
 * validate with the very same schemas.
 */

/** No C0 or C1 control character and no Unicode line or paragraph separator. */

export const NO_CONTROL = /^[^\u0000-\u001f\u007f-\u009f\u2028\u2029]*$/;

export const APP_NAME_PATTERN = /^[a-z][a-z0-9-]{1,30}[a-z0-9]$/;
const LABEL = /^(?!-)[a-z0-9-]{1,63}(?<!-)$/;
export const ENV_KEY_PATTERN = /^[A-Za-z_][A-Za-z0-9_]{0,127}$/;
/** A PocketBase version as its tags spell it (without the leading v). */
export const VERSION_PATTERN = /^\d{1,4}\.\d{1,4}\.\d{1,4}(-[a-z0-9]+(\.[a-z0-9]+)*)?$/;

export const appNameSchema = z
  .string()
  .regex(
    APP_NAME_PATTERN,
    'must be 3-32 characters: lower-case letters, digits and dashes, starting with a letter, not ending with a dash',
  );

/** A host name in ASCII (punycode for IDN), lower case, optionally with a leading `*.`. */
export function isValidDomain(d: string): boolean {
  if (d.length > 253) return false;
  const labels = d.startsWith('*.') ? d.slice(2).split('.') : d.split('.');
  if (labels.length < 1) return false;
  if (!labels.every((l) => LABEL.test(l))) return false;
  const tld = labels[labels.length - 1]!;
  return !/^\d+$/.test(tld) || labels.length === 1;
}

export const domainSchema = z
  .string()
  .max(253)
  .refine(isValidDomain, 'must be a lower-case host name (punycode for IDN), optionally starting with *.');

export const versionSchema = z.string().regex(VERSION_PATTERN, 'must be a version like 0.22.4');

/** systemd MemoryMax: bytes with a K/M/G suffix; at least 16M so an app can start. */
export const memoryMaxSchema = z
  .string()
  .regex(/^[1-9]\d{0,5}[KMG]$/, 'must be like 256M or 1G')
  .refine((v) => toBytes(v) >= 16 * 1024 * 1024, 'must be at least 16M');

export { toBytes };

/** CPU quota in percent of one core (systemd CPUQuota=), 1 to 100 times the cores. */
export const cpuQuotaSchema = z.number().int().min(1).max(6400);

/** Environment values are written one per line in an EnvironmentFile: no control characters. */
export const ENV_KEY_RULE = 'keys must be letters, digits and _, not starting with a digit';
/** Each bad key is named in its own issue (zod's record keys would only say "Invalid key in record"). */
export const envSchema = z
  .record(
    z.string(),
    z
      .string()
      .max(4096)
      .regex(NO_CONTROL, 'values must not contain control characters (newline, NUL, NEL, line separators, ...)'),
  )
  .superRefine((e, ctx) => {
    for (const k of Object.keys(e)) {
      if (!ENV_KEY_PATTERN.test(k))
        ctx.addIssue({ code: 'custom', path: [k], message: `"${k.slice(0, 64)}": ${ENV_KEY_RULE}` });
    }
  })
  .refine((e) => Object.keys(e).length <= 200, 'at most 200 variables');

export const portSchema = z.number().int().min(1024).max(65535);

export const uniqueList = <T extends z.ZodType<string>>(item: T, max: number) =>
  z
    .array(item)
    .max(max)
    .refine((xs) => new Set(xs).size === xs.length, 'must not repeat an entry');

/** An app's domains as a create or patch takes them. */
export const domainsSchema = uniqueList(domainSchema, 20);

export const superuserSchema = z
  .object({
    email: z.email().max(254),
    password: z.string().min(10).max(256).regex(NO_CONTROL, 'must not contain control characters'),
  })
  .strict();
