import { test } from 'node:test';
import assert from 'node:assert/strict';
import { capabilitiesOf, maskInstallerToken } from '../../src/shared/pocketbase/versions.js';

test('admins before 0.23, superusers from 0.23 on, prereleases and 1.x included', () => {
  for (const v of ['0.22.20', '0.22.27', '0.22.34', '0.9.2', '0.22.0-rc.1'])
    assert.equal(capabilitiesOf(v).accounts, 'admins', v);
  for (const v of ['0.23.0', '0.23.0-rc.1', '0.39.11', '0.40.6', '1.0.0', '0.100.1'])
    assert.equal(capabilitiesOf(v).accounts, 'superusers', v);
});

test('each line has its own superuser table, sign-in path, data files and installer-token habit', () => {
  const old = capabilitiesOf('0.22.20');
  const cur = capabilitiesOf('0.40.6');
  assert.equal(old.superuserTable, '_admins');
  assert.equal(old.hashColumn, 'passwordHash');
  assert.equal(cur.superuserTable, '_superusers');
  assert.equal(cur.hashColumn, 'password');
  assert.equal(old.authPath, '/api/admins/auth-with-password');
  assert.equal(cur.authPath, '/api/collections/_superusers/auth-with-password');
  assert.deepEqual([...old.dataFiles], ['data.db', 'logs.db']);
  assert.deepEqual([...cur.dataFiles], ['data.db', 'auxiliary.db']);
  assert.equal(old.printsInstallerToken, false);
  assert.equal(cur.printsInstallerToken, true);
  assert.equal(old.adminPath, cur.adminPath);
  assert.equal(old.adminLabel, 'Admin UI');
  assert.equal(cur.adminLabel, 'Dashboard');
  assert.ok(Object.isFrozen(cur));
});

test('text that is not a version is refused', () => {
  for (const v of ['', 'latest', '0.23', 'v0.23.1', '0.23.1; rm -rf /'])
    assert.throws(() => capabilitiesOf(v), RangeError);
});

test('the installer link keeps its shape and loses its token', () => {
  const line =
    'http://127.0.0.1:20001/_/#/pbinstall/eyJhbGciOiJIUzI1NiJ9.eyJpZCI6Imd0bmUifQ.wbBh6klN2vetkugeoOHWyYosZut_LtFbc9KTG4Vzndo';
  assert.equal(maskInstallerToken(line), 'http://127.0.0.1:20001/_/#/pbinstall/[masked]');
  assert.equal(maskInstallerToken('GET /_/ 200'), 'GET /_/ 200');
});
