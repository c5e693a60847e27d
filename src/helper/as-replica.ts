import { mkdtemp, stat } from 'node:fs/promises';
import path from 'node:path';
import { exec, ExecError } from '../shared/exec.js';
import { REPLICATED_DBS, timestampSchema } from '../shared/replica-rules.js';
import { runAsReplicaFiles } from './as-replica-files.js';

/**
 * `pocketd-helper as-replica restore LITESTREAM PB_DATA CONFIG TIMESTAMP|latest`:
 * run inside a replica's transient unit (the replica's user, its config,
 * never the app's user and never root). Restores each database of the app's
 * replica into the unit's private /tmp and prints them as one tar on stdout,
 * which root hands to the app's own as-app `replica-restore`.
 */
export async function runAsReplica(args: string[]): Promise<number> {
  if (process.getuid?.() === 0) {
    process.stderr.write('pocketd-helper: as-replica work never runs as root\n');
    return 64;
  }
  if (args[0] === 'put' || args[0] === 'remote') return runAsReplicaFiles(args[0], args.slice(1));
  const [op, litestream, pbData, config, when] = args;
  const ts = when === 'latest' ? null : timestampSchema.safeParse(when).data;
  if (op !== 'restore' || !litestream || !pbData || !path.isAbsolute(pbData) || !config || ts === undefined) {
    process.stderr.write('pocketd-helper: usage: as-replica restore LITESTREAM PB_DATA CONFIG TIMESTAMP|latest\n');
    return 64;
  }
  const out = await mkdtemp('/tmp/restore-');
  const got: string[] = [];
  try {
    for (const db of REPLICATED_DBS) {
      const argv = ['restore', '-no-expand-env', '-config', config];
      argv.push('-if-replica-exists', '-o', path.join(out, db));
      if (ts) argv.push('-timestamp', ts);
      await exec(litestream, [...argv, path.join(pbData, db)], { timeoutMs: 60 * 60_000 });
      if ((await stat(path.join(out, db)).catch(() => null))?.isFile()) got.push(db);
    }
    if (!got.includes('data.db')) throw new Error('the target holds no replica of data.db for that time');
    await exec('tar', ['-c', '-C', out, ...got], { stdout: 1, timeoutMs: 60 * 60_000 });
    return 0;
  } catch (err) {
    const said = err instanceof ExecError ? err.stderr.trim().split('\n').slice(-3).join('; ') : '';
    process.stderr.write(`pocketd-helper: as-replica restore: ${said || (err as Error).message}\n`);
    return 72;
  }
}
