// 100 concurrent clients for 60 s on the list, status and logs endpoints with 20
// event subscribers, against a daemon in the sandbox: requests, errors, p50/p99,
// and the daemon's memory before, at its peak and after.
import { setupPocketdHost } from '../test/support/host.js';
import { describeLoad, runLoad } from '../test/support/load.js';

const OPTS = {
  clients: Number(process.env.BENCH_CLIENTS ?? 100),
  seconds: Number(process.env.BENCH_SECONDS ?? 60),
  subscribers: 20,
};
const h = await setupPocketdHost();
try {
  for (const name of ['busy', 'quiet']) {
    const r = await h.api('POST', '/api/apps', { name, domains: [`${name}.test`] });
    if ((await h.waitDeployment(r.body.deployment_id)).status !== 'success') throw new Error('create failed');
  }
  console.log(describeLoad(OPTS, await runLoad(h, 'busy', OPTS)));
} finally {
  await h.stop();
}
