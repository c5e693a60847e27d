// Requests through Caddy to an app while pocketd upgrades it and while it deploys a
// bundle, against a plain stop-replace-start of the same app in the same run
// (by hand with systemctl, behind the kind of Caddy block people write by hand:
// `reverse_proxy 127.0.0.1:<port>` without retries). Reports requests sent,
// failed (the goal is zero) and the worst latency.
import http from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { setupPocketdHost, type PocketdHost } from '../test/support/host.js';
import { buildZip } from '../test/support/zip.js';
import { fmt, percentile } from './stats.js';
import { PB_LATEST, PB_PREV } from '../test/support/pocketbase.js';

const CLIENTS = Number(process.env.BENCH_CLIENTS ?? 10);
const agent = new http.Agent({ keepAlive: true, maxSockets: CLIENTS });

function get(port: number, host: string): Promise<number> {
  return new Promise((resolve) => {
    const req = http.request(
      { host: '127.0.0.1', port, path: '/api/health', headers: { host }, agent, timeout: 30_000 },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      },
    );
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(0));
    req.end();
  });
}

/** Runs `CLIENTS` request loops until `work` ends; returns what they saw. */
async function underLoad(port: number, host: string, work: () => Promise<void>) {
  let done = false;
  const lat: number[] = [];
  let failed = 0;
  const loops = Array.from({ length: CLIENTS }, async () => {
    while (!done) {
      const t0 = performance.now();
      const status = await get(port, host);
      lat.push(performance.now() - t0);
      if (status !== 200) failed++;
    }
  });
  await sleep(500);
  const t0 = performance.now();
  await work();
  const ms = performance.now() - t0;
  await sleep(500);
  done = true;
  await Promise.all(loops);
  return { sent: lat.length, failed, worst: lat.reduce((a, b) => Math.max(a, b), 0), p99: percentile(lat, 99), ms };
}

const report = (what: string, r: Awaited<ReturnType<typeof underLoad>>) =>
  console.log(
    `${what.padEnd(44)} sent ${String(r.sent).padStart(6)}, failed ${String(r.failed).padStart(4)}, worst ${fmt(r.worst)}, p99 ${fmt(r.p99)} (change took ${fmt(r.ms)})`,
  );

async function deployment(h: PocketdHost, path: string, body: unknown) {
  const r = await h.api('POST', path, body);
  const d = await h.waitDeployment(r.body.deployment_id);
  if (d.status !== 'success') throw new Error(`${path}: ${d.status} ${d.error}`);
}

const h = await setupPocketdHost();
try {
  const r = await h.api('POST', '/api/apps', {
    name: 'steady',
    domains: ['steady.test'],
    pocketbase_version: PB_PREV,
  });
  if ((await h.waitDeployment(r.body.deployment_id)).status !== 'success') throw new Error('create failed');
  const appPort = r.body.port as number;
  const caddy = h.sbx.caddy.httpPort;
  await h.api('GET', '/api/releases');
  await h.sbx.run(['/usr/local/bin/pocketd', 'token', 'create', '--name', 'warm', '--scope', 'admin']);

  report(
    `pocketd upgrade ${PB_PREV} -> ${PB_LATEST} (${CLIENTS} clients)`,
    await underLoad(caddy, 'steady.test', () => deployment(h, '/api/apps/steady/upgrade', { version: PB_LATEST })),
  );
  const form = new FormData();
  form.set(
    'file',
    new Blob([new Uint8Array(buildZip([{ name: 'pb_public/index.html', data: '<h1>v1</h1>' }]))]),
    'b.zip',
  );
  const up = await fetch(`${h.url}/api/apps/steady/bundles`, {
    method: 'POST',
    headers: { authorization: `Bearer ${h.token}` },
    body: form,
  }).then((x) => x.json() as Promise<any>);
  report(
    'pocketd bundle deploy',
    await underLoad(caddy, 'steady.test', () => deployment(h, '/api/apps/steady/deploy', { bundle: up.number })),
  );

  // Baseline: a hand-written site and a hand-run stop, replace, start of the same app.
  await h.sbx.writeFile(
    '/etc/caddy/pocketd/zz-plain.caddy',
    `http://plain.test {\n\treverse_proxy 127.0.0.1:${appPort}\n}\n`,
  );
  await h.sbx.run(['systemctl', 'reload', 'caddy']);
  const unit = '/etc/systemd/system/pb-steady.service';
  report(
    'baseline stop, replace binary, start',
    await underLoad(caddy, 'plain.test', async () => {
      await h.sbx.run(['systemctl', 'stop', 'pb-steady.service']);
      // Back within the 0.23+ line, which PocketBase reads both ways.
      await h.sbx.run(['sed', '-i', `s#releases/${PB_LATEST}#releases/${PB_PREV}#g`, unit]);
      await h.sbx.run(['systemctl', 'daemon-reload']);
      await h.sbx.run(['systemctl', 'start', 'pb-steady.service']);
      for (
        let i = 0;
        i < 200 &&
        (await fetch(`http://127.0.0.1:${appPort}/api/health`).then(
          (x) => x.status,
          () => 0,
        )) !== 200;
        i++
      )
        await sleep(50);
    }),
  );
} finally {
  agent.destroy();
  await h.stop();
}
