import { z } from 'zod';

/**
 * `sleep_after`: how long an app may be idle (no open connection) before it sleeps, as the API
 * takes it: a duration like `90s`, `15m` or `2h`, or `off` (null too). The public bounds are one
 * minute to a day; the lower one is configurable (`sleep_min_seconds`) so a test may sleep sooner.
 */
export const SLEEP_MAX_SECONDS = 86_400;
let minSeconds = 60;

/** The shortest idle time the API takes (config `sleep_min_seconds`, set once at start). */
export const setSleepMinSeconds = (s: number) => {
  minSeconds = s;
};

const DURATION = /^([1-9]\d{0,5})(s|m|h)$/;
const UNIT_SECONDS = { s: 1, m: 60, h: 3600 } as const;

/** `15m` → 900; null for anything that is not a duration. */
export function parseDuration(text: string): number | null {
  const m = DURATION.exec(text);
  return m ? Number(m[1]) * UNIT_SECONDS[m[2] as keyof typeof UNIT_SECONDS] : null;
}

/** 900 → `15m`: the shortest exact spelling. */
export function formatDuration(seconds: number): string {
  if (seconds % 3600 === 0) return `${seconds / 3600}h`;
  if (seconds % 60 === 0) return `${seconds / 60}m`;
  return `${seconds}s`;
}

/** A duration (`15m`), seconds (900), `off` or null; decoded to seconds or null. */
export const sleepAfterSchema = z
  .union([z.string().max(16), z.number().int(), z.null()])
  .transform((v, ctx) => {
    if (v === null || v === 'off') return null;
    const s = typeof v === 'number' ? v : parseDuration(v);
    if (s === null) {
      ctx.addIssue({ code: 'custom', message: 'must be a duration like 90s, 15m or 2h, or off' });
      return z.NEVER;
    }
    if (s < minSeconds || s > SLEEP_MAX_SECONDS) {
      ctx.addIssue({
        code: 'custom',
        message: `must be between ${formatDuration(minSeconds)} and ${formatDuration(SLEEP_MAX_SECONDS)}`,
      });
      return z.NEVER;
    }
    return s;
  })
  .meta({ description: 'idle time before the app sleeps (e.g. 15m), or off', example: '15m' });
