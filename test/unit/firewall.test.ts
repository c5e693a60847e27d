import { test } from 'node:test';
import assert from 'node:assert/strict';
import { firewallApps, renderFirewall } from '../../src/helper/firewall.js';

const range = { uidMin: 50000, uidMax: 59999 };

test("the firewall refuses each app's ports to every app user but its own, and replaces the whole table at once", () => {
  const text = renderFirewall(
    [
      { uid: 50001, ports: [20001] },
      { uid: 50002, ports: [20002, 20102] },
    ],
    range,
  );
  const lines = text.split('\n').map((l) => l.trim());
  // Deleted and made again in the same `nft -f` transaction: no moment without the rules.
  assert.deepEqual(lines.slice(0, 3), [
    'table inet pocketd_apps',
    'delete table inet pocketd_apps',
    'table inet pocketd_apps {',
  ]);
  assert.ok(
    lines.includes(
      'oifname "lo" tcp dport { 20001 } meta skuid != 50001 meta skuid 50000-59999 ct state new reject with tcp reset',
    ),
  );
  assert.ok(
    lines.includes(
      'oifname "lo" tcp dport { 20002, 20102 } meta skuid != 50002 meta skuid 50000-59999 ct state new reject with tcp reset',
    ),
  );
  assert.equal(lines.filter((l) => l.includes('reject')).length, 2);
});

test('with no app the table is there and refuses nothing', () => {
  const text = renderFirewall([], range);
  assert.match(text, /chain output \{/);
  assert.doesNotMatch(text, /reject/);
});

test("a trial's port is its app's while the trial runs: refused to every other app, never past its time, never over an app's own port", () => {
  const records = new Map([
    ['shop', { port: 20001, version: '0.40.6', domains: [] }],
    ['blog', { port: 20002, version: '0.40.6', domains: [], app_port: 20102 }],
    ['gone', { port: 20003, version: '0.40.6', domains: [] }],
  ]);
  const uids: Record<string, number> = { shop: 50001, blog: 50002 };
  const now = 1_000_000;
  const trials = new Map([
    ['shop', { port: 20555, until: now + 60_000 }],
    // A helper killed mid-trial left this one: past its time, it is no longer in the table.
    ['blog', { port: 20666, until: now - 1 }],
  ]);
  assert.deepEqual(
    firewallApps(records, trials, (n) => uids[n], now),
    [
      { uid: 50001, ports: [20001, 20555] },
      { uid: 50002, ports: [20002, 20102] },
    ],
  );
  // A trial of an app with no record (yet) is still that app's alone.
  assert.deepEqual(
    firewallApps(new Map(), new Map([['shop', { port: 20555, until: now + 1 }]]), (n) => uids[n], now),
    [{ uid: 50001, ports: [20555] }],
  );
  // A left-over trial record naming a port an app now holds does not take it from that app.
  const stale = new Map([['shop', { port: 20002, until: now + 60_000 }]]);
  assert.deepEqual(firewallApps(records, stale, (n) => uids[n], now)[0], { uid: 50001, ports: [20001] });
  assert.match(
    renderFirewall(
      firewallApps(records, trials, (n) => uids[n], now),
      range,
    ),
    /tcp dport \{ 20001, 20555 \} meta skuid != 50001 /,
  );
});
