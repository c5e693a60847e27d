import { test } from 'node:test';
import assert from 'node:assert/strict';
import { REPLICA_STATUSES_MAX, replicaStatusesSpecSchema } from '../../src/shared/replica-rules.js';
import { statusUpdate } from '../../src/core/replication/replica-status.js';

test('replica-statuses takes a bounded list of app names, each once', () => {
  assert.ok(replicaStatusesSpecSchema.safeParse({ names: ['shop', 'blog'] }).success);
  const many = Array.from({ length: REPLICA_STATUSES_MAX + 1 }, (_, i) => `app${i}`);
  assert.equal(replicaStatusesSpecSchema.safeParse({ names: many }).success, false);
  assert.equal(replicaStatusesSpecSchema.safeParse({ names: [] }).success, false);
  assert.equal(replicaStatusesSpecSchema.safeParse({ names: ['shop', 'shop'] }).success, false);
  for (const bad of ['../x', 'Shop', 'a', 'x'.repeat(40), 'shop;rm'])
    assert.equal(replicaStatusesSpecSchema.safeParse({ names: [bad] }).success, false, bad);
  assert.equal(replicaStatusesSpecSchema.safeParse({ names: ['shop'], extra: 1 }).success, false);
});

test('a replica with no generation says what its Litestream logged, not only that nothing arrived', () => {
  const header = 'name  generation  lag  start  end\n';
  const none = statusUpdate('t', {
    name: 'shop',
    generations: header,
    error: null,
    logged_error: 'sync error: attempt to write a readonly database',
  });
  assert.match(String(none.error), /no generation.*readonly database/);
  const ok = statusUpdate('t', {
    name: 'shop',
    generations: `${header}target  0123456789abcdef  1.5s  2026-11-30T07:00:00Z  2026-11-30T07:10:00Z\n`,
    error: null,
    logged_error: null,
  });
  assert.equal(ok.error, null);
  assert.equal(ok.generation, '0123456789abcdef');
  assert.equal(ok.lag_seconds, 1.5);
  assert.match(String(statusUpdate('t', undefined).error), /did not answer/);
  assert.equal(statusUpdate('t', { name: 'x', generations: null, error: 'boom', logged_error: null }).error, 'boom');
});
