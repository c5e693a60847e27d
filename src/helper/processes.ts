import { readdir, readFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { HelperError } from './errors.js';

/**
 * Ends every process of one user, and checks that none is left. Root moves,
 * re-owns or deletes an app's tree only after this: a live process of the app
 * could otherwise swap a directory for a link under root's feet, and a process
 * that outlived its app would own whatever a later user of the same uid gets.
 */

/** PIDs whose real, effective, saved or filesystem uid is `uid`. */
export async function processesOf(uid: number): Promise<number[]> {
  const out: number[] = [];
  for (const entry of await readdir('/proc')) {
    if (!/^[0-9]+$/.test(entry)) continue;
    const status = await readFile(`/proc/${entry}/status`, 'utf8').catch(() => '');
    const m = /^Uid:\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)/m.exec(status);
    if (m && m.slice(1).some((u) => Number(u) === uid)) out.push(Number(entry));
  }
  return out;
}

/** SIGKILLs the user's processes until none is left; refuses (named) when some survive every round. */
export async function endProcessesOf(uid: number, who: string, rounds = 50): Promise<number> {
  if (uid === 0) throw new HelperError(72, 'refusing to end the processes of root');
  let killed = 0;
  for (let i = 0; i < rounds; i++) {
    const pids = await processesOf(uid);
    if (pids.length === 0) return killed;
    for (const pid of pids) {
      try {
        process.kill(pid, 'SIGKILL');
        killed++;
      } catch {
        /* gone already */
      }
    }
    await sleep(Math.min(20 * (i + 1), 200));
  }
  const left = await processesOf(uid);
  if (left.length === 0) return killed;
  throw new HelperError(
    72,
    `${left.length} process(es) of ${who} outlived every SIGKILL (pids ${left.slice(0, 5).join(', ')})`,
  );
}
