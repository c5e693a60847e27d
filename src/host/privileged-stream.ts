import { Readable } from 'node:stream';
import { PocketdError } from '../shared/errors.js';
import { HELPER_EXIT, type HelperVerb } from '../shared/protocol.js';
import { spawnOutput } from '../shared/exec.js';

/** A helper verb whose answer is a stream of bytes (a backup's tar), read as it comes. */
export type PrivilegedStream = (verb: HelperVerb, args: string[]) => Promise<ReadableStream<Uint8Array>>;

/**
 * `sudo -n <helper> <verb> <args>` with its stdout handed on as a web stream, never held
 * whole. The answer waits for the first bytes or the helper's end: a helper that fails at
 * once (a missing backup) is a typed error the API maps, not a download cut short.
 */
export function createPrivilegedStream(helper: string, useSudo: boolean): PrivilegedStream {
  return async (verb, args) => {
    const [cmd, argv] = useSudo ? ['/usr/bin/sudo', ['-n', helper, verb, ...args]] : [helper, [verb, ...args]];
    const child = spawnOutput(cmd, argv);
    const first = await Promise.race([
      new Promise<'data'>((resolve) => child.stdout.once('readable', () => resolve('data'))),
      child.done,
    ]);
    if (first !== 'data' || child.stdout.readableLength === 0) {
      const { code, stderr } = await child.done;
      if (code !== 0) {
        const known = code !== null && code in HELPER_EXIT ? (code as keyof typeof HELPER_EXIT) : undefined;
        const detail = stderr.trim().split('\n').filter(Boolean).slice(-3).join('; ') || `exited ${code}`;
        throw new PocketdError(
          known ? HELPER_EXIT[known].code : 'HELPER_FAILED',
          `${verb} ${args[0] ?? ''}: ${detail}`,
        );
      }
    }
    const web = Readable.toWeb(child.stdout) as ReadableStream<Uint8Array>;
    // A reader that leaves ends the helper rather than leaving it blocked on a full pipe.
    return web.pipeThrough(
      new TransformStream<Uint8Array, Uint8Array>({
        flush: async (ctrl) => {
          const { code } = await child.done;
          if (code !== 0) ctrl.error(new Error(`${verb} ended with ${code}`));
        },
      }),
      { preventCancel: false },
    );
  };
}
