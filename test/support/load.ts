import autocannon from 'autocannon';
import { setTimeout as sleep } from 'node:timers/promises';
import type { PocketdHost } from './host.js';
import { drain } from './events.js';

export interface LoadResult {
  requests: number;
  errors: number;
  non2xx: number;
  p50: number;
  p99: number;
  rssBeforeMiB: number;
  rssMaxMiB: number;
  rssAfterMiB: number;
  /** RSS at each quarter of the run, to tell growth that levels off from a leak. */
  rssQuartersMiB: number[];
  /** V8 heap in use at each quarter: flat means the growth is the allocator, not a leak. */
  heapQuartersMiB: number[];
  subscribers: number;
  eventsReceived: number;
}

/**
 * `clients` connections for `seconds` cycling through the list, status and logs
 * endpoints, while `subscribers` clients hold /api/events open and an app is
 * restarted every few seconds to give them something to read. Samples the
 * daemon's RSS from /proc every second.
 */
export async function runLoad(
  h: PocketdHost,
  app: string,
  opts: { clients: number; seconds: number; subscribers: number },
): Promise<LoadResult> {
  const rss = () => h.daemonRssMiB();
  const rssBefore = await rss();
  const ctrls = Array.from({ length: opts.subscribers }, () => new AbortController());
  let eventsReceived = 0;
  await Promise.all(
    ctrls.map((c) =>
      drain(`${h.url}/api/events`, h.token, c.signal, (x) => {
        eventsReceived += new TextDecoder().decode(x).split('\nid: ').length - 1;
      }),
    ),
  );
  let running = true;
  const peaks: number[] = [];
  const heap: number[] = [];
  const sampler = (async () => {
    while (running) {
      peaks.push(await rss());
      const info = await h.api('GET', '/api/system/info').catch(() => null);
      if (info?.body?.memory) heap.push(info.body.memory.heap_used_bytes / 1024 / 1024);
      await sleep(1000);
    }
  })();
  const churn = (async () => {
    while (running) {
      await h.api('POST', `/api/apps/${app}/restart`).catch(() => undefined);
      await sleep(3000);
    }
  })();
  const auth = { authorization: `Bearer ${h.token}` };
  const r = await autocannon({
    url: h.url,
    connections: opts.clients,
    duration: opts.seconds,
    headers: auth,
    requests: [
      { method: 'GET', path: '/api/apps' },
      { method: 'GET', path: `/api/apps/${app}` },
      { method: 'GET', path: `/api/apps/${app}/logs?lines=100` },
    ],
  });
  running = false;
  await Promise.all([sampler, churn]);
  for (const c of ctrls) c.abort();
  await sleep(500);
  return {
    requests: r.requests.total,
    errors: r.errors + r.timeouts,
    non2xx: r.non2xx,
    p50: r.latency.p50,
    p99: r.latency.p99,
    rssBeforeMiB: rssBefore,
    rssMaxMiB: Math.max(rssBefore, ...peaks),
    rssAfterMiB: await rss(),
    rssQuartersMiB: quarters(peaks),
    heapQuartersMiB: quarters(heap),
    subscribers: opts.subscribers,
    eventsReceived,
  };
}

const quarters = (xs: number[]) =>
  [1, 2, 3, 4].map((q) => xs[Math.max(0, Math.min(xs.length - 1, Math.floor((q * xs.length) / 4) - 1))] ?? 0);

export const describeLoad = (opts: { clients: number; seconds: number }, r: LoadResult) =>
  `${opts.clients} clients for ${opts.seconds} s on list/status/logs + ${r.subscribers} event subscribers: ${r.requests} requests, ` +
  `${r.errors} errors, ${r.non2xx} non-2xx, p50 ${r.p50} ms, p99 ${r.p99} ms; daemon RSS ${r.rssBeforeMiB.toFixed(0)} MiB before, ` +
  `${r.rssQuartersMiB.map((x) => x.toFixed(0)).join(' / ')} MiB at each quarter, max ${r.rssMaxMiB.toFixed(0)}, ${r.rssAfterMiB.toFixed(0)} after; ` +
  `V8 heap in use ${r.heapQuartersMiB.map((x) => x.toFixed(0)).join(' / ')} MiB; ` +
  `${r.eventsReceived} events delivered`;
