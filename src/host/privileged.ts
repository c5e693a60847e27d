import { open } from 'node:fs/promises';
import { PocketdError } from '../shared/errors.js';
import { HELPER_EXIT, isSocketVerb, type HelperArgs, type HelperInput, type HelperVerb } from '../shared/protocol.js';
import { exec, ExecError } from '../shared/exec.js';
import { createGate } from '../shared/gate.js';
import { askHelperSocket, SocketUnavailable } from './helper-socket.js';

export type { HelperVerb };

/**
 * A call's input, typed by the verb (shared/protocol.ts): a JSON spec for the verbs that write
 * configuration (never a file, never a path), or a file of the daemon's whose bytes are the
 * verb's stdin (a bundle or release archive; the helper never sees its path).
 */
export type PrivilegedOptions<V extends HelperVerb> = HelperInput<V> & { timeoutMs?: number };

/** A verb that takes nothing on stdin may be called without options; the others must say what they send. */
type OptionsArg<V extends HelperVerb> =
  HelperInput<V> extends { spec: unknown } | { stdinFile: string }
    ? [opts: PrivilegedOptions<V>]
    : [opts?: PrivilegedOptions<V>];

export interface Privileged {
  /** A wrong argument count or a spec of another verb's shape does not compile. */
  run<V extends HelperVerb>(verb: V, args: HelperArgs<V>, ...opts: OptionsArg<V>): Promise<string>;
}

/** Helper processes at once, at most: each is a node of its own (about 10 MiB of memory) in the daemon's cgroup. */
export const HELPER_SLOTS = 8;

/** A failed call as the daemon's error: the helper's documented code when it exited with one, and its last words. */
function helperFailure(verb: string, args: readonly string[], exitCode: number | null, stderr: string, cause: Error) {
  const known = exitCode !== null && exitCode in HELPER_EXIT ? (exitCode as keyof typeof HELPER_EXIT) : undefined;
  const detail = stderr.trim().split('\n').filter(Boolean).slice(-3).join('; ') || cause.message;
  return new PocketdError(known ? HELPER_EXIT[known].code : 'HELPER_FAILED', `${verb} ${args[0] ?? ''}: ${detail}`, {
    cause,
  });
}

/**
 * Every change that needs root goes through here: `sudo -n <helper> <verb> <args>`,
 * with a spec or a stream on stdin. `-n` makes a password prompt a failure, never a hang.
 * An app's start, stop and restart (SOCKET_VERBS) go to the resident helper on `socket` instead
 * (pocketd-helper.socket: the same checks and code without sudo's and node's start), or through
 * sudo when nothing listens there. At most `slots` calls run at once; the others wait their turn
 * (shared/gate.ts).
 */
export function createPrivileged(
  helper: string,
  useSudo: boolean,
  slots = HELPER_SLOTS,
  socket: string | undefined = undefined,
): Privileged {
  const turns = createGate({ max: slots, waitMax: Infinity, code: 'HELPER_BUSY', what: 'helper calls' });
  return {
    async run<V extends HelperVerb>(verb: V, args: HelperArgs<V>, ...rest: OptionsArg<V>) {
      const opts: { spec?: unknown; stdinFile?: string; timeoutMs?: number } = rest[0] ?? {};
      const list = args as readonly string[];
      const timeoutMs = opts.timeoutMs ?? 90_000;
      if (socket && isSocketVerb(verb)) {
        const answer = await turns
          .run(() => askHelperSocket(socket, { verb, name: list[0]! }, timeoutMs))
          .catch((err: unknown) => {
            if (err instanceof SocketUnavailable) return undefined;
            throw new PocketdError('HELPER_FAILED', `${verb} ${list[0]}: ${(err as Error).message}`, { cause: err });
          });
        if (answer?.code === 0) return answer.stdout;
        if (answer) throw helperFailure(verb, list, answer.code, answer.stderr, new Error(`exited ${answer.code}`));
      }
      const [cmd, argv] = useSudo ? ['/usr/bin/sudo', ['-n', helper, verb, ...list]] : [helper, [verb, ...list]];
      const fh = opts.stdinFile ? await open(opts.stdinFile, 'r') : undefined;
      try {
        const r = await turns.run(() =>
          exec(cmd, argv, {
            input: opts.spec === undefined ? undefined : JSON.stringify(opts.spec),
            stdin: fh?.fd,
            timeoutMs,
          }),
        );
        return r.stdout;
      } catch (err) {
        if (!(err instanceof ExecError)) throw err;
        throw helperFailure(verb, list, err.exitCode, err.stderr, err);
      } finally {
        await fh?.close();
      }
    },
  };
}
