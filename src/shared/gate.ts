import { PocketdError } from './errors.js';

/**
 * At most `max` holders at once and at most `waitMax` waiting in order; one more is refused with
 * `code` at once. A waiter costs a promise, nothing else (an upload waiting is not being read).
 * Uploads are bounded with it (core/bundles.ts), and the root helper's processes (host/privileged.ts:
 * 200 of them at once outgrew the daemon's MemoryMax), whose callers all wait (`waitMax` Infinity).
 *
 * @example
 * const release = await uploads.enter(); try { ... } finally { release(); }
 */
export function createGate(opts: { max: number; waitMax: number; code: string; what: string }) {
  let held = 0;
  const waiting: Array<() => void> = [];
  const release = () => {
    const next = waiting.shift();
    if (next) next();
    else held--;
  };
  return {
    async enter(): Promise<() => void> {
      if (held < opts.max) {
        held++;
      } else {
        if (waiting.length >= opts.waitMax)
          throw new PocketdError(opts.code, `${held} ${opts.what} run and ${waiting.length} wait; try again later`);
        await new Promise<void>((r) => waiting.push(r));
      }
      let done = false;
      return () => {
        if (done) return;
        done = true;
        release();
      };
    },
    /** Runs `fn` holding a place, given back when it ends however it ends. */
    async run<T>(fn: () => Promise<T>): Promise<T> {
      const leave = await this.enter();
      try {
        return await fn();
      } finally {
        leave();
      }
    },
    stats: () => ({ held, waiting: waiting.length }),
  };
}
