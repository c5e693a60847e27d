/** ISO timestamps, the one format the store uses. */
export const nowIso = (): string => new Date().toISOString();
export const isoIn = (ms: number): string => new Date(Date.now() + ms).toISOString();

/** A job on a fixed interval, from {@link every}. */
export interface Ticker {
  /** No more ticks; resolves when a tick already running has ended. */
  stop(): Promise<void>;
}

/**
 * Runs `tick` every `seconds`, never two at once: a tick still running when the next is due skips that one.
 * A timer, not a cron task: a cron library works out each next run in local time through `Intl`, which
 * loads ICU's time-zone and locale data (about 5 MiB of the daemon's resident memory) for a plain interval.
 */
export function every(seconds: number, tick: () => Promise<void>): Ticker {
  let running: Promise<void> | null = null;
  const timer = setInterval(() => {
    if (running) return;
    running = tick().finally(() => {
      running = null;
    });
  }, seconds * 1000);
  return {
    async stop() {
      clearInterval(timer);
      await running;
    },
  };
}
