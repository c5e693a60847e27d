// GET /api/apps with 200 apps in the sandbox, against a baseline in the same run
// that reads the same state the way existing orchestrators do: one
// `systemctl show` per unit. Units are minimal stand-ins (sleep) so 200 fit on
// 2 cores; the app rows are written straight into pocketd's store. Also times
// create -> healthy with the release already cached.
import { setupPocketdHost } from '../test/support/host.js';
import { fmt, percentile, timeCreates } from './stats.js';
import { scheduleStandIns, seedStandIns } from './seed.js';

const N = Number(process.env.BENCH_APPS ?? 200);
const RUNS = Number(process.env.BENCH_RUNS ?? 30);
// Unit state from systemd's D-Bus signals (opt-in, see issue #16), against systemctl baselines.
const h = await setupPocketdHost({
  settings: { port_range: '20000-29999', systemd_bus: 'unix:path=/run/dbus/system_bus_socket' },
});
try {
  const names = await seedStandIns(h, N);

  const metric = async (name: string) =>
    Number(
      ((await h.api('GET', '/metrics')).body as string)
        .split('\n')
        .find((l) => l.startsWith(`${name} `))
        ?.split(' ')[1],
    );
  const spawnedBefore = await metric('pocketd_child_processes_total');
  const times: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const t0 = performance.now();
    const r = await h.api('GET', '/api/apps?limit=500');
    times.push(performance.now() - t0);
    if (r.body.total !== N || r.body.apps.some((a: any) => a.state !== 'running'))
      throw new Error(`unexpected list: total ${r.body.total}`);
  }
  // Baseline: one `systemctl show` per unit, run as the daemon's user inside the sandbox.
  const baselineScript = `const {execFileSync}=require('child_process');const names=${JSON.stringify(names)};const out=[];
    for(let r=0;r<5;r++){const t0=performance.now();for(const n of names){execFileSync('systemctl',['show','pb-'+n+'.service','-p','Id,ActiveState,SubState,MainPID,MemoryCurrent,CPUUsageNSec,NRestarts,ActiveEnterTimestamp']);}out.push(performance.now()-t0);}
    console.log(JSON.stringify(out));`;
  const base = JSON.parse(
    await h.sbx.run(['node', '-e', baselineScript], { user: 'pocketd', timeoutMs: 300_000 }),
  ) as number[];
  console.log(
    (await h.sbx.run(['sh', '-c', 'journalctl -u pocketd -o cat --no-pager | grep -i "d-bus" | tail -2'])).trim(),
  );
  console.log(
    `unit state from ${(await metric('pocketd_systemd_events')) === 1 ? 'D-Bus signals' : 'systemctl'}; child processes started by the ${RUNS} lists: ${(await metric('pocketd_child_processes_total')) - spawnedBefore}`,
  );
  // The figure to beat: one `systemctl list-units` process for all units (what a poller would run).
  const listScript = `const {execFileSync}=require('child_process');const out=[];
    for(let r=0;r<${RUNS};r++){const t0=performance.now();execFileSync('systemctl',['list-units','pb-*','--all','-o','json']);out.push(performance.now()-t0);}
    console.log(JSON.stringify(out));`;
  const oneProcess = JSON.parse(
    await h.sbx.run(['node', '-e', listScript], { user: 'pocketd', timeoutMs: 300_000 }),
  ) as number[];
  const rss = await h.daemonRssMiB();
  // What one daemon-reload (every create and configure runs one) costs the daemon and systemd in CPU, in the
  // reload and the 2 s after it (the signals and reads it sets off), against the reload's own wall time.
  const pid = (await h.sbx.run(['systemctl', 'show', '-p', 'MainPID', '--value', 'pocketd.service'])).trim();
  const cpuMs = async (p: string) => {
    const f = (await h.sbx.readFile(`/proc/${p}/stat`)).split(') ')[1]!.split(' ');
    return (Number(f[11]) + Number(f[12])) * (1000 / 100);
  };
  for (let i = 0; i < 3; i++) {
    const [d0, s0] = [await cpuMs(pid), await cpuMs('1')];
    const t0 = performance.now();
    await h.sbx.run(['systemctl', 'daemon-reload']);
    const wall = performance.now() - t0;
    await new Promise((ok) => setTimeout(ok, 2000));
    console.log(
      `one daemon-reload with ${N} apps: ${fmt(wall)} (from outside the sandbox); CPU in it and the 2 s after: daemon ${(await cpuMs(pid)) - d0} ms, systemd ${(await cpuMs('1')) - s0} ms`,
    );
  }
  const p50 = percentile(times, 50);
  console.log(`${N} apps, ${RUNS} runs of GET /api/apps: p50 ${fmt(p50)}, p99 ${fmt(percentile(times, 99))}`);
  console.log(
    `baseline, one systemctl show per unit (5 runs): p50 ${fmt(percentile(base, 50))}, p99 ${fmt(percentile(base, 99))}`,
  );
  console.log(`ratio baseline/pocketd at p50: ${(percentile(base, 50) / p50).toFixed(1)}x`);
  console.log(
    `one systemctl list-units 'pb-*' process (${RUNS} runs): p50 ${fmt(percentile(oneProcess, 50))}; pocketd/that: ${(p50 / percentile(oneProcess, 50)).toFixed(2)}x`,
  );
  console.log(`daemon RSS with ${N} idle apps listed: ${rss.toFixed(1)} MiB`);
  // The same apps with a backup schedule each (none have one by default): node-cron works out each next run
  // through Intl, which maps ICU's time-zone and locale data into the daemon.
  await scheduleStandIns(h, names);
  for (let i = 0; i < RUNS; i++) await h.api('GET', '/api/apps?limit=500');
  await new Promise((ok) => setTimeout(ok, 3000));
  console.log(
    `daemon RSS with ${N} idle apps listed, each with a backup schedule: ${(await h.daemonRssMiB()).toFixed(1)} MiB`,
  );

  const create = await timeCreates(h, 3);
  console.log(`create -> healthy with the release cached (3 runs): ${create.map(fmt).join(', ')}`);
} finally {
  await h.stop();
}
