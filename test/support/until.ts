import { setTimeout as sleep } from 'node:timers/promises';

/** Polls `get` until `ok` accepts its value (bounded); fails with the last value when it never does. */
export async function until<T>(
  get: () => Promise<T>,
  ok: (v: T) => boolean,
  timeoutMs = 15_000,
  intervalMs = 100,
): Promise<T> {
  const end = Date.now() + timeoutMs;
  let v = await get();
  while (!ok(v)) {
    if (Date.now() > end) throw new Error(`gave up waiting after ${timeoutMs} ms: ${JSON.stringify(v).slice(0, 2000)}`);
    await sleep(intervalMs);
    v = await get();
  }
  return v;
}
