// Off-host replication (issue #27), measured with real PocketBase, real
// Litestream and a real S3 server (versitygw, started outside the sandbox):
// 1. data lost when the app and its replicator are killed with SIGKILL and the
//    databases deleted, then restored from the replica, beside the sync interval;
// 2. restore to healthy of an app with 100 MB of data, beside a local backup's
//    restore of the same app in the same run;
// 3. CPU and memory of the replica units per app, beside the apps' own;
// 4. a round of the status watch: one helper call for all against one per app.
import { setTimeout as sleep } from 'node:timers/promises';
import { setupPocketdHost } from '../test/support/host.js';
import { startS3 } from '../test/support/replica-servers.js';
import { fmt } from './stats.js';
import { ballast, makeApp, noteIds, replicate, startWriter, timedDeployment, unitStats } from './replica-support.js';
import { statusRounds } from './replica-status-round.js';

const N = Number(process.env.BENCH_REPLICA_APPS ?? 10);
const MB = Number(process.env.BENCH_REPLICA_MB ?? 100);
const WRITE_S = Number(process.env.BENCH_REPLICA_WRITE_S ?? 5);
const only = (process.env.BENCH_REPLICA_PARTS ?? '1,2,3').split(',');

const s3 = await startS3();
const h = await setupPocketdHost({ settings: { replica_check_seconds: '3600' } });
let failed = false;
const part = async (n: string, what: string, fn: () => Promise<void>) => {
  if (!only.includes(n)) return;
  console.log(`-- ${what}`);
  try {
    await fn();
  } catch (err) {
    failed = true;
    console.log(`   FAILED: ${(err as Error).message}`);
  }
};

try {
  await part('1', 'data lost after kill -9 and deleted databases, restored from the replica', async () => {
    const port = await makeApp(h, 'lose');
    const rep = await replicate(h, s3, 'lose');
    const writer = startWriter(port);
    await sleep(WRITE_S * 1000);
    // The disaster: the app's PocketBase and its Litestream get SIGKILL at the same
    // instant (a crashed host takes both), then the app's databases are deleted.
    const pbPid = (await h.api('GET', '/api/apps/lose')).body.runtime.main_pid as number;
    const lsPid = (
      await h.sbx.run(['systemctl', 'show', '-p', 'MainPID', '--value', 'pocketd-replica-lose.service'])
    ).trim();
    await h.sbx.run([
      'sh',
      '-c',
      `kill -9 ${pbPid} ${lsPid}; rm -f /var/lib/pocketd-apps/lose/pb_data/*.db /var/lib/pocketd-apps/lose/pb_data/*.db-wal /var/lib/pocketd-apps/lose/pb_data/*.db-shm`,
    ]);
    await writer.stop();
    const restoreMs = await timedDeployment(h, '/api/apps/lose/restore', {});
    const port2 = (await h.api('GET', '/api/apps/lose')).body.port as number;
    const have = await noteIds(port2);
    const acked = writer.acked;
    const lost = acked.filter((a) => !have.has(a.id));
    const kept = acked.filter((a) => have.has(a.id));
    const lastAck = Math.max(...acked.map((a) => a.at));
    const newestKept = kept.length ? Math.max(...kept.map((a) => a.at)) : NaN;
    const span = lastAck - newestKept;
    console.log(
      `   writes: ${acked.length} acknowledged in ${WRITE_S} s (${(acked.length / WRITE_S).toFixed(1)}/s), ${writer.failed()} refused or cut by the kill`,
    );
    console.log(
      `   lost: ${lost.length} acknowledged records, covering ${fmt(span)} (last acknowledged minus newest restored)` +
        ` | baseline: sync interval ${rep.sync_seconds} s | restore took ${fmt(restoreMs)}`,
    );
    const lostEarly = lost.filter((a) => a.at < newestKept).length;
    if (lostEarly) console.log(`   of which ${lostEarly} older than the newest restored record`);
  });

  await part('2', `restore to healthy, ${MB} MB app: replica restore against local backup restore`, async () => {
    await makeApp(h, 'big');
    const t0 = performance.now();
    await ballast(h, 'big', MB);
    console.log(`   ballast of ${MB} MiB written in ${fmt(performance.now() - t0)}`);
    const size = (await h.sbx.run(['stat', '-c', '%s', '/var/lib/pocketd-apps/big/pb_data/data.db'])).trim();
    const t1 = performance.now();
    await replicate(h, s3, 'big', 30 * 60_000);
    console.log(
      `   first replication (snapshot of ${(Number(size) / 1e6).toFixed(0)} MB) synced in ${fmt(performance.now() - t1)}`,
    );
    await sleep(3000);
    const rep = await timedDeployment(h, '/api/apps/big/restore', {});
    const back = (await h.sbx.run(['stat', '-c', '%s', '/var/lib/pocketd-apps/big/pb_data/data.db'])).trim();
    console.log(`   data.db after the replica restore: ${(Number(back) / 1e6).toFixed(0)} MB`);
    const b = await h.api('POST', '/api/apps/big/backups');
    if (b.status !== 201) throw new Error(`backup: ${b.status} ${JSON.stringify(b.body)}`);
    const loc = await timedDeployment(h, `/api/apps/big/backups/${b.body.id}/restore`);
    console.log(
      `   replica restore (POST /restore -> success): ${fmt(rep)} | baseline local backup restore: ${fmt(loc)} | ratio ${(rep / loc).toFixed(2)}`,
    );
  });

  await part('3', `cost of replication, ${N} apps, over 60 s`, async () => {
    const names = Array.from({ length: N }, (_, i) => `rep${i}`);
    const ports: number[] = [];
    for (const n of names) ports.push(await makeApp(h, n));
    for (const n of names) await replicate(h, s3, n);
    // A light steady load on every app: one write a second each.
    const writers = ports.map((p) => startWriter(p, 1000));
    await sleep(5000);
    const pb = names.map((n) => `pb-${n}.service`);
    const rp = names.map((n) => `pocketd-replica-${n}.service`);
    const a = await unitStats(h, [...pb, ...rp]);
    const t0 = performance.now();
    await sleep(60_000);
    const b = await unitStats(h, [...pb, ...rp]);
    const secs = (performance.now() - t0) / 1000;
    await Promise.all(writers.map((w) => w.stop()));
    const sum = (units: string[]) => {
      let cpu = 0;
      let mem = 0;
      for (const u of units) {
        cpu += (b.get(u)!.cpuNs - a.get(u)!.cpuNs) / 1e9;
        mem += b.get(u)!.mem;
      }
      return { cpu, mem };
    };
    const r = sum(rp);
    const p = sum(pb);
    const acked = writers.reduce((x, w) => x + w.acked.length, 0);
    console.log(`   ${acked} writes acknowledged over the window (1/s per app)`);
    console.log(
      `   replica units: ${r.cpu.toFixed(2)} CPU s in ${secs.toFixed(0)} s summed (${((r.cpu / N / secs) * 100).toFixed(2)}% of a core per app), ` +
        `memory ${(r.mem / N / 2 ** 20).toFixed(1)} MiB per app`,
    );
    console.log(
      `   baseline pb units: ${p.cpu.toFixed(2)} CPU s summed (${((p.cpu / N / secs) * 100).toFixed(2)}% of a core per app), ` +
        `memory ${(p.mem / N / 2 ** 20).toFixed(1)} MiB per app | ratio cpu ${(r.cpu / p.cpu).toFixed(2)}, memory ${(r.mem / p.mem).toFixed(2)}`,
    );
  });
  await part(
    '4',
    `a status round of the watch, ${N} apps: one replica-statuses call against one replica-generations call per app`,
    async () => {
      const names = Array.from({ length: N }, (_, i) => `rep${i}`);
      if (!only.includes('3')) {
        for (const n of names) await makeApp(h, n);
        for (const n of names) await replicate(h, s3, n);
      }
      const r = await statusRounds(h, names, 3);
      console.log(
        `   one call for all: ${fmt(r.batch.ms)} wall, ${r.batch.cpuMs.toFixed(0)} ms CPU of the daemon's side (sudo, helper, systemd-run) | ` +
          `baseline one call per app: ${fmt(r.each.ms)} wall, ${r.each.cpuMs.toFixed(0)} ms CPU | ratio wall ${(r.batch.ms / r.each.ms).toFixed(2)}, CPU ${(r.batch.cpuMs / r.each.cpuMs).toFixed(2)} (best of 3)`,
      );
    },
  );
} finally {
  await h.stop();
  await s3.stop();
}
process.exit(failed ? 1 : 0);
