import { PocketdError } from '../../shared/errors.js';
import type { LogEntry } from '../../host/journal.js';

/** What the hub needs of the journal: one follower of a unit, stopped when nobody listens. */
export interface FollowSource {
  follow(unit: string, onEntry: (e: LogEntry) => void, onEnd: () => void): { stop(): void };
}

export interface LogStream {
  /** Stops listening; the unit's reader stops with its last listener. */
  close(): void;
}

/**
 * Live logs: one journal reader per unit, fanned out to every listener of it, with a bound on
 * the listeners of one token and of all; one more is a 429 (`TOO_MANY_STREAMS`). A token at its
 * bound takes nothing from another token.
 *
 * @example
 * const s = streams.open('pb-shop.service', principal.tokenId, (e) => send(e), () => end());
 * // ... s.close()
 */
export function createLogStreams(source: FollowSource, opts: { perToken: number; max: number }) {
  interface Listener {
    token: number;
    onEntry: (e: LogEntry) => void;
    onEnd: () => void;
  }
  const units = new Map<string, { reader: { stop(): void }; listeners: Set<Listener> }>();
  const perToken = new Map<number, number>();
  let open = 0;

  function release(unit: string, l: Listener): void {
    const u = units.get(unit);
    if (!u?.listeners.delete(l)) return;
    open--;
    const left = (perToken.get(l.token) ?? 1) - 1;
    if (left > 0) perToken.set(l.token, left);
    else perToken.delete(l.token);
    if (u.listeners.size === 0) {
      units.delete(unit);
      u.reader.stop();
    }
  }

  return {
    open(unit: string, token: number, onEntry: (e: LogEntry) => void, onEnd: () => void): LogStream {
      const mine = perToken.get(token) ?? 0;
      if (mine >= opts.perToken)
        throw new PocketdError(
          'TOO_MANY_STREAMS',
          `this token has ${mine} live log streams open, the most one token may (log_follow_per_token); close one first`,
        );
      if (open >= opts.max)
        throw new PocketdError(
          'TOO_MANY_STREAMS',
          `${open} live log streams are open, the most pocketd serves at once (log_follow_max); try again later`,
        );
      const l: Listener = { token, onEntry, onEnd };
      let u = units.get(unit);
      if (!u) {
        const listeners = new Set<Listener>();
        const reader = source.follow(
          unit,
          (e) => {
            for (const x of listeners) x.onEntry(e);
          },
          () => {
            // The reader ended by itself (journalctl died): every listener of it ends too.
            if (units.get(unit)?.listeners === listeners) units.delete(unit);
            for (const x of [...listeners]) {
              listeners.delete(x);
              open--;
              const left = (perToken.get(x.token) ?? 1) - 1;
              if (left > 0) perToken.set(x.token, left);
              else perToken.delete(x.token);
              x.onEnd();
            }
          },
        );
        u = { reader, listeners };
        units.set(unit, u);
      }
      u.listeners.add(l);
      open++;
      perToken.set(token, mine + 1);
      return { close: () => release(unit, l) };
    },
    /** Streams open now, and units read: for tests and /api/system/health. */
    stats: () => ({ streams: open, readers: units.size }),
  };
}

export type LogStreams = ReturnType<typeof createLogStreams>;
