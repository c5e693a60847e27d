// The root helper's cost per call, as the daemon's user in the sandbox, on the
// resident helper's socket (an app's start, stop and restart) and through sudo
// (every verb), against a baseline in the same run: one raw `systemctl is-active`
// process. Also create -> healthy with the release cached (the privilege
// boundary's budget: at most 1.5 s).
import { setupPocketdHost } from '../test/support/host.js';
import { fmt, percentile, timeCreates } from './stats.js';

const RUNS = Number(process.env.BENCH_RUNS ?? 30);
const h = await setupPocketdHost();
try {
  const first = await h.api('POST', '/api/apps', { name: 'seed', domains: ['seed.test'] });
  if ((await h.waitDeployment(first.body.deployment_id)).status !== 'success') throw new Error('seed failed');
  // One node process inside the sandbox times every call, so the figures are the calls, not nsenter.
  // The cases take turns (one run of each, then the next round), so a change in the machine's load
  // weighs on every figure alike and the ratios hold.
  const script = `const { spawnSync } = require('node:child_process');
    const net = require('node:net');
    const H = ['sudo', '-n', '/usr/local/lib/pocketd/pocketd-helper'];
    // The daemon's own way to the resident helper (src/host/helper-socket.ts): one connection, one line each way.
    const ask = (line) => new Promise((res, rej) => { const s = net.connect('/run/pocketd-helper.sock'); let b = '';
      s.on('connect', () => s.end(line)); s.on('data', (d) => (b += d)); s.on('error', rej);
      s.on('end', () => { const a = JSON.parse(b); a.code === 0 ? res() : rej(new Error(a.stderr)); }); });
    const cases = {
      baseline: [['systemctl', 'is-active', 'pb-seed.service']],
      nodeFloor: [['node', '-e', '0']],
      socketStart: '{"verb":"start","name":"seed"}\\n',
      sudoNoop: [[...H, 'start', 'seed']],
      installEnv: [[...H, 'install-env', 'seed'], JSON.stringify({ env: { A: '1' } })],
      installUnit: [[...H, 'install-unit', 'seed'], process.argv[1]],
      installUnitChanged: [[...H, 'install-unit', 'seed'], (i) => JSON.stringify({ ...JSON.parse(process.argv[1]), memory_max: i % 2 ? '512M' : '256M' })],
    };
    const out = Object.fromEntries(Object.keys(cases).map((k) => [k, []]));
    (async () => {
    await ask(cases.socketStart); // the resident helper's first start (node's) is not what a call costs
    for (let i = 0; i < ${RUNS}; i++) for (const [k, c] of Object.entries(cases)) { const t0 = performance.now();
      if (typeof c === 'string') await ask(c);
      else { const [argv, input] = c;
        const r = spawnSync(argv[0], argv.slice(1), { input: typeof input === 'function' ? input(i) : input ?? '' }); if (r.status !== 0) throw new Error(argv.join(' ') + ': ' + r.stderr); }
      out[k].push(performance.now() - t0); }
    console.log(JSON.stringify(out)); })().catch((e) => { console.error(e); process.exit(1); });`;
  // What the startup snapshot saves, in the same run: root runs one verb from the snapshot and from the
  // plain bundle, in turns (the wrapper picks the snapshot; this calls node on each directly).
  const lib = '/usr/local/lib/pocketd';
  const snapScript = `const { spawnSync } = require('node:child_process');
    const cases = { snapshot: ['node', '--snapshot-blob', '${lib}/pocketd-helper.blob', 'caddy-routes'],
      bundle: ['node', '${lib}/pocketd-helper.cjs', 'caddy-routes'], nodeFloor: ['node', '-e', '0'] };
    const out = { snapshot: [], bundle: [], nodeFloor: [] };
    for (let i = 0; i < ${RUNS}; i++) for (const [k, argv] of Object.entries(cases)) { const t0 = performance.now();
      const r = spawnSync(argv[0], argv.slice(1)); if (r.status !== 0) throw new Error(argv.join(' ') + ': ' + r.stderr);
      out[k].push(performance.now() - t0); }
    console.log(JSON.stringify(out));`;
  const app = (await h.api('GET', '/api/apps/seed')).body;
  const unitSpec = JSON.stringify({ port: app.port, version: app.version, memory_max: null, cpu_quota: null });
  const t = JSON.parse(
    await h.sbx.run(['node', '-e', script, unitSpec], { user: 'pocketd', timeoutMs: 300_000 }),
  ) as Record<string, number[]>;
  const base = percentile(t.baseline!, 50);
  console.log(`baseline, one systemctl is-active: p50 ${fmt(base)}`);
  for (const [k, label] of [
    ['socketStart', "helper start on the resident helper's socket, the daemon's way (unit already running)"],
    ['sudoNoop', 'helper start through sudo (unit already running)'],
    ['installEnv', 'helper install-env (spec on stdin)'],
    ['nodeFloor', "node's floor: node -e 0 (not a helper call)"],
    ['installUnit', 'helper install-unit, unit unchanged (render + daemon-reload)'],
    ['installUnitChanged', 'helper install-unit, unit changed (render + daemon-reload)'],
  ] as const) {
    const p50 = percentile(t[k]!, 50);
    console.log(
      `${label}: p50 ${fmt(p50)}, p99 ${fmt(percentile(t[k]!, 99))}, ${(p50 / base).toFixed(1)}x the baseline`,
    );
  }
  const snap = JSON.parse(await h.sbx.run(['node', '-e', snapScript], { timeoutMs: 300_000 })) as Record<
    string,
    number[]
  >;
  const floor = percentile(snap.nodeFloor!, 50);
  console.log(
    `caddy-routes as root, node on the startup snapshot: p50 ${fmt(percentile(snap.snapshot!, 50))}; on the plain bundle: p50 ${fmt(percentile(snap.bundle!, 50))}; node -e 0: p50 ${fmt(floor)} (snapshot ${(percentile(snap.snapshot!, 50) / floor).toFixed(2)}x node's floor, bundle ${(percentile(snap.bundle!, 50) / floor).toFixed(2)}x)`,
  );
  const create = await timeCreates(h, 3);
  console.log(`create -> healthy with the release cached (3 runs): ${create.map(fmt).join(', ')}`);
} finally {
  await h.stop();
}
