/**
 * At most `n` runs at a time; the others wait their turn, first come first served. The bound on the root
 * helper's processes (host/privileged.ts): 200 apps failing their health checks at once, or 200 nightly
 * backups on one schedule, each start a helper call, and 200 node processes at once outgrow the daemon's
 * MemoryMax, whose cgroup they run in.
 *
 * @example const slots = createSlots(8); await slots.run(() => exec('sudo', [...]));
 */
export interface Slots {
  run<T>(fn: () => Promise<T>): Promise<T>;
  /** Runs under way and callers waiting, for metrics and tests. */
  readonly busy: number;
  readonly waiting: number;
}

export function createSlots(n: number): Slots {
  let busy = 0;
  const queue: Array<() => void> = [];
  const release = () => {
    const next = queue.shift();
    if (next) next();
    else busy--;
  };
  return {
    async run<T>(fn: () => Promise<T>): Promise<T> {
      if (busy < n) busy++;
      // A slot handed over by release() stays counted: busy changes only when nobody waits.
      else await new Promise<void>((go) => queue.push(go));
      try {
        return await fn();
      } finally {
        release();
      }
    },
    get busy() {
      return busy;
    },
    get waiting() {
      return queue.length;
    },
  };
}
