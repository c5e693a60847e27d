import { randomBytes } from 'node:crypto';
import { readFile, open, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { exec, ExecError } from '../shared/exec.js';
import { compareStrings } from '../shared/order.js';
import {
  FILES_PREFIX,
  MANIFEST_OBJECT,
  appRemote,
  filesObjectRe,
  manifestSchema,
  remoteOf,
  renderRcloneConfig,
  type ListedApp,
  type ReplicaFilesRestoreSpec,
} from '../shared/replica-files.js';
import type { ReplicaTarget } from '../shared/replica-rules.js';
import type { HelperContext } from './context.js';
import { HelperError } from './errors.js';
import { AGE_KEY, dirOf, parseAgeKey } from './replica.js';
import { readIfExists } from '../shared/files.js';
import { workDir } from './replica-files.js';
import { SANDBOX_NODE_FLAGS } from './sandbox-run.js';
import { assertStopped } from './units.js';

/**
 * Reading a target for a host that recovers (issue #27): no app and no replica
 * user exist yet, so rclone runs in a transient unit of a dynamic user, fully
 * sandboxed, with its config on stdin (never argv, environment or properties).
 * What it fetches is ciphertext; root decrypts it with the host's age key
 * (copied from the lost host) into its own scratch room.
 */

const MAX_APPS = 500;
/** The most a recovery reads of one object: a manifest is a few KiB; an app's files tar (uploads, hooks, public). */
const MANIFEST_MAX_BYTES = 1024 * 1024;
const FILES_MAX_BYTES = 64 * 1024 ** 3;
const APP_DIR_RE = /^([a-z][a-z0-9-]{1,30}[a-z0-9])\.([0-9a-f]{16})$/;

const SANDBOX = [
  'DynamicUser=yes',
  'NoNewPrivileges=yes',
  'ProtectSystem=strict',
  'ProtectHome=yes',
  'PrivateTmp=yes',
  'PrivateDevices=yes',
  'ProtectKernelTunables=yes',
  'ProtectKernelModules=yes',
  'ProtectControlGroups=yes',
  'RestrictSUIDSGID=yes',
  'RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6',
  'SystemCallFilter=@system-service',
  // A call outside the filter fails with EPERM instead of killing the unit silently (libuv falls back from io_uring).
  'SystemCallErrorNumber=EPERM',
  'SystemCallArchitectures=native',
  'CapabilityBoundingSet=',
  'MemoryMax=512M',
  'RuntimeMaxSec=3600',
  'Environment=HOME=/nonexistent LC_ALL=C.UTF-8',
];

/** rclone `verb where` against `target`; its stdout goes to `outFile` (or is answered when none). */
async function remote(
  ctx: HelperContext,
  target: ReplicaTarget,
  verb: 'lsjson' | 'cat',
  where: string,
  outFile?: string,
  maxBytes?: number,
) {
  const unit = `pocketd-recover-${randomBytes(6).toString('hex')}.service`;
  const props = SANDBOX.flatMap((p) => ['-p', p]);
  const argv = ['--quiet', '--wait', '--collect', '--pipe', `--unit=${unit}`, ...props, '--'];
  argv.push(process.execPath, ...SANDBOX_NODE_FLAGS, ctx.selfFile, 'as-replica', 'remote', verb, where);
  if (verb === 'cat') argv.push(String(maxBytes ?? MANIFEST_MAX_BYTES));
  const input = renderRcloneConfig(target, null);
  const fh = outFile ? await open(outFile, 'wx', 0o600) : null;
  try {
    const r = await exec('systemd-run', argv, { input, stdout: fh?.fd, timeoutMs: 3600_000, cwd: '/' });
    return r.stdout;
  } catch (err) {
    const said =
      err instanceof ExecError
        ? err.stderr
            .split('\n')
            .filter((l) => l.trim() && !l.includes('--expose_wasm'))
            .slice(-3)
            .join('; ') || `exit ${err.exitCode}`
        : String(err);
    throw new HelperError(72, `the target could not be read (${verb}): ${said.slice(0, 600)}`);
  } finally {
    await fh?.close();
  }
}

interface LsEntry {
  Path: string;
}

/** Fetches `where` and decrypts it with the host's key into `out` (root's scratch room). */
async function fetchDecrypted(
  ctx: HelperContext,
  target: ReplicaTarget,
  where: string,
  work: string,
  out: string,
  maxBytes: number,
) {
  // Never a new key here: only the lost host's key (copied by its owner) opens what it replicated.
  const key = await readIfExists(path.join(dirOf(ctx), AGE_KEY));
  if (key === null)
    throw new HelperError(72, `no host key at ${path.join(dirOf(ctx), AGE_KEY)}: copy the lost host's key there first`);
  parseAgeKey(key);
  const sealed = path.join(work, `${path.basename(out)}.age`);
  await remote(ctx, target, 'cat', where, sealed, maxBytes);
  if ((await stat(sealed)).size > maxBytes)
    throw new HelperError(72, `${where} on the target is over ${maxBytes} bytes, the most a recovery takes of it`);
  await ctx.run(72, 'age', ['-d', '-i', path.join(dirOf(ctx), AGE_KEY), '-o', out, sealed]);
  await rm(sealed, { force: true });
}

/** replica-list: each app the target holds (`<name>.<app_id>`), its manifest and its latest files. */
export async function listTarget(ctx: HelperContext, target: ReplicaTarget): Promise<string> {
  const listed = JSON.parse(await remote(ctx, target, 'lsjson', remoteOf(target))) as LsEntry[];
  const apps = new Map<string, ListedApp>();
  for (const e of Array.isArray(listed) ? listed : []) {
    const [dir, a, b] = String(e.Path).split('/');
    if (!dir || !APP_DIR_RE.test(dir)) continue;
    const app = apps.get(dir) ?? { dir, manifest: null, files: null, error: null };
    if (a === FILES_PREFIX && b && filesObjectRe.test(b) && (!app.files || b > app.files)) app.files = b;
    if (a === MANIFEST_OBJECT && b === undefined) app.error = 'manifest';
    if (apps.size < MAX_APPS || apps.has(dir)) apps.set(dir, app);
  }
  const work = await workDir(ctx);
  try {
    for (const app of apps.values()) {
      if (app.error !== 'manifest') {
        app.error = 'the target holds no manifest of this app (replicated before pocketd kept one)';
        continue;
      }
      app.error = null;
      const [, name, id] = APP_DIR_RE.exec(app.dir)!;
      const out = path.join(work, `${app.dir}.json`);
      try {
        await fetchDecrypted(
          ctx,
          target,
          appRemote(target, name!, id!, MANIFEST_OBJECT),
          work,
          out,
          MANIFEST_MAX_BYTES,
        );
        app.manifest = manifestSchema.parse(JSON.parse(await readFile(out, 'utf8')));
      } catch (err) {
        app.error = `its manifest could not be read: ${(err as Error).message.slice(0, 300)}`;
      }
    }
  } finally {
    await rm(work, { recursive: true, force: true });
  }
  return JSON.stringify([...apps.values()].sort((x, y) => compareStrings(x.dir, y.dir)));
}

/** replica-files-restore NAME: the latest files of a replica replace the (stopped) app's, unpacked by the app. */
export async function restoreFiles(ctx: HelperContext, name: string, req: ReplicaFilesRestoreSpec): Promise<void> {
  await assertStopped(ctx, name);
  ctx.appIds(name);
  const dir = appRemote(req.target, req.source, req.app_id, FILES_PREFIX);
  const listed = JSON.parse(await remote(ctx, req.target, 'lsjson', dir)) as LsEntry[];
  const latest = (Array.isArray(listed) ? listed : [])
    .map((e) => String(e.Path))
    .filter((p) => filesObjectRe.test(p))
    .sort()
    .at(-1);
  if (!latest) throw new HelperError(72, `the target holds no files of ${req.source}.${req.app_id}`);
  const work = await workDir(ctx);
  try {
    const tar = path.join(work, 'files.tar');
    await fetchDecrypted(ctx, req.target, `${dir}/${latest}`, work, tar, FILES_MAX_BYTES);
    const fh = await open(tar, 'r');
    try {
      await ctx.asApp(name, 'replica-files-untar', { stdin: fh.fd, timeoutMs: 60 * 60_000 });
    } finally {
      await fh.close();
    }
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}
