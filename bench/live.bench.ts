// How soon a crash reaches /api/events as app.state (systemd tells pocketd over
// D-Bus), against a baseline in the same run: one `systemctl show` process, the
// least a poller spends per look (and a poller looks only every few seconds).
import { setTimeout as sleep } from 'node:timers/promises';
import { readEvents } from '../test/support/events.js';
import { setupPocketdHost } from '../test/support/host.js';
import { fmt, percentile } from './stats.js';

const RUNS = Number(process.env.BENCH_RUNS ?? 10);
const h = await setupPocketdHost({ settings: { systemd_bus: 'unix:path=/run/dbus/system_bus_socket' } });
try {
  const r = await h.api('POST', '/api/apps', { name: 'crashy', domains: ['crashy.test'] });
  if ((await h.waitDeployment(r.body.deployment_id)).status !== 'success') throw new Error('create failed');
  const latencies: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const pid = (await h.api('GET', '/api/apps/crashy')).body.runtime?.main_pid as number;
    const res = await fetch(`${h.url}/api/events?app=crashy`, { headers: { authorization: `Bearer ${h.token}` } });
    let killedAt = 0;
    let seenAt = 0;
    const events = readEvents(
      res,
      (ev) => {
        if (!seenAt && ev.some((e) => e.event === 'app.state' && e.data.data.main_pid !== pid))
          seenAt = performance.now();
        return seenAt > 0;
      },
      10_000,
    );
    await sleep(100);
    killedAt = performance.now();
    await h.sbx.run(['kill', '-9', String(pid)]);
    await events;
    if (!seenAt) throw new Error('no app.state event');
    latencies.push(seenAt - killedAt);
    // Back to running before the next round.
    for (let j = 0; j < 100; j++) {
      const a = (await h.api('GET', '/api/apps/crashy')).body;
      if (a.state === 'running' && a.runtime?.main_pid && a.runtime.main_pid !== pid) break;
      await sleep(100);
    }
  }
  const showScript = `const {execFileSync}=require('child_process');const out=[];
    for(let r=0;r<${RUNS};r++){const t0=performance.now();execFileSync('systemctl',['show','pb-crashy.service','-p','ActiveState,SubState,MainPID']);out.push(performance.now()-t0);}
    console.log(JSON.stringify(out));`;
  const base = JSON.parse(await h.sbx.run(['node', '-e', showScript], { user: 'pocketd' })) as number[];
  console.log(
    `kill -9 -> app.state on /api/events (${RUNS} runs, includes the kill's own nsenter): p50 ${fmt(percentile(latencies, 50))}, worst ${fmt(Math.max(...latencies))}`,
  );
  console.log(`baseline, one systemctl show (${RUNS} runs): p50 ${fmt(percentile(base, 50))}`);
} finally {
  await h.stop();
}
