import { createHash } from 'node:crypto';
import path from 'node:path';

/**
 * How an app's name becomes the names the host knows it by: its unit, its user, its
 * directory, the units of work done in its sandbox. The daemon and the root helper both name
 * things here, so they always agree; nothing else spells the `pb-` prefix.
 */
export const APP_PREFIX = 'pb-';

/** The app's systemd unit. */
export const unitName = (name: string): string => `${APP_PREFIX}${name}.service`;

/** The unit that replicates an app off the host (Litestream), when it has a replica target. */
export const replicaUnitName = (name: string): string => `pocketd-replica-${name}.service`;

/** A glob that matches every app's unit and nothing else pocketd runs. */
export const APP_UNIT_GLOB = `${APP_PREFIX}*.service`;

/** The app's name, when `unit` is an app's unit; null for any other unit. */
export const appOfUnit = (unit: string): string | null => {
  if (!unit.startsWith(APP_PREFIX) || !unit.endsWith('.service')) return null;
  return unit.slice(APP_PREFIX.length, -'.service'.length) || null;
};

/**
 * The user (and group) an app runs as: `pb-<name>`, or, where that would pass Linux's 32
 * characters (names of 30 to 32), `pb-` + the name's first 20 characters + `-` + 8 hex digits
 * of its sha256: still unique, still readable.
 */
export function appUserOf(name: string): string {
  const plain = `${APP_PREFIX}${name}`;
  if (plain.length <= 32) return plain;
  return `${APP_PREFIX}${name.slice(0, 20)}-${createHash('sha256').update(name).digest('hex').slice(0, 8)}`;
}

/** The app's tree under the apps directory. */
export const appDirOf = (appsDir: string, name: string): string => path.join(appsDir, name);

/**
 * The transient units of work done in an app's sandbox (backup, restore, trial...): never
 * `pb-*`, the namespace of apps; the `_` keeps app `shop`'s from matching app `shop-x`'s.
 */
export const workUnitPrefix = (name: string): string => `pocketd-work-${name}_`;
export const workUnitPattern = (name: string): string => `${workUnitPrefix(name)}*.service`;

/**
 * The units of an app that may sleep: its socket holds the app's port and starts the proxy
 * (`pbwake-<name>.service`, outside the `pb-*.service` names that are apps) on a request.
 */
export const socketUnitOf = (name: string): string => `${APP_PREFIX}${name}.socket`;
export const wakeUnitOf = (name: string): string => `pbwake-${name}.service`;

/** The app's name, when `unit` is the socket of an app that may sleep; null for any other unit. */
export const appOfSocket = (unit: string): string | null => {
  if (!unit.startsWith(APP_PREFIX) || !unit.endsWith('.socket')) return null;
  return unit.slice(APP_PREFIX.length, -'.socket'.length) || null;
};
