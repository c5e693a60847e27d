// Logs: time to the newest 1000 lines of a large journal through pocketd, against
// journalctl itself in the same run; then the daemon's memory while 50 clients
// follow an app's log for a minute, and whether their journal readers end after.
import { setTimeout as sleep } from 'node:timers/promises';
import { setupPocketdHost } from '../test/support/host.js';
import { drain } from '../test/support/events.js';
import { fmt, percentile } from './stats.js';
import { seedApp } from '../test/support/pb-app.js';

const LINES = Number(process.env.BENCH_LINES ?? 200_000);
const FOLLOWERS = Number(process.env.BENCH_FOLLOWERS ?? 50);
const FOLLOW_SECONDS = Number(process.env.BENCH_FOLLOW_SECONDS ?? 60);
const RUNS = 20;

// One token follows FOLLOWERS times: the per-token bound on live streams is raised to it.
const h = await setupPocketdHost({
  settings: { log_follow_per_token: String(FOLLOWERS), log_follow_max: String(Math.max(64, FOLLOWERS)) },
});
try {
  // journald's rate limit would drop most of a burst this size.
  await h.sbx.writeFile('/etc/systemd/journald.conf.d/bench.conf', '[Journal]\nRateLimitBurst=0\n');
  await h.sbx.run(['systemctl', 'restart', 'systemd-journald']);
  const r = await h.api('POST', '/api/apps', { name: 'loud' });
  if ((await h.waitDeployment(r.body.deployment_id)).status !== 'success') throw new Error('create failed');
  // The real PocketBase prints the lines from its test hooks (console.log in a loop).
  await seedApp(h, 'loud');
  const app = `http://127.0.0.1:${r.body.port}`;
  const t0 = performance.now();
  for (let done = 0; done < LINES; done += 50_000)
    await fetch(`${app}/_test/print?msg=spam&n=${Math.min(50_000, LINES - done)}`);
  let count = 0;
  for (let i = 0; i < 100; i++) {
    count = Number((await h.sbx.run(['sh', '-c', 'journalctl -u pb-loud.service -o cat | wc -l'])).trim());
    if (count >= LINES) break;
    await sleep(200);
  }
  console.log(`journal holds ${count} lines of pb-loud.service (written in ${fmt(performance.now() - t0)})`);

  const ours: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const s = performance.now();
    const res = await h.api('GET', '/api/apps/loud/logs?lines=1000');
    ours.push(performance.now() - s);
    if (res.body.entries.length !== 1000) throw new Error(`got ${res.body.entries?.length} entries`);
  }
  const baseScript = `const {execFileSync}=require('child_process');const out=[];for(let i=0;i<${RUNS};i++){const t=performance.now();
    execFileSync('journalctl',['-u','pb-loud.service','-n','1000','-o','json','--no-pager'],{maxBuffer:1<<28});out.push(performance.now()-t);}console.log(JSON.stringify(out));`;
  const base = JSON.parse(
    await h.sbx.run(['node', '-e', baseScript], { user: 'pocketd', timeoutMs: 300_000 }),
  ) as number[];
  console.log(
    `GET /api/apps/loud/logs?lines=1000 (${RUNS} runs): p50 ${fmt(percentile(ours, 50))}, p99 ${fmt(percentile(ours, 99))}`,
  );
  console.log(
    `baseline journalctl -n 1000 -o json alone: p50 ${fmt(percentile(base, 50))}, p99 ${fmt(percentile(base, 99))}`,
  );
  console.log(`ratio pocketd/journalctl at p50: ${(percentile(ours, 50) / percentile(base, 50)).toFixed(2)}`);
  const search = performance.now();
  const found = await h.api('GET', '/api/apps/loud/logs?lines=10&q=spam%2012345');
  console.log(
    `search q="spam 12345 " over the whole journal: ${found.body.entries.length} entries in ${fmt(performance.now() - search)}`,
  );

  const rss = () => h.daemonRssMiB();
  const before = await rss();
  const ctrls = Array.from({ length: FOLLOWERS }, () => new AbortController());
  let received = 0;
  await Promise.all(
    ctrls.map((c) =>
      drain(`${h.url}/api/apps/loud/logs?follow=1&lines=10`, h.token, c.signal, (x) => {
        received += x.length;
      }),
    ),
  );
  await sleep(1000);
  const readers = async () =>
    (await h.sbx.exec(['pgrep', '-c', '-f', 'journalctl -u pb-loud.service -o json --all -f'])).stdout.trim();
  console.log(
    `${FOLLOWERS} followers open, ${await readers()} journal readers; daemon RSS ${before.toFixed(1)} MiB before`,
  );
  const peaks: number[] = [];
  const end = Date.now() + FOLLOW_SECONDS * 1000;
  while (Date.now() < end) {
    await fetch(`${app}/_test/print?msg=spam&n=200`);
    peaks.push(await rss());
    await sleep(1000);
  }
  console.log(
    `while following for ${FOLLOW_SECONDS} s (200 new lines/s): RSS max ${Math.max(...peaks).toFixed(1)} MiB, last ${peaks.at(-1)!.toFixed(1)} MiB; ${(received / 1024 / 1024).toFixed(1)} MiB delivered`,
  );
  for (const c of ctrls) c.abort();
  await sleep(1000);
  console.log(`after the clients left: ${await readers()} journal readers, RSS ${(await rss()).toFixed(1)} MiB`);
} finally {
  await h.stop();
}
