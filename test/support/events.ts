import { setTimeout as sleep } from 'node:timers/promises';

export interface SseEvent {
  id?: string;
  event?: string;
  data: any;
}

/** Reads SSE events from a response body until `until` says stop or the time runs out. */
export async function readEvents(
  res: Response,
  until: (events: SseEvent[]) => boolean,
  timeoutMs = 5000,
): Promise<SseEvent[]> {
  const reader = res.body!.getReader();
  const events: SseEvent[] = [];
  let buf = '';
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
  await reader.cancel().catch(() => undefined);
  return events;
}
