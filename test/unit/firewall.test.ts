import { test } from 'node:test';
import assert from 'node:assert/strict';
import { renderFirewall } from '../../src/helper/firewall.js';

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
