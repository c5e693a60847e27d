// Exhaustion (issue #25): the daemon's peak RSS while 12 bundle uploads of ~100 MB and 100
// live-log followers (10 read tokens x 10) run at once, and whether every other request is
// still answered meanwhile. A figure to read, not a pass/fail: the goal is under 200 MiB.
import http from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { setupPocketdHost } from '../test/support/host.js';
import { drain } from '../test/support/events.js';
import { buildZip } from '../test/support/zip.js';
import { fmt, percentile } from './stats.js';

const UPLOADS = Number(process.env.BENCH_UPLOADS ?? 12);
const UPLOAD_MIB = Number(process.env.BENCH_UPLOAD_MIB ?? 99);
const FOLLOWERS = Number(process.env.BENCH_FOLLOWERS ?? 100);
const MiB = 1024 * 1024;

const h = await setupPocketdHost();
try {
  const r = await h.api('POST', '/api/apps', { name: 'big', domains: ['big.test'] });
  if ((await h.waitDeployment(r.body.deployment_id)).status !== 'success') throw new Error('create failed');
  const app = `http://127.0.0.1:${r.body.port}`;
  const port = Number(new URL(h.url).port);
  const zip = buildZip([
    { name: 'pb_public/index.html', data: '<h1>big</h1>' },
    { name: 'pb_public/big.bin', data: Buffer.alloc(UPLOAD_MIB * MiB, 7), deflate: false },
  ]);
  const BOUNDARY = 'benchboundary';
  const head = Buffer.from(
    `--${BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="b.zip"\r\nContent-Type: application/zip\r\n\r\n`,
  );
  const tail = Buffer.from(`\r\n--${BOUNDARY}--\r\n`);
  /** One upload streamed from the one buffer (no copy per client), resolved with its status. */
  const upload = () =>
    new Promise<number>((resolve) => {
      const req = http.request(
        {
          host: '127.0.0.1',
          port,
          method: 'POST',
          path: '/api/apps/big/bundles',
          headers: {
            authorization: `Bearer ${h.token}`,
            'content-type': `multipart/form-data; boundary=${BOUNDARY}`,
            'content-length': String(head.length + zip.length + tail.length),
          },
        },
        (res) => {
          res.resume();
          res.on('end', () => resolve(res.statusCode ?? 0));
        },
      );
      req.on('error', () => resolve(0));
      req.write(head);
      for (let i = 0; i < zip.length; i += MiB) req.write(zip.subarray(i, i + MiB));
      req.end(tail);
    });

  const readers = await Promise.all(
    Array.from({ length: Math.ceil(FOLLOWERS / 10) }, async (_, i) => {
      const t = await h.api('POST', '/api/tokens', { name: `reader-${i}`, scope: 'app:big:read' });
      return t.body.token as string;
    }),
  );
  const before = await h.daemonRssMiB();
  const stop = new AbortController();
  let delivered = 0;
  await Promise.all(
    Array.from({ length: FOLLOWERS }, (_, i) =>
      drain(`${h.url}/api/apps/big/logs?follow=1&lines=10`, readers[Math.floor(i / 10)]!, stop.signal, (x) => {
        delivered += x.length;
      }),
    ),
  );
  const followers = (
    await h.sbx.exec(['pgrep', '-c', '-f', 'journalctl -u pb-big.service -o json --all -f'])
  ).stdout.trim();

  // Meanwhile: the sampler, other requests (the dashboard's reads, an app's own traffic), log lines.
  const samples: number[] = [];
  let sampling = true;
  const sampler = (async () => {
    while (sampling) {
      samples.push(await h.daemonRssMiB().catch(() => 0));
      await sleep(250);
    }
  })();
  const others: Array<{ ok: boolean; ms: number }> = [];
  let asking = true;
  const asker = (async () => {
    while (asking) {
      for (const path of ['/api/health', '/api/apps', '/api/apps/big', '/api/summary']) {
        const t0 = performance.now();
        const res = await h.api('GET', path).catch(() => ({ status: 0 }));
        others.push({ ok: res.status === 200, ms: performance.now() - t0 });
      }
      await fetch(`${app}/_standin/spam?n=50`).catch(() => undefined);
      await sleep(100);
    }
  })();

  const t0 = performance.now();
  const statuses = await Promise.all(Array.from({ length: UPLOADS }, upload));
  const took = performance.now() - t0;
  asking = false;
  await asker;
  sampling = false;
  await sampler;
  stop.abort();
  await sleep(1000);
  const after = await h.daemonRssMiB().catch(() => 0);
  const restarts = (await h.sbx.run(['systemctl', 'show', '-p', 'NRestarts', '--value', 'pocketd.service'])).trim();
  console.log(`pocketd.service restarts during the run: ${restarts}`);
  if (restarts !== '0')
    console.log(await h.sbx.run(['journalctl', '-u', 'pocketd', '-n', '40', '--no-pager', '-o', 'short-precise']));
  const counts = statuses.reduce<Record<number, number>>((m, s) => ({ ...m, [s]: (m[s] ?? 0) + 1 }), {});
  console.log(
    `${UPLOADS} uploads of ${((head.length + zip.length + tail.length) / MiB).toFixed(0)} MiB at once with ${FOLLOWERS} live-log followers (${readers.length} read tokens)`,
  );
  console.log(`uploads: ${JSON.stringify(counts)} (status: count) in ${fmt(took)}`);
  console.log(
    `journal readers for ${FOLLOWERS} followers: ${followers}; ${(delivered / 1024).toFixed(0)} KiB delivered`,
  );
  console.log(
    `daemon RSS: ${before.toFixed(1)} MiB before, peak ${Math.max(...samples).toFixed(1)} MiB (${samples.length} samples), ${after.toFixed(1)} MiB after (goal: peak under 200 MiB)`,
  );
  const ms = others.map((o) => o.ms);
  console.log(
    `other requests meanwhile: ${others.filter((o) => o.ok).length}/${others.length} answered 200, p50 ${fmt(percentile(ms, 50))}, p99 ${fmt(percentile(ms, 99))}`,
  );
} finally {
  await h.stop();
}
