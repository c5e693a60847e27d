import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { setupPocketdHost, type PocketdHost } from '../support/host.js';
import { notesOf, runningVersion, seedApp } from '../support/pb-app.js';
import { PB_LATEST, PB_OLD } from '../support/pocketbase.js';

/**
 * Issue #26: an upgrade boots the new release on a throwaway copy of the app
 * (its data, hooks and migrations, in the app's own sandbox, on a port of
 * root's range) before it touches the live app. Real PocketBase on both sides.
 */

let h: PocketdHost;
before(async () => {
  h = await setupPocketdHost();
});
after(async () => {
  await h?.stop();
});

/** An app on PocketBase 0.22 with the test hooks, the notes collection and one note. */
async function oldApp(
  name: string,
  limits: { memory_max?: string; cpu_quota?: number } = {},
): Promise<{ port: number; notes: ReturnType<typeof notesOf> }> {
  const r = await h.api('POST', '/api/apps', {
    name,
    domains: [`${name}.test`],
    pocketbase_version: PB_OLD,
    ...limits,
  });
  assert.equal(r.status, 202, JSON.stringify(r.body));
  assert.equal((await h.waitDeployment(r.body.deployment_id)).status, 'success');
  await seedApp(h, name);
  const notes = notesOf(r.body.port as number);
  await notes.add(`kept by ${name}`);
  return { port: r.body.port as number, notes };
}

async function upgrade(name: string, version: string) {
  const r = await h.api('POST', `/api/apps/${name}/upgrade`, { version, allow_downgrade: true });
  assert.equal(r.status, 202, JSON.stringify(r.body));
  return h.waitDeployment(r.body.deployment_id, 10 * 60_000);
}

const step = (d: any, name: string) => d.steps.find((s: any) => s.name === name);
const mainPid = async (name: string) =>
  Number((await h.sbx.run(['systemctl', 'show', '-p', 'MainPID', '--value', `pb-${name}.service`])).trim());
/** What is left in the app's directory besides its own four directories. */
const leftovers = async (name: string) =>
  (await h.sbx.run(['ls', '-A', `/var/lib/pocketd-apps/${name}`])).split('\n').filter((f) => f.startsWith('.trial'));

test('an upgrade 0.22 -> 0.40 boots the new release on a copy first; healthy, it switches; the record is kept', async (t) => {
  // With limits: the trial runs within the app's CPU quota and its memory (plus the helper's margin).
  const { notes } = await oldApp('tri', { memory_max: '256M', cpu_quota: 100 });
  const pidBefore = await mainPid('tri');
  const d = await upgrade('tri', PB_LATEST);
  assert.equal(d.status, 'success', JSON.stringify(d));
  const names = d.steps.map((s: any) => s.name);
  // The trial runs before anything of the live app changes.
  assert.ok(names.indexOf('trial') >= 0 && names.indexOf('trial') < names.indexOf('stop'), names.join());
  const trial = step(d, 'trial');
  assert.equal(trial.status, 'success');
  t.diagnostic(`trial: ${trial.message}`);
  assert.match(
    trial.message,
    new RegExp(`PocketBase ${PB_LATEST.replace(/\./g, '\\.')} healthy on a copy of \\d+ bytes`),
  );
  assert.match(trial.message, new RegExp(`MemoryMax=${(256 + 128) * 1024}K, CPUQuota=100%\\)$`));
  // The trial's port is one of root's range and not the app's own.
  const trialPort = Number(/port (\d+)/.exec(trial.message)![1]);
  assert.ok(trialPort >= 21000 && trialPort <= 21999, trial.message);
  assert.notEqual(trialPort, (await h.api('GET', '/api/apps/tri')).body.port);
  // Only the trial's end lets the live app stop.
  assert.ok(Date.parse(trial.finished_at) <= Date.parse(step(d, 'stop').started_at));
  assert.equal(await runningVersion(h, 'tri'), PB_LATEST);
  assert.notEqual(await mainPid('tri'), pidBefore);
  // PocketBase 0.40 migrated the data written under 0.22: the note is there.
  assert.deepEqual(await notes.list(), ['kept by tri']);
  assert.deepEqual(await leftovers('tri'), [], 'the copy is removed');
});

// Fatal only in the 0.23+ family (the migrations API takes an `app` with save() there): 0.22 would skip it.
const REFUSING_MIGRATION = `migrate((x) => {
  if (typeof x.save === 'function') throw new Error('pocketd-trial-test: this migration refuses PocketBase 0.23+');
}, () => {});
`;

test("another app's code cannot reach a trial's copy: while the trial runs its port is the app's in the firewall table, and after it is gone", async (t) => {
  const { port } = await oldApp('fwa');
  const other = await h.api('POST', '/api/apps', { name: 'fwb', domains: ['fwb.test'] });
  assert.equal((await h.waitDeployment(other.body.deployment_id)).status, 'success');
  const tablePorts = (text: string) =>
    [...text.matchAll(/dport (?:\{ ([0-9, ]+) \}|(\d+))/g)].flatMap((m) =>
      (m[1] ?? m[2]!).split(',').map((x) => Number(x.trim())),
    );
  // Every app's ports in the table before the upgrade (this file's earlier apps too): any other is the trial's.
  const known = tablePorts(await h.sbx.run(['nft', 'list', 'table', 'inet', 'pocketd_apps']));
  assert.ok(known.includes(port) && known.includes(other.body.port as number), known.join(','));
  const uid = Number((await h.sbx.run(['id', '-u', 'pb-fwa'])).trim());
  // Root watches the table while the upgrade runs; a rule for a port no app holds is the trial's. Once root can
  // connect to it (the copy listens), the other app's user tries too.
  const watch = `const { spawnSync } = require('node:child_process'); const fs = require('node:fs'); const net = require('node:net');
    const known = new Set(${JSON.stringify(known)}); const out = { rules: [], probes: [] }; const t0 = Date.now();
    const rootCan = (p) => new Promise((r) => { const c = net.connect(p, '127.0.0.1'); c.on('connect', () => { c.destroy(); r(true); }); c.on('error', () => r(false)); });
    (async () => { while (!fs.existsSync('/root/stop-watch') && Date.now() - t0 < 300000) {
      const table = spawnSync('nft', ['list', 'table', 'inet', 'pocketd_apps']).stdout.toString();
      for (const line of table.split('\\n')) { const m = /dport (?:\\{ ([0-9, ]+) \\}|(\\d+))/.exec(line); if (!m) continue;
        const ports = (m[1] ?? m[2]).split(',').map((x) => Number(x.trim()));
        const trial = ports.find((p) => !known.has(p));
        if (trial === undefined) continue;
        if (!out.rules.includes(line.trim())) out.rules.push(line.trim());
        if (out.probes.length < 3 && (await rootCan(trial))) {
          const r = spawnSync('runuser', ['-u', 'pb-fwb', '--', 'bash', '-c', 'exec 3<>/dev/tcp/127.0.0.1/' + trial], { timeout: 5000 });
          out.probes.push(r.status); } }
      await new Promise((r) => setTimeout(r, 15)); }
    console.log(JSON.stringify(out)); })();`;
  await h.sbx.run(['rm', '-f', '/root/stop-watch']);
  const watching = h.sbx.run(['node', '-e', watch], { timeoutMs: 320_000 });
  try {
    const d = await upgrade('fwa', PB_LATEST);
    assert.equal(d.status, 'success', JSON.stringify(d));
  } finally {
    await h.sbx.run(['touch', '/root/stop-watch']);
  }
  const seen = JSON.parse((await watching).trim().split('\n').pop()!) as { rules: string[]; probes: number[] };
  assert.ok(seen.rules.length > 0, 'the trial port was never in the table');
  for (const rule of seen.rules)
    assert.match(rule, new RegExp(`meta skuid != ${uid} meta skuid \\d+-\\d+ ct state new reject`));
  t.diagnostic(`the other app tried the listening copy ${seen.probes.length} time(s): exit ${seen.probes.join(', ')}`);
  // Each time the copy listened and the other app's user tried, it was refused.
  assert.ok(
    seen.probes.every((code) => code !== 0),
    JSON.stringify(seen.probes),
  );
  const trialPorts = seen.rules.flatMap((r) => tablePorts(r)).filter((p) => !known.includes(p));
  const after = await h.sbx.run(['nft', 'list', 'table', 'inet', 'pocketd_apps']);
  assert.deepEqual(
    tablePorts(after).filter((p) => trialPorts.includes(p)),
    [],
    after,
  );
});

test('a failed trial leaves the live app untouched (never stopped); the error names the trial and what the new release printed', async (t) => {
  const { notes } = await oldApp('stay');
  const user = (await h.sbx.run(['stat', '-c', '%U', '/var/lib/pocketd-apps/stay'])).trim();
  // The owner adds a migration the running 0.22 has no reason to read (migrations run at start only).
  await h.sbx.run(['sh', '-c', 'cat > "$0"', '/var/lib/pocketd-apps/stay/pb_migrations/1800000000_refuse.js'], {
    user,
    input: REFUSING_MIGRATION,
  });
  const pidBefore = await mainPid('stay');
  assert.ok(pidBefore > 0);
  const restartsBefore = (
    await h.sbx.run(['systemctl', 'show', '-p', 'NRestarts', '--value', 'pb-stay.service'])
  ).trim();

  const d = await upgrade('stay', PB_LATEST);
  assert.equal(d.status, 'failed', JSON.stringify(d));
  assert.equal(step(d, 'trial').status, 'failed');
  for (const s of ['stop', 'snapshot', 'install_release', 'start', 'wait_health'])
    assert.equal(step(d, s).status, 'skipped', s);
  t.diagnostic(`deployment error: ${d.error}`);
  assert.match(d.error, /step trial failed/);
  assert.match(d.error, new RegExp(`trial of PocketBase ${PB_LATEST.replace(/\./g, '\\.')} on a copy of stay failed`));
  // What the new release printed, its own words: the migration's error.
  assert.match(d.error, /the new release printed: .*pocketd-trial-test: this migration refuses PocketBase 0\.23\+/);

  // The live app never stopped: the same process, no restart, the old release, the data as it was.
  assert.equal(await mainPid('stay'), pidBefore);
  assert.equal(
    (await h.sbx.run(['systemctl', 'show', '-p', 'NRestarts', '--value', 'pb-stay.service'])).trim(),
    restartsBefore,
  );
  assert.equal((await h.sbx.run(['systemctl', 'is-active', 'pb-stay.service'])).trim(), 'active');
  assert.equal(await runningVersion(h, 'stay'), PB_OLD);
  assert.equal((await h.api('GET', '/api/apps/stay')).body.version, PB_OLD);
  assert.deepEqual(await notes.list(), ['kept by stay']);
  assert.equal((await h.viaCaddy('stay.test')).status, 200);
  assert.deepEqual(await leftovers('stay'), [], 'the copy is removed');
  // No snapshot was taken: nothing was changed.
  const backups = (await h.api('GET', '/api/apps/stay/backups')).body;
  assert.equal(backups.backups.length, 0, JSON.stringify(backups));

  // Without the trial (asked for explicitly), the same upgrade reaches the live gate and rolls back there.
  const r = await h.api('POST', '/api/apps/stay/upgrade', { version: PB_LATEST, trial: false });
  const live = await h.waitDeployment(r.body.deployment_id, 10 * 60_000);
  assert.equal(step(live, 'trial').status, 'skipped');
  assert.equal(live.status, 'rolled_back', JSON.stringify(live));
  assert.notEqual(await mainPid('stay'), pidBefore, 'that one did stop the live app');
  assert.equal(await runningVersion(h, 'stay'), PB_OLD);
});
