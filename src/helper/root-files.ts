import { randomBytes } from 'node:crypto';
import { lstat, mkdir, open, readdir, rename, rm, chmod, chown } from 'node:fs/promises';
import { readIfExists } from '../shared/files.js';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { HelperError } from './errors.js';
import { domainsSchema, portSchema, versionSchema } from '../shared/rules.js';

/**
 * Files root writes, all of them in directories only root can change: created
 * under a fresh name with O_EXCL (never through an existing link), then renamed.
 */

export interface Ids {
  uid: number;
  gid: number;
}

export interface PasswdEntry extends Ids {
  home: string;
  comment: string;
}

/** Every local user in /etc/passwd (root's file; system users are always local), read once; the first line of a name wins. */
export function readUsers(): Map<string, PasswdEntry> {
  const users = new Map<string, PasswdEntry>();
  for (const line of readFileSync('/etc/passwd', 'utf8').split('\n')) {
    const f = line.split(':');
    if (f.length >= 6 && !users.has(f[0]!))
      users.set(f[0]!, { uid: Number(f[2]), gid: Number(f[3]), comment: f[4]!, home: f[5]! });
  }
  return users;
}

/** A local user from /etc/passwd, or null. */
export const findUser = (name: string): PasswdEntry | null => readUsers().get(name) ?? null;

export function lookupUser(name: string): PasswdEntry {
  const u = findUser(name);
  if (!u) throw new HelperError(72, `no user ${name}`);
  return u;
}

/** A directory that only root can change (created if missing); `gid` may read it when the mode says so. */
export async function ensureRootDir(dir: string, mode: number, gid = 0): Promise<void> {
  await mkdir(dir, { recursive: true, mode });
  const st = await lstat(dir);
  if (!st.isDirectory() || st.isSymbolicLink()) throw new HelperError(72, `${dir} is not a directory`);
  if (st.uid !== 0) throw new HelperError(72, `${dir} is not root's`);
  await chown(dir, 0, gid);
  await chmod(dir, mode);
}

/** Writes `content` as `dir/name` (root-owned, `mode`, group `gid`) under a temporary name, then renames it. */
export async function writeRootFile(dir: string, name: string, content: string, mode: number, gid = 0): Promise<void> {
  const tmp = path.join(dir, `.${name}.${randomBytes(6).toString('hex')}.tmp`);
  const fh = await open(tmp, 'wx', 0o600);
  try {
    await fh.writeFile(content);
    await fh.chown(0, gid);
    await fh.chmod(mode);
    await fh.sync();
  } finally {
    await fh.close();
  }
  try {
    await rename(tmp, path.join(dir, name));
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
}

/**
 * What the helper itself installed for an app: its port and release (from its
 * unit) and its domains (from its site). A site may only send an app's own
 * domains to its own port, and no two apps may share a port or a domain.
 */
const recordSchema = z
  .object({
    port: portSchema,
    version: versionSchema,
    domains: domainsSchema,
    /** While the app may sleep: the port it listens on behind its proxy (its `port` is systemd's socket). */
    app_port: portSchema.optional(),
  })
  .strict();
export type AppRecord = z.infer<typeof recordSchema>;

/** The ports an app holds: its own, and the one behind its proxy while it may sleep. */
export const portsOf = (r: AppRecord): number[] => (r.app_port === undefined ? [r.port] : [r.port, r.app_port]);

export function createRecords(stateDir: string, ports: { min: number; max: number }) {
  const dir = path.join(stateDir, 'apps');
  const file = (name: string) => `${name}.json`;
  async function get(name: string): Promise<AppRecord | null> {
    const text = await readIfExists(path.join(dir, file(name)));
    if (text === null) return null;
    return recordSchema.parse(JSON.parse(text));
  }
  async function all(): Promise<Map<string, AppRecord>> {
    const out = new Map<string, AppRecord>();
    let names: string[] = [];
    try {
      names = await readdir(dir);
    } catch {
      /* none yet */
    }
    for (const n of names) {
      if (!n.endsWith('.json') || n.startsWith('.')) continue;
      const r = await get(n.slice(0, -5)).catch(() => null);
      if (r) out.set(n.slice(0, -5), r);
    }
    return out;
  }
  return {
    get,
    all,
    async put(name: string, r: AppRecord) {
      await ensureRootDir(stateDir, 0o700);
      await ensureRootDir(dir, 0o700);
      await writeRootFile(dir, file(name), `${JSON.stringify(recordSchema.parse(r))}\n`, 0o600);
    },
    remove: (name: string) => rm(path.join(dir, file(name)), { force: true }),
    /** Every port an app holds: its own, and the one behind its proxy while it may sleep. */
    async heldPorts(): Promise<Set<number>> {
      return new Set([...(await all()).values()].flatMap(portsOf));
    },
    /** Refuses a port outside root's range, or a port or domain another app holds (`field` names the port's field). */
    async assertFree(name: string, port: number, domains: string[], field = 'port') {
      if (port < ports.min || port > ports.max)
        throw new HelperError(65, `${field}: ${port} is outside the apps' range ${ports.min}-${ports.max}`);
      for (const [other, r] of await all()) {
        if (other === name) continue;
        if (r.port === port || r.app_port === port)
          throw new HelperError(65, `${field}: ${port} belongs to app ${other}`);
        const shared = domains.find((d) => r.domains.includes(d));
        if (shared) throw new HelperError(65, `domains: ${shared} belongs to app ${other}`);
      }
    },
  };
}

export type Records = ReturnType<typeof createRecords>;

export { readIfExists };
