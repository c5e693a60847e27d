import type { SSEStreamingApi } from 'hono/streaming';

/**
 * What a live stream (logs, events) has yet to send: items wait in order; a
 * client that falls more than `maxBehind` behind is ended rather than buffered
 * without bound; `drain` writes each as it comes, a ping after 15 s of quiet,
 * until the stream ends.
 */
export function createSseQueue<T>(maxBehind: number) {
  const queue: T[] = [];
  let wake: (() => void) | null = null;
  let ended = false;
  return {
    push(item: T): void {
      queue.push(item);
      if (queue.length > maxBehind) {
        ended = true;
        queue.length = 0;
      }
      wake?.();
    },
    end(): void {
      ended = true;
      wake?.();
    },
    async drain(stream: SSEStreamingApi, write: (item: T) => Promise<void>): Promise<void> {
      while (!ended) {
        const next = queue.shift();
        if (next !== undefined) {
          await write(next);
          continue;
        }
        await new Promise<void>((r) => {
          wake = r;
          setTimeout(r, 15_000);
        });
        wake = null;
        if (queue.length === 0 && !ended) await stream.writeSSE({ event: 'ping', data: '{}' });
      }
    },
  };
}
