import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdtemp, open, rm } from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import {
  appRemote,
  filesObjectAt,
  FILES_PREFIX,
  MANIFEST_OBJECT,
  type ReplicaFilesSpec,
} from '../shared/replica-files.js';
import type { HelperContext } from './context.js';
import { ensureRootDir } from './root-files.js';
import { ageKeys, inReplicaSandbox } from './replica.js';
import { SANDBOX_NODE_FLAGS } from './sandbox-run.js';

/**
 * replica-files NAME (issue #27): the app's files that are not in SQLite and
 * its manifest go to its replica's target when either changed since the last
 * push. The app's own as-app work signs and tars its tree (in its sandbox);
 * root carries the tar through a private file of its own to the replica's
 * transient unit, which encrypts it (age, the host's public key) and uploads
 * it (rclone) under a new name. Root never walks the app's tree.
 */

/** Root's scratch room for carried bytes: never inside an app's tree, never readable by another user. */
export async function workDir(ctx: HelperContext): Promise<string> {
  const base = path.join(ctx.config.state_dir, 'replica-work');
  await ensureRootDir(base, 0o700);
  return mkdtemp(path.join(base, 'w-'));
}

export async function pushFiles(ctx: HelperContext, name: string, req: ReplicaFilesSpec): Promise<string> {
  ctx.appIds(name);
  const sig = (await ctx.asApp(name, 'replica-files-sig', { timeoutMs: 10 * 60_000 })).trim();
  const manifest = `${JSON.stringify(req.manifest)}\n`;
  const signature = createHash('sha256').update(`${sig}\n${manifest}`).digest('hex');
  if (signature === req.last) return JSON.stringify({ signature, pushed: false });
  const keys = await ageKeys(ctx);
  const { spec } = req;
  const work = await workDir(ctx);
  try {
    const tar = path.join(work, 'files.tar');
    const fh = await open(tar, 'wx', 0o600);
    try {
      await ctx.asApp(name, 'replica-files-tar', { stdout: fh.fd, timeoutMs: 60 * 60_000 });
    } finally {
      await fh.close();
    }
    const put = (stdin: NodeJS.ReadableStream, object: string, prune: boolean) =>
      inReplicaSandbox(
        ctx,
        name,
        spec,
        name,
        (rc) => [
          process.execPath,
          ...SANDBOX_NODE_FLAGS,
          ctx.selfFile,
          'as-replica',
          'put',
          rc.rclone_file,
          keys.recipient,
          appRemote(spec.target, name, spec.app_id, object),
          ...(prune ? [appRemote(spec.target, name, spec.app_id, FILES_PREFIX), String(spec.retention_hours)] : []),
        ],
        stdin,
      ).then((w) => {
        w.stdout.resume();
        return w.done;
      });
    // The files first: a manifest never names more than the target holds.
    await put(createReadStream(tar), `${FILES_PREFIX}/${filesObjectAt(new Date())}`, true);
    await put(Readable.from([manifest]), MANIFEST_OBJECT, false);
  } finally {
    await rm(work, { recursive: true, force: true });
  }
  return JSON.stringify({ signature, pushed: true });
}
