// Idle apps sleep (issue #28), with real PocketBase behind real systemd and Caddy:
// 1. wake latency through Caddy, p50 and p99 over BENCH_WAKES (50) wakes, against the
//    same request to the app awake, measured in the same run;
// 2. failed requests among BENCH_BURST (100) concurrent first requests to a sleeping app;
// 3. memory of BENCH_SLEEP_APPS (20) apps, all awake (each held awake by an open realtime
//    connection) against all but BENCH_AWAKE (1) asleep: the sum of their units' cgroups.
import { setTimeout as sleep } from 'node:timers/promises';
import { setupPocketdHost, type PocketdHost } from '../test/support/host.js';
import { PB_LATEST } from '../test/support/pocketbase.js';
import { openRealtime } from '../test/support/realtime.js';
import { fmt, percentile } from './stats.js';

const WAKES = Number(process.env.BENCH_WAKES ?? 50);
const BURST = Number(process.env.BENCH_BURST ?? 100);
const APPS = Number(process.env.BENCH_SLEEP_APPS ?? 20);
const AWAKE = Number(process.env.BENCH_AWAKE ?? 1);

const h = await setupPocketdHost({
  settings: { sleep_min_seconds: '1', port_range: '21000-22999', health_interval_seconds: '30' },
});
const active = async (unit: string) => (await h.sbx.exec(['systemctl', 'is-active', unit])).stdout.trim();
async function untilAsleep(name: string, timeoutMs = 60_000) {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if ((await active(`pb-${name}.service`)) === 'inactive') return;
    await sleep(50);
  }
  throw new Error(`${name} never fell asleep`);
}
async function sleepingApp(h: PocketdHost, name: string, after: string) {
  const r = await h.api('POST', '/api/apps', { name, domains: [`${name}.test`], pocketbase_version: PB_LATEST });
  if ((await h.waitDeployment(r.body.deployment_id, 300_000)).status !== 'success') throw new Error('create failed');
  const p = await h.api('PATCH', `/api/apps/${name}`, { sleep_after: after });
  if (p.status !== 200) throw new Error(`sleep_after: ${JSON.stringify(p.body)}`);
}

try {
  // 1. Wake latency through Caddy.
  await sleepingApp(h, 'wake', '1s');
  const wakes: number[] = [];
  const awake: number[] = [];
  for (let i = 0; i < WAKES; i++) {
    await untilAsleep('wake');
    let t0 = performance.now();
    const first = await h.viaCaddy('wake.test');
    wakes.push(performance.now() - t0);
    t0 = performance.now();
    const second = await h.viaCaddy('wake.test');
    awake.push(performance.now() - t0);
    if (first.status !== 200 || second.status !== 200) throw new Error(`wake ${i}: ${first.status}/${second.status}`);
  }
  const p50 = percentile(wakes, 50);
  console.log(
    `wake through Caddy over ${WAKES} wakes: p50 ${fmt(p50)}, p99 ${fmt(percentile(wakes, 99))} (goal p50 < 500 ms); ` +
      `the same request awake: p50 ${fmt(percentile(awake, 50))}, p99 ${fmt(percentile(awake, 99))}; ` +
      `wake/awake p50 ${(p50 / percentile(awake, 50)).toFixed(1)}x`,
  );

  // 2. A burst of first requests to a sleeping app: each is held while it wakes, none fails.
  for (let round = 0; round < 3; round++) {
    await untilAsleep('wake');
    const t0 = performance.now();
    const all = await Promise.all(
      Array.from({ length: BURST }, () =>
        h.viaCaddy('wake.test').catch((e: Error) => ({ status: 0, body: e.message })),
      ),
    );
    const failed = all.filter((r) => r.status !== 200);
    console.log(
      `${BURST} concurrent first requests to a sleeping app (round ${round + 1}): ${failed.length} failed ` +
        `(goal 0), all answered in ${fmt(performance.now() - t0)}${failed.length ? `: ${JSON.stringify(failed[0])}` : ''}`,
    );
  }
  await h.api('DELETE', '/api/apps/wake');

  // 3. Memory of APPS apps: all awake, then all but AWAKE asleep.
  const names = Array.from({ length: APPS }, (_, i) => `m${String(i).padStart(3, '0')}`);
  for (const n of names) await sleepingApp(h, n, '2s');
  const memory = async () => {
    const units = names.flatMap((n) => [`pb-${n}.service`, `pbwake-${n}.service`]);
    const out = await h.sbx.run(['systemctl', 'show', '-p', 'MemoryCurrent', '--value', ...units]);
    return out
      .split('\n')
      .map(Number)
      .filter((v) => Number.isFinite(v) && v > 0 && v < 2 ** 63)
      .reduce((a, b) => a + b, 0);
  };
  // Each app is held awake by an open realtime subscription through Caddy (what keeps a real app awake).
  const holds = new Map<string, { close(): void }>();
  for (const n of names) {
    const rt = await openRealtime(h.sbx.caddy.httpPort, `${n}.test`);
    if (rt.status !== 200) throw new Error(`realtime of ${n}: ${rt.status}`);
    holds.set(n, rt);
  }
  await sleep(5000);
  const allAwake = await memory();
  for (const n of names.slice(AWAKE)) holds.get(n)!.close();
  for (const n of names.slice(AWAKE)) await untilAsleep(n);
  const mostAsleep = await memory();
  for (const c of holds.values()) c.close();
  const mib = (b: number) => `${(b / 1024 ** 2).toFixed(1)} MiB`;
  console.log(
    `memory of ${APPS} apps (PocketBase ${PB_LATEST}), units' cgroups: all awake ${mib(allAwake)}; ` +
      `${APPS - AWAKE} asleep and ${AWAKE} awake ${mib(mostAsleep)}; ratio ${(allAwake / Math.max(1, mostAsleep)).toFixed(1)}x`,
  );
} finally {
  await h.stop();
}
