import { spawn } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { exec } from '../shared/exec.js';

/**
 * The replica's side of files and manifests (issue #27), run inside a
 * replica's transient unit (never the app's user, never root):
 * - `put CONF RECIPIENT REMOTE [PRUNE_DIR HOURS]`: stdin, age-encrypted to the
 *   host's public key, is uploaded by rclone as REMOTE; then objects of
 *   PRUNE_DIR older than HOURS go (best effort: credentials without delete
 *   permission keep everything, which is the safer target).
 * - `remote lsjson|cat REMOTE`: rclone's config comes on stdin (a recovering
 *   host has no replica user yet: this unit is a dynamic user), the answer on
 *   stdout. Nothing is decrypted here: root holds the key.
 */

const RCLONE = 'rclone';
const common = (conf: string) => ['--config', conf, '--cache-dir', '/tmp/rclone-cache', '-q', '--retries', '3'];

function pipeUp(conf: string, recipient: string, remote: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const age = spawn('age', ['-r', recipient], { stdio: [process.stdin, 'pipe', 'pipe'] });
    const up = spawn(RCLONE, [...common(conf), 'rcat', remote], { stdio: [age.stdout, 'ignore', 'pipe'] });
    let err = '';
    for (const c of [age, up]) c.stderr?.on('data', (d: Buffer) => (err.length < 4000 ? (err += d.toString()) : 0));
    let left = 2;
    const codes: number[] = [];
    const done = (code: number | null) => {
      codes.push(code ?? 1);
      if (--left > 0) return;
      if (codes.every((c) => c === 0)) resolve();
      else reject(new Error(err.trim().split('\n').slice(-3).join('; ') || `upload of ${remote} failed`));
    };
    age.on('exit', done);
    up.on('exit', done);
  });
}

async function put(args: string[]): Promise<void> {
  const [conf, recipient, remote, pruneDir, hours] = args;
  if (!conf || !recipient || !/^age1[0-9a-z]{58}$/.test(recipient) || !remote) throw new Error('usage');
  await pipeUp(conf, recipient, remote);
  if (pruneDir && hours && /^\d{1,5}$/.test(hours))
    await exec(RCLONE, [...common(conf), 'delete', '--min-age', `${hours}h`, pruneDir], {
      timeoutMs: 10 * 60_000,
    }).catch((e: unknown) => process.stderr.write(`prune of ${pruneDir} failed: ${(e as Error).message}\n`));
}

async function readStdin(max: number): Promise<string> {
  let text = '';
  for await (const chunk of process.stdin as AsyncIterable<Buffer>) {
    text += chunk.toString('utf8');
    if (text.length > max) throw new Error('the config on stdin is too large');
  }
  return text;
}

async function remote(args: string[]): Promise<void> {
  const [verb, where, max] = args;
  if ((verb !== 'lsjson' && verb !== 'cat') || !where) throw new Error('usage');
  // What a cat may bring is bounded (a hostile target could send without end): one byte over the bound is read,
  // so the caller can tell an object at the bound from one beyond it.
  if (verb === 'cat' && !/^[1-9][0-9]{0,14}$/.test(max ?? '')) throw new Error('usage');
  const conf = '/tmp/rclone.conf';
  await writeFile(conf, await readStdin(64_000), { mode: 0o600, flag: 'wx' });
  const extra =
    verb === 'lsjson' ? ['--recursive', '--max-depth', '3', '--files-only'] : ['--count', String(Number(max) + 1)];
  await exec(RCLONE, [...common(conf), verb, ...extra, where], { stdout: 1, timeoutMs: 60 * 60_000 });
}

/** `as-replica put|remote ...`; answers the exit code. */
export async function runAsReplicaFiles(op: string, args: string[]): Promise<number> {
  try {
    if (op === 'put') await put(args);
    else await remote(args);
    return 0;
  } catch (err) {
    const msg = (err as Error).message;
    process.stderr.write(`pocketd-helper: as-replica ${op}: ${msg === 'usage' ? 'bad arguments' : msg}\n`);
    return msg === 'usage' ? 64 : 72;
  }
}
