import { test } from 'node:test';
import assert from 'node:assert/strict';
import { z } from 'zod';
import { prioritySchema } from '../../src/api/query/log-priority.js';
import { zodFields } from '../../src/api/errors.js';
import { adminUrlOf } from '../../src/core/admin-url.js';
import { abilitiesOf } from '../../src/core/abilities.js';
import { superuserSchema } from '../../src/shared/rules.js';

test('?priority= takes journald names and numbers, as journalctl -p does; anything else names its rule', () => {
  for (const [given, n] of [
    ['err', 3],
    ['error', 3],
    ['warning', 4],
    ['warn', 4],
    ['EMERG', 0],
    ['debug', 7],
    ['0', 0],
    ['7', 7],
  ] as const)
    assert.equal(prioritySchema.parse(given), n, given);
  for (const bad of ['8', '-1', 'NaN', '', 'errr', '3.5', '1e1']) {
    const r = prioritySchema.safeParse(bad);
    assert.equal(r.success, false, bad);
    assert.match(r.error!.issues[0]!.message, /0-7 or one of emerg, alert, crit, err, warning/);
  }
});

test("zod's size wording reaches people as a sentence; a schema's own message is kept", () => {
  const r = superuserSchema.safeParse({ email: 'a@b.co', password: 'short' });
  const fields = zodFields(r.error!.issues, 'superuser');
  assert.deepEqual(
    fields.map((f) => [f.field, f.message]),
    [['superuser.password', 'must be at least 10 characters']],
  );
  const list = z.object({ xs: z.array(z.string()).min(1).max(2), n: z.number().int().gt(3) });
  const more = zodFields(list.safeParse({ xs: ['a', 'b', 'c'], n: 3 }).error!.issues);
  assert.deepEqual(
    more.map((f) => f.message),
    ['must have at most 2 entries', 'must be more than 3'],
  );
  const own = zodFields(z.string().min(3, 'too short, say 3').safeParse('a').error!.issues);
  assert.equal(own[0]!.message, 'too short, say 3');
});

test('the PocketBase admin link uses the scheme and port Caddy serves, and skips a wildcard', () => {
  const site = { httpOnly: true, httpPort: 18080, httpsPort: 18443 };
  assert.equal(adminUrlOf(['shop.test'], site), 'http://shop.test:18080/_/');
  assert.equal(adminUrlOf(['shop.test'], { ...site, httpPort: 80 }), 'http://shop.test/_/');
  assert.equal(adminUrlOf(['*.shop.test', 'shop.test'], { ...site, httpOnly: false }), 'https://shop.test:18443/_/');
  assert.equal(adminUrlOf(['shop.test'], { httpOnly: false, httpPort: 80, httpsPort: 443 }), 'https://shop.test/_/');
  assert.equal(adminUrlOf([], site), null);
  assert.equal(adminUrlOf(['*.only.test'], site), null);
});

test('what the dashboard may offer a token follows what its scope covers', () => {
  const admin = abilitiesOf('admin');
  assert.equal(admin.app, null);
  assert.ok(
    ['host', 'app.control', 'backups.download', 'backups.restore'].every((a) => admin.can.includes(a as never)),
  );
  const read = abilitiesOf('app:shop:read');
  assert.equal(read.app, 'shop');
  assert.deepEqual(read.can, ['app.read']);
  const deploy = abilitiesOf('app:shop:deploy');
  assert.deepEqual(deploy.can, ['app.read', 'app.deploy']);
  // manage: the app's process, settings, env, version and backups (download too), never the host or a delete.
  const manage = abilitiesOf('app:shop:manage');
  for (const a of ['app.control', 'app.env', 'app.settings', 'app.upgrade', 'backups.create', 'backups.download'])
    assert.ok(manage.can.includes(a as never), a);
  for (const a of ['host', 'apps.list', 'app.delete', 'archives']) assert.ok(!manage.can.includes(a as never), a);
  assert.ok(abilitiesOf('admin').can.includes('archives'));
  assert.deepEqual(abilitiesOf('app:Bad!:read').can, []);
});
