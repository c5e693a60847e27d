// Helpers of bench/replica.bench.ts: a target on the harness's S3 server, a
// writer of about 50 records a second, the records an app holds, and the
// cgroup figures of units.
import { setTimeout as sleep } from 'node:timers/promises';
import type { PocketdHost } from '../test/support/host.js';
import { s3TargetOf, type S3Server } from '../test/support/replica-servers.js';
import { appCode } from '../test/support/app-code.js';
import { PB_LATEST } from '../test/support/pocketbase.js';
import { seedApp } from '../test/support/pb-app.js';

export const s3Target = (s3: S3Server) => s3TargetOf(s3, 'bench');

export const dbOf = (app: string) => `/var/lib/pocketd-apps/${app}/pb_data/data.db`;

/** Creates an app on PB_LATEST with the notes collection; returns its port. */
export async function makeApp(h: PocketdHost, name: string): Promise<number> {
  const r = await h.api('POST', '/api/apps', { name, pocketbase_version: PB_LATEST });
  if (r.status !== 202) throw new Error(`create ${name}: ${JSON.stringify(r.body)}`);
  const d = await h.waitDeployment(r.body.deployment_id, 180_000);
  if (d.status !== 'success') throw new Error(`create ${name}: ${d.status} ${d.error}`);
  await seedApp(h, name);
  return (await h.api('GET', `/api/apps/${name}`)).body.port as number;
}

/** Sets the app's replica and waits until the target holds a generation without error. */
export async function replicate(h: PocketdHost, s3: S3Server, name: string, timeoutMs = 120_000) {
  const put = await h.api('PUT', `/api/apps/${name}/replica`, { target: s3Target(s3) });
  if (put.status !== 200) throw new Error(`replica of ${name}: ${JSON.stringify(put.body)}`);
  const end = Date.now() + timeoutMs;
  for (;;) {
    const c = (await h.api('POST', `/api/apps/${name}/replica/check`)).body;
    if (c.status?.generation && c.status.error === null) return c;
    if (Date.now() > end) throw new Error(`replica of ${name} never synced: ${JSON.stringify(c)}`);
    await sleep(1000);
  }
}

/** Writes a note every 20 ms (at most 16 in flight); each acknowledged one with its id and time. */
export function startWriter(port: number, periodMs = 20) {
  const acked: Array<{ id: string; at: number }> = [];
  let failed = 0;
  let n = 0;
  let inflight = 0;
  let stopped = false;
  const startedAt = Date.now();
  const write = async () => {
    inflight++;
    try {
      const r = await fetch(`http://127.0.0.1:${port}/api/collections/notes/records`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ text: `w-${n++}` }),
        signal: AbortSignal.timeout(10_000),
      });
      const body = (await r.json()) as { id?: string };
      if (r.ok && body.id) acked.push({ id: body.id, at: Date.now() });
      else failed++;
    } catch {
      failed++;
    } finally {
      inflight--;
    }
  };
  const timer = setInterval(() => {
    if (!stopped && inflight < 16) void write();
  }, periodMs);
  return {
    acked,
    failed: () => failed,
    rate: () => acked.length / ((Date.now() - startedAt) / 1000),
    async stop() {
      stopped = true;
      clearInterval(timer);
      while (inflight > 0) await sleep(10);
    },
  };
}

/** Every note id the app answers, page by page. */
export async function noteIds(port: number): Promise<Set<string>> {
  const ids = new Set<string>();
  for (let page = 1; ; page++) {
    const r = await fetch(
      `http://127.0.0.1:${port}/api/collections/notes/records?perPage=500&page=${page}&fields=id&skipTotal=1`,
    );
    if (!r.ok) throw new Error(`listing notes: ${r.status} ${await r.text()}`);
    const items = ((await r.json()) as { items: Array<{ id: string }> }).items;
    for (const i of items) ids.add(i.id);
    if (items.length < 500) return ids;
  }
}

/** Writes `mb` MiB of random blobs into the app's data.db, as the app's own code could. */
export async function ballast(h: PocketdHost, app: string, mb: number) {
  const r = await appCode(
    h.sbx,
    app,
    `sqlite3 -init /dev/null -bail -batch -cmd '.timeout 10000' ${dbOf(app)} "CREATE TABLE IF NOT EXISTS bench_ballast(b BLOB);
     WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i+1 FROM s WHERE i<${mb})
     INSERT INTO bench_ballast SELECT randomblob(1048576) FROM s;"`,
    { timeoutMs: 30 * 60_000 },
  );
  if (r.code !== 0) throw new Error(`ballast: ${r.stderr}`);
}

/**
 * CPU nanoseconds and memory bytes of each unit: MemoryCurrent from its cgroup
 * (systemctl show); CPU from its main process's utime+stime (/proc/PID/stat,
 * 100 ticks a second), because the sandbox's systemd leaves CPUUsageNSec unset
 * and its cgroup tree is not under /sys/fs/cgroup there. Both units are one
 * process each (PocketBase; Litestream).
 */
export async function unitStats(h: PocketdHost, units: string[]) {
  const out = await h.sbx.run(['systemctl', 'show', '-p', 'Id,MemoryCurrent,MainPID', ...units]);
  const stats = new Map<string, { cpuNs: number; mem: number }>();
  for (const block of out.split('\n\n')) {
    const p = Object.fromEntries(
      block
        .split('\n')
        .filter((l) => l.includes('='))
        .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
    );
    if (!p.Id) continue;
    const stat = Number(p.MainPID) > 0 ? await h.sbx.run(['cat', `/proc/${p.MainPID}/stat`]) : '';
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = (Number(f[11]) || 0) + (Number(f[12]) || 0);
    stats.set(p.Id, { cpuNs: ticks * 1e7, mem: Number(p.MemoryCurrent) || 0 });
  }
  return stats;
}

/** Times a queued deployment from its POST to its success. */
export async function timedDeployment(h: PocketdHost, path: string, body?: unknown): Promise<number> {
  const t0 = performance.now();
  const r = await h.api('POST', path, body);
  if (r.status !== 202) throw new Error(`${path}: ${r.status} ${JSON.stringify(r.body)}`);
  const d = await h.waitDeployment(r.body.deployment_id, 30 * 60_000);
  const ms = performance.now() - t0;
  if (d.status !== 'success') throw new Error(`${path}: ${d.status} ${d.error}`);
  return ms;
}
