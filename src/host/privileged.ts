import { open } from 'node:fs/promises';
import { PocketdError } from '../shared/errors.js';
import { HELPER_EXIT, type HelperVerb } from '../shared/protocol.js';
import { exec, ExecError } from '../shared/exec.js';

export type { HelperVerb };

export interface PrivilegedOptions {
  /** A JSON spec for the verbs that write configuration (never a file, never a path). */
  spec?: unknown;
  /** A file of the daemon's whose bytes are the verb's stdin (a bundle or release archive); the helper never sees its path. */
  stdinFile?: string;
  timeoutMs?: number;
}

export interface Privileged {
  run(verb: HelperVerb, args: string[], opts?: PrivilegedOptions): Promise<string>;
}

/**
 * Every change that needs root goes through here: `sudo -n <helper> <verb> <args>`,
 * with a spec or a stream on stdin. `-n` makes a password prompt a failure, never a hang.
 */
export function createPrivileged(helper: string, useSudo: boolean): Privileged {
  return {
    async run(verb, args, opts = {}) {
      const [cmd, argv] = useSudo ? ['/usr/bin/sudo', ['-n', helper, verb, ...args]] : [helper, [verb, ...args]];
      const fh = opts.stdinFile ? await open(opts.stdinFile, 'r') : undefined;
      try {
        const r = await exec(cmd, argv, {
          input: opts.spec === undefined ? undefined : JSON.stringify(opts.spec),
          stdin: fh?.fd,
          timeoutMs: opts.timeoutMs ?? 90_000,
        });
        return r.stdout;
      } catch (err) {
        if (!(err instanceof ExecError)) throw err;
        const known =
          err.exitCode !== null && err.exitCode in HELPER_EXIT ? (err.exitCode as keyof typeof HELPER_EXIT) : undefined;
        const detail = err.stderr.trim().split('\n').filter(Boolean).slice(-3).join('; ') || err.message;
        throw new PocketdError(
          known ? HELPER_EXIT[known].code : 'HELPER_FAILED',
          `${verb} ${args[0] ?? ''}: ${detail}`,
          { cause: err },
        );
      } finally {
        await fh?.close();
      }
    },
  };
}
