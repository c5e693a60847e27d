import { test } from 'node:test';
import assert from 'node:assert/strict';
import { backupScheduleSchema } from '../../src/core/apps/rules.js';
import { envSchema } from '../../src/shared/rules.js';

test('a bad cron value is one message, not two', () => {
  for (const bad of ['every day', '99 99 * * *', '0 3 * *']) {
    const r = backupScheduleSchema.safeParse(bad);
    assert.equal(r.success, false);
    assert.equal(r.error!.issues.length, 1, `${bad}: ${JSON.stringify(r.error!.issues)}`);
  }
  assert.equal(backupScheduleSchema.safeParse('0 3 * * *').success, true);
});

test('a bad env key is named with the rule, not "Invalid key in record"', () => {
  const r = envSchema.safeParse({ GOOD: 'x', '9LIVES': 'y' });
  assert.equal(r.success, false);
  assert.deepEqual(
    r.error!.issues.map((i) => [i.path.join('.'), i.message]),
    [['9LIVES', '"9LIVES": keys must be letters, digits and _, not starting with a digit']],
  );
});
