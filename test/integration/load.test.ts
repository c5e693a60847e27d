import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { setupPocketdHost, type PocketdHost } from '../support/host.js';
import { describeLoad, runLoad } from '../support/load.js';

// A reduced load run for CI (the full one, 60 s, is `node bench/run.js load`):
// it asserts no failed request and a bounded daemon, never a time.
const OPTS = { clients: 100, seconds: Number(process.env.LOAD_SECONDS ?? 10), subscribers: 20 };

let h: PocketdHost;
before(async () => {
  h = await setupPocketdHost();
  for (const name of ['busy', 'quiet']) {
    const r = await h.api('POST', '/api/apps', { name, domains: [`${name}.test`] });
    assert.equal((await h.waitDeployment(r.body.deployment_id)).status, 'success');
  }
});
after(async () => {
  await h?.stop();
});

test('100 clients on list, status and logs with event subscribers: no errors, memory bounded', async () => {
  const r = await runLoad(h, 'busy', OPTS);
  console.log(describeLoad(OPTS, r));
  assert.equal(r.errors, 0);
  assert.equal(r.non2xx, 0);
  assert.ok(r.requests > OPTS.clients, `${r.requests} requests`);
  assert.ok(r.eventsReceived >= OPTS.subscribers, 'the subscribers got the restart events');
  assert.ok(r.rssMaxMiB - r.rssBeforeMiB < 300, `the daemon grew by ${(r.rssMaxMiB - r.rssBeforeMiB).toFixed(0)} MiB`);
  // Nothing leaked: the journal readers of the logs requests are gone, the daemon still answers.
  const readers = (await h.sbx.exec(['pgrep', '-c', 'journalctl'])).stdout.trim();
  assert.equal(readers, '0');
  assert.equal((await h.api('GET', '/api/apps')).body.total, 2);
});
