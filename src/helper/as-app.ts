import { createWriteStream } from 'node:fs';
import { mkdir, mkdtemp, rename } from 'node:fs/promises';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { exec } from '../shared/exec.js';
import { readZip } from '../shared/zip.js';
import { BUNDLE_DIRS, clear, copyData, exists } from './app-files.js';
import { trial } from './as-app-trial.js';
import { archiveRestore } from './as-app-archive.js';
import { replicaPrepare, replicaRestore } from './as-app-replica.js';
import { filesSignature, filesTar, filesUntar } from './as-app-replica-files.js';

/**
 * Work inside an app's directory, done by the helper re-run as the app's own
 * user inside the app's own sandbox (src/helper/sandbox-run.ts): whatever the
 * app planted there (links, odd files, rc files), this process has only the
 * rights and the view the app has. Root only hands it descriptors (a bundle on
 * stdin, a backup file as stdin or stdout), never a path to follow.
 */

const DATA_DIRS = ['pb_data', ...BUNDLE_DIRS] as const;
/** The daemon checked the bundle against its own limits; these only bound what a broken one can cost the app. */
const ZIP_LIMITS = { maxUnpackedBytes: 16 * 1024 ** 3, maxFiles: 1_000_000, maxRatio: 100_000, topDirs: BUNDLE_DIRS };
const MAX_BUNDLE_BYTES = 4 * 1024 ** 3;

async function prepare(app: string): Promise<void> {
  for (const d of DATA_DIRS) await mkdir(path.join(app, d), { recursive: true, mode: 0o750 });
}

/** stdin: the bundle zip. Unpacks it beside the app, then swaps each directory it holds; the old ones go to .prev. */
async function bundleInstall(app: string): Promise<void> {
  const zip = path.join(app, '.bundle.zip');
  const stage = path.join(app, '.bundle.new');
  const prev = path.join(app, '.prev');
  await clear(zip);
  await clear(stage);
  let size = 0;
  await pipeline(
    process.stdin,
    async function* (src) {
      for await (const chunk of src as AsyncIterable<Buffer>) {
        size += chunk.length;
        if (size > MAX_BUNDLE_BYTES) throw new Error('the bundle is too large');
        yield chunk;
      }
    },
    createWriteStream(zip, { flags: 'wx', mode: 0o600 }),
  );
  try {
    await mkdir(stage, { mode: 0o750 });
    await readZip(zip, ZIP_LIMITS, stage);
    await clear(prev);
    await mkdir(prev, { mode: 0o700 });
    for (const d of BUNDLE_DIRS) {
      if (!(await exists(path.join(stage, d)))) continue;
      if (await exists(path.join(app, d))) await rename(path.join(app, d), path.join(prev, d));
      await rename(path.join(stage, d), path.join(app, d));
    }
  } finally {
    await clear(zip);
    await clear(stage);
  }
}

async function bundleRevert(app: string): Promise<void> {
  const prev = path.join(app, '.prev');
  if (!(await exists(prev))) return;
  for (const d of BUNDLE_DIRS) {
    if (!(await exists(path.join(prev, d)))) continue;
    await clear(path.join(app, d));
    await rename(path.join(prev, d), path.join(app, d));
  }
  await clear(prev);
}

/**
 * stdout: a tar of pb_data, each SQLite database copied through SQLite's
 * `VACUUM INTO` (one read transaction's snapshot, consistent while the app writes), other files as they are.
 */
async function backup(app: string): Promise<void> {
  // A fresh name each time: the app runs meanwhile, and a name it could guess is one it could occupy.
  const tmp = await mkdtemp(path.join(app, '.backup-'));
  await mkdir(path.join(tmp, 'pb_data'), { mode: 0o700 });
  try {
    await copyData(path.join(app, 'pb_data'), path.join(tmp, 'pb_data'));
    await exec('tar', ['-c', '-C', tmp, 'pb_data'], { stdout: 1, timeoutMs: 30 * 60_000 });
  } finally {
    await clear(tmp);
  }
}

/** stdin: a tar of pb_data. Unpacked beside the app, then swapped in for pb_data. */
async function restore(app: string): Promise<void> {
  const stage = path.join(app, '.pb_data.restoring');
  const old = path.join(app, '.pb_data.old');
  await clear(stage);
  await clear(old);
  await mkdir(stage, { mode: 0o750 });
  try {
    await exec('tar', ['-x', '--no-same-owner', '--no-same-permissions', '-C', stage], {
      stdin: 0,
      timeoutMs: 30 * 60_000,
    });
    if (!(await exists(path.join(stage, 'pb_data')))) throw new Error('the backup holds no pb_data');
    if (await exists(path.join(app, 'pb_data'))) await rename(path.join(app, 'pb_data'), old);
    await rename(path.join(stage, 'pb_data'), path.join(app, 'pb_data'));
  } finally {
    await clear(stage);
    await clear(old);
  }
}

/** Each operation, and how many arguments it takes after APP_DIR. */
const OPS: Record<string, { fn: (app: string, args: string[]) => Promise<void>; args: number }> = {
  prepare: { fn: prepare, args: 0 },
  'bundle-install': { fn: bundleInstall, args: 0 },
  'bundle-revert': { fn: bundleRevert, args: 0 },
  backup: { fn: backup, args: 0 },
  restore: { fn: restore, args: 0 },
  'archive-restore': { fn: archiveRestore, args: 0 },
  trial: { fn: trial, args: 2 },
  'replica-prepare': { fn: replicaPrepare, args: 0 },
  'replica-restore': { fn: replicaRestore, args: 0 },
  'replica-files-sig': { fn: filesSignature, args: 0 },
  'replica-files-tar': { fn: filesTar, args: 0 },
  'replica-files-untar': { fn: filesUntar, args: 0 },
};
export const AS_APP_OPS = Object.keys(OPS);

/** `pocketd-helper as-app OP APP_DIR [ARGS]`: refused as root, so sudo can never reach it with root's rights. */
export async function runAsApp(args: string[]): Promise<number> {
  if (process.getuid?.() === 0) {
    process.stderr.write('pocketd-helper: as-app work never runs as root\n');
    return 64;
  }
  const [op, app, ...rest] = args;
  const def = op && Object.hasOwn(OPS, op) ? OPS[op] : undefined;
  if (!def || !app || rest.length !== def.args || !path.isAbsolute(app)) {
    process.stderr.write('pocketd-helper: usage: as-app OP APP_DIR [ARGS]\n');
    return 64;
  }
  process.umask(0o027);
  try {
    await def.fn(app, rest);
    return 0;
  } catch (err) {
    process.stderr.write(`pocketd-helper: ${op}: ${(err as Error).message}\n`);
    return 72;
  }
}
