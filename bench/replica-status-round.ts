// Part 4 of bench/replica.bench.ts: the status watch's round as the daemon's
// user makes it, through sudo and the root helper, timed by one node process
// inside the sandbox: one `replica-statuses` call for every app (now) against
// one `replica-generations` call per app (before), with the CPU of those
// processes and their children (sudo, the helper, systemd-run's client; the
// Litestream listing itself runs in a transient unit, the same in both).
import type { PocketdHost } from '../test/support/host.js';

export async function statusRounds(h: PocketdHost, names: string[], runs: number) {
  const script = `const { spawnSync } = require('node:child_process');
    const { readFileSync } = require('node:fs');
    const H = ['sudo', '-n', '/usr/local/lib/pocketd/pocketd-helper'];
    const names = JSON.parse(process.argv[1]);
    const childCpuMs = () => { const f = readFileSync('/proc/self/stat', 'utf8').split(') ')[1].split(' '); return (Number(f[13]) + Number(f[14])) * 10; };
    const call = (argv, input) => { const r = spawnSync(argv[0], argv.slice(1), { input: input ?? '', maxBuffer: 64 << 20 });
      if (r.status !== 0) throw new Error(argv.join(' ') + ': ' + r.stderr); return String(r.stdout); };
    const timed = (fn) => { const c0 = childCpuMs(); const t0 = performance.now(); fn(); return { ms: performance.now() - t0, cpuMs: childCpuMs() - c0 }; };
    const best = (xs) => xs.sort((a, b) => a.ms - b.ms)[0];
    const each = [], batch = [];
    for (let i = 0; i < ${runs}; i++) {
      each.push(timed(() => { for (const n of names) call([...H, 'replica-generations', n]); }));
      batch.push(timed(() => {
        const out = JSON.parse(call([...H, 'replica-statuses'], JSON.stringify({ names })));
        if (out.length !== names.length || out.some((r) => r.generations === null)) throw new Error('statuses: ' + JSON.stringify(out).slice(0, 2000));
      }));
    }
    console.log(JSON.stringify({ each: best(each), batch: best(batch) }));`;
  return JSON.parse(
    await h.sbx.run(['node', '-e', script, JSON.stringify(names)], { user: 'pocketd', timeoutMs: 60 * 60_000 }),
  ) as { each: { ms: number; cpuMs: number }; batch: { ms: number; cpuMs: number } };
}
