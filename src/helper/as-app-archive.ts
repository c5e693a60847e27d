import { mkdir, readdir, rename } from 'node:fs/promises';
import path from 'node:path';
import { exec } from '../shared/exec.js';
import { BUNDLE_DIRS, clear, exists } from './app-files.js';

const DIRS = ['pb_data', ...BUNDLE_DIRS];

/**
 * stdin: a tar of an archived app's pb_data and bundle directories (root wrote it from its own
 * archive). Runs as the new app in its sandbox: unpacked beside the app, then each directory swapped
 * in for the empty one prepare made. Anything else in the tar is refused: only those four names.
 */
export async function archiveRestore(app: string): Promise<void> {
  const stage = path.join(app, '.archive.restoring');
  await clear(stage);
  await mkdir(stage, { mode: 0o750 });
  try {
    await exec('tar', ['-x', '--no-same-owner', '--no-same-permissions', '-C', stage], {
      stdin: 0,
      timeoutMs: 60 * 60_000,
    });
    const got = await readdir(stage);
    const odd = got.filter((n) => !DIRS.includes(n));
    if (odd.length) throw new Error(`the archive holds ${odd.slice(0, 3).join(', ')}, not only ${DIRS.join(', ')}`);
    if (!got.includes('pb_data')) throw new Error('the archive holds no pb_data');
    for (const d of got) {
      await clear(path.join(app, d));
      await rename(path.join(stage, d), path.join(app, d));
    }
  } finally {
    await clear(stage);
  }
  for (const d of DIRS) if (!(await exists(path.join(app, d)))) await mkdir(path.join(app, d), { mode: 0o750 });
}
