/**
 * Single flight: one run per key at a time; callers asking while it is under
 * way join it and share its answer instead of starting another (many clients
 * polling the app list cost one systemctl at a time, not one each; one
 * download of a release however many ask). With `rerun`, a caller that joins
 * also asks for one more run once this one ends (while `rerun()` says so), in
 * the same promise: a change seen during a read is read again, and a burst of
 * asks costs two runs, not one each. The only de-duplicator of src/: every
 * "one in flight, the others join" uses it.
 */
export interface SingleFlight<T> {
  (key: string, run: () => Promise<T>): Promise<T>;
  /** The run in flight for `key`, if there is one (to wait for it on a stop, say). */
  pending(key: string): Promise<T> | undefined;
}

export function singleFlight<T>(opts: { rerun?: () => boolean } = {}): SingleFlight<T> {
  const inFlight = new Map<string, { promise?: Promise<T>; again: boolean }>();
  const flight = (key: string, run: () => Promise<T>): Promise<T> => {
    const cur = inFlight.get(key);
    if (cur?.promise) {
      cur.again = true;
      return cur.promise;
    }
    const entry: { promise?: Promise<T>; again: boolean } = { again: false };
    inFlight.set(key, entry);
    entry.promise = (async () => {
      try {
        let out: T;
        do {
          entry.again = false;
          out = await run();
        } while (entry.again && opts.rerun?.());
        return out;
      } finally {
        inFlight.delete(key);
      }
    })();
    return entry.promise;
  };
  return Object.assign(flight, { pending: (key: string) => inFlight.get(key)?.promise });
}
