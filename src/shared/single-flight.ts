/**
 * Single flight: callers asking the same question while a read is under way
 * share its answer instead of starting another process (many clients polling
 * the app list cost one systemctl at a time, not one each).
 */
export function singleFlight<T>() {
  const inFlight = new Map<string, Promise<T>>();
  return (key: string, run: () => Promise<T>): Promise<T> => {
    const pending = inFlight.get(key);
    if (pending) return pending;
    const p = run().finally(() => inFlight.delete(key));
    inFlight.set(key, p);
    return p;
  };
}
