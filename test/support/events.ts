import { setTimeout as sleep } from 'node:timers/promises';

export interface SseEvent {
  id?: string;
  event?: string;
  data: any;
}

/**
 * An open SSE response read in turns: `ready()` waits for the server's `ready`
 * event (sent once it listens, so nothing after it is missed), `read()` goes on
 * until `until` says stop or the time runs out, then lets the stream go.
 */
export function openEvents(res: Response) {
  const reader = res.body!.getReader();
  const events: SseEvent[] = [];
  let buf = '';
  const pull = async (until: (events: SseEvent[]) => boolean, timeoutMs: number) => {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline && !until(events)) {
      const chunk = await Promise.race([reader.read(), sleep(deadline - Date.now()).then(() => null)]);
      if (!chunk || chunk.done) break;
      buf += new TextDecoder().decode(chunk.value);
      let i: number;
      while ((i = buf.indexOf('\n\n')) !== -1) {
        const block = buf.slice(0, i);
        buf = buf.slice(i + 2);
        const e: any = {};
        for (const line of block.split('\n')) {
          const m = /^(\w+): ?(.*)$/.exec(line);
          if (m) e[m[1]!] = m[2];
        }
        if (e.data) e.data = JSON.parse(e.data);
        events.push(e);
      }
    }
  };
  return {
    async ready(timeoutMs = 5000): Promise<void> {
      await pull((ev) => ev.some((e) => e.event === 'ready'), timeoutMs);
      if (!events.some((e) => e.event === 'ready')) throw new Error('the events stream never said ready');
    },
    async read(until: (events: SseEvent[]) => boolean, timeoutMs = 5000): Promise<SseEvent[]> {
      await pull(until, timeoutMs);
      await reader.cancel().catch(() => undefined);
      return events;
    },
  };
}

/** Reads SSE events from a response body until `until` says stop or the time runs out. */
export const readEvents = (res: Response, until: (events: SseEvent[]) => boolean, timeoutMs = 5000) =>
  openEvents(res).read(until, timeoutMs);

/** Opens a stream with the token and hands each chunk it sends to `onChunk` until `signal` aborts it. */
export async function drain(
  url: string,
  token: string,
  signal: AbortSignal,
  onChunk: (chunk: Uint8Array) => void,
): Promise<void> {
  const res = await fetch(url, { headers: { authorization: `Bearer ${token}` }, signal });
  const reader = res.body!.getReader();
  void (async () => {
    try {
      for (;;) {
        const x = await reader.read();
        if (x.done) break;
        onChunk(x.value);
      }
    } catch {
      /* aborted */
    }
  })();
}
