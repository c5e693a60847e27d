// GET /api/apps with 200 apps in the sandbox, against a baseline in the same run
// that reads the same state the way existing orchestrators do: one
// `systemctl show` per unit. Units are minimal stand-ins (sleep) so 200 fit on
// 2 cores; the app rows are written straight into pocketd's store. Also times
// create -> healthy with the release already cached.
import { setTimeout as sleep } from 'node:timers/promises';
import { setupPocketdHost } from '../test/support/host.js';
import { fmt, percentile, timeCreates } from './stats.js';

const N = Number(process.env.BENCH_APPS ?? 200);
const RUNS = Number(process.env.BENCH_RUNS ?? 30);
const h = await setupPocketdHost({ settings: { port_range: '20000-29999' } });
try {
  const names = Array.from({ length: N }, (_, i) => `b${String(i).padStart(3, '0')}`);
  for (const n of names) {
    await h.sbx.writeFile(`/etc/systemd/system/pb-${n}.service`, `[Service]\nUser=pocketbase\nExecStart=/bin/sleep infinity\n`);
  }
  await h.sbx.run(['systemctl', 'daemon-reload']);
  await h.sbx.run(['systemctl', 'start', ...names.map((n) => `pb-${n}.service`)], { timeoutMs: 120_000 });
  await h.sbx.run(['systemctl', 'stop', 'pocketd.service']);
  const insert = `const D=require('${h.sbx.srcDir}/node_modules/better-sqlite3');const db=new D('/var/lib/pocketd/pocketd.db');
    const now=new Date().toISOString();const st=db.prepare("insert into apps (name,port,version,env,status,desired_state,created_at,updated_at) values (?,?,?,'{}','ready','running',?,?)");
    db.transaction(()=>{${JSON.stringify(names)}.forEach((n,i)=>st.run(n,20000+i,'0.23.1',now,now))})();`;
  await h.sbx.run(['node', '-e', insert], { user: 'pocketd' });
  await h.sbx.run(['systemctl', 'start', 'pocketd.service']);
  for (let i = 0; i < 100 && !(await fetch(`${h.url}/api/health`).then((r) => r.ok, () => false)); i++) await sleep(100);

  const times: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const t0 = performance.now();
    const r = await h.api('GET', '/api/apps?limit=500');
    times.push(performance.now() - t0);
    if (r.body.total !== N || r.body.apps.some((a: any) => a.state !== 'running')) throw new Error(`unexpected list: total ${r.body.total}`);
  }
  // Baseline: one `systemctl show` per unit, run as the daemon's user inside the sandbox.
  const baselineScript = `const {execFileSync}=require('child_process');const names=${JSON.stringify(names)};const out=[];
    for(let r=0;r<5;r++){const t0=performance.now();for(const n of names){execFileSync('systemctl',['show','pb-'+n+'.service','-p','Id,ActiveState,SubState,MainPID,MemoryCurrent,CPUUsageNSec,NRestarts,ActiveEnterTimestamp']);}out.push(performance.now()-t0);}
    console.log(JSON.stringify(out));`;
  const base = JSON.parse(await h.sbx.run(['node', '-e', baselineScript], { user: 'pocketd', timeoutMs: 300_000 })) as number[];
  const p50 = percentile(times, 50);
  console.log(`${N} apps, ${RUNS} runs of GET /api/apps: p50 ${fmt(p50)}, p99 ${fmt(percentile(times, 99))}`);
  console.log(`baseline, one systemctl show per unit (5 runs): p50 ${fmt(percentile(base, 50))}, p99 ${fmt(percentile(base, 99))}`);
  console.log(`ratio baseline/pocketd at p50: ${(percentile(base, 50) / p50).toFixed(1)}x`);

  const create = await timeCreates(h, 3);
  console.log(`create -> healthy with the release cached (3 runs): ${create.map(fmt).join(', ')}`);
} finally {
  await h.stop();
}
