// The cost of an upgrade's trial (issue #26) against the size of pb_data: for each
// size, an app whose data.db holds that many MiB more (random blobs, so nothing
// compresses) is upgraded, and the deployment's own step times are read back:
// the trial step (copy + boot on the copy + removal), the live gap (stop through
// wait_health) and the whole deployment. Sizes: BENCH_TRIAL_MB (default "1,50").
import { setupPocketdHost } from '../test/support/host.js';
import { PB_LATEST, PB_OLD, PB_PREV } from '../test/support/pocketbase.js';
import { fmt } from './stats.js';

const SIZES = (process.env.BENCH_TRIAL_MB ?? '1,50').split(',').map(Number);
const span = (d: any, from: string, to = from) => {
  const a = d.steps.find((s: any) => s.name === from);
  const b = d.steps.find((s: any) => s.name === to);
  return Date.parse(b.finished_at) - Date.parse(a.started_at);
};

const h = await setupPocketdHost();
try {
  let n = 0;
  for (const [from, to] of [
    [PB_PREV, PB_LATEST],
    [PB_OLD, PB_LATEST],
  ] as const) {
    for (const mb of SIZES) {
      const name = `bench-${n++}`;
      const r = await h.api('POST', '/api/apps', { name, domains: [`${name}.test`], pocketbase_version: from });
      if ((await h.waitDeployment(r.body.deployment_id)).status !== 'success') throw new Error('create failed');
      const db = `/var/lib/pocketd-apps/${name}/pb_data/data.db`;
      const user = (await h.sbx.run(['stat', '-c', '%U', db])).trim();
      await h.sbx.run(
        [
          'sqlite3',
          '-init',
          '/dev/null',
          db,
          `create table pad(b blob); with recursive n(i) as (select 1 union all select i+1 from n where i < ${mb}) insert into pad select randomblob(1048576) from n;`,
        ],
        { user, timeoutMs: 300_000 },
      );
      const du = (await h.sbx.run(['du', '-sb', `/var/lib/pocketd-apps/${name}/pb_data`])).split('\t')[0];
      const u = await h.api('POST', `/api/apps/${name}/upgrade`, { version: to, allow_downgrade: true });
      const d = await h.waitDeployment(u.body.deployment_id, 20 * 60_000);
      if (d.status !== 'success') throw new Error(`upgrade: ${d.status} ${d.error}`);
      const trial = d.steps.find((s: any) => s.name === 'trial');
      console.log(
        `${from} -> ${to}, pb_data ${(Number(du) / 1024 ** 2).toFixed(1)} MiB: trial ${fmt(span(d, 'trial'))}, live gap stop..wait_health ${fmt(span(d, 'stop', 'wait_health'))}, deployment ${fmt(Date.parse(d.finished_at) - Date.parse(d.started_at))}\n    trial said: ${trial.message}`,
      );
      await h.api('DELETE', `/api/apps/${name}`);
    }
  }
} finally {
  await h.stop();
}
