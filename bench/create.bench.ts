// create -> healthy with real PocketBase, against the by-hand baseline in the same run: what
// PocketBase's docs tell a self-hoster (bench/by-hand-create.sh: useradd, unzip, write a unit, write a
// Caddy block, reload both, wait for health), on an idle host and again with 200 idle apps on it.
import { setupPocketdHost } from '../test/support/host.js';
import { pocketbaseBinary, PB_LATEST } from '../test/support/pocketbase.js';
import { seedStandIns } from './seed.js';
import { fmt, percentile, stepMedians, timeCreates, type StepTimes } from './stats.js';

const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const N = Number(process.env.BENCH_APPS ?? 200);
const h = await setupPocketdHost({
  settings: { port_range: '20000-29999', systemd_bus: 'unix:path=/run/dbus/system_bus_socket' },
});
try {
  // The release is fetched once (both sides start from a release on the host).
  const seed = await h.api('POST', '/api/apps', { name: 'seed', domains: ['seed.test'] });
  if ((await h.waitDeployment(seed.body.deployment_id)).status !== 'success') throw new Error('seed failed');
  // The release zip a self-hoster downloads: the same executable, zipped once inside the sandbox.
  const zip = '/root/pocketbase_linux_amd64.zip';
  await h.sbx.run(['sh', '-c', `cd /root && cp ${pocketbaseBinary(PB_LATEST)} pocketbase && zip -q ${zip} pocketbase`]);
  let port = 29000;
  const byHand = async (tag: string): Promise<number[]> => {
    const out: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      const line = await h.sbx.run(
        ['sh', `${h.sbx.srcDir}/bench/by-hand-create.sh`, `${tag}${i}`, String(port++), zip],
        { timeoutMs: 120_000 },
      );
      out.push(Number(/: (\d+) ms/.exec(line)?.[1]));
      if (i === 0) console.log(`  ${line.trim()}`);
    }
    return out;
  };
  const report = (label: string, ours: number[], hand: number[]) => {
    console.log(`${label}: pocketd p50 ${fmt(percentile(ours, 50))} (${ours.map((x) => x.toFixed(0)).join(', ')})`);
    console.log(`${label}: by hand p50 ${fmt(percentile(hand, 50))} (${hand.map((x) => x.toFixed(0)).join(', ')})`);
    console.log(`${label}: pocketd/by hand ${(percentile(ours, 50) / percentile(hand, 50)).toFixed(2)}x`);
    return percentile(ours, 50);
  };
  // Root calls per create: sudo records each one in the journal, and the resident helper each it answers.
  const rootCalls = async () =>
    (
      await h.sbx.run([
        'sh',
        '-c',
        "echo $(journalctl -q -t sudo -o cat --no-pager | grep -c pocketd-helper) $(journalctl -q -u pocketd-helper.service -o cat --no-pager | grep -c ': done in')",
      ])
    )
      .trim()
      .split(' ')
      .map(Number);
  const callsBefore = await rootCalls();
  const idleSteps: StepTimes[] = [];
  const ours = await timeCreates(h, RUNS, 'idle', idleSteps);
  console.log(`  pocketd idle, median ms per step: ${stepMedians(idleSteps)}`);
  const callsAfter = await rootCalls();
  console.log(
    `root helper calls per create: ${(callsAfter[0]! - callsBefore[0]!) / RUNS} through sudo, ${(callsAfter[1]! - callsBefore[1]!) / RUNS} on the resident helper's socket`,
  );
  const idle = report('idle host', ours, await byHand('idle'));
  await seedStandIns(h, N, 25000);
  const busySteps: StepTimes[] = [];
  const busy = report(`${N} apps`, await timeCreates(h, RUNS, 'busy', busySteps), await byHand('busy'));
  console.log(`  pocketd with ${N} apps, median ms per step: ${stepMedians(busySteps)}`);
  console.log(`create -> healthy with ${N} apps / idle (pocketd): ${(busy / idle).toFixed(2)}x`);
} finally {
  await h.stop();
}
