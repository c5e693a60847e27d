import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { loadConfig, ConfigError } from '../../src/shared/config.js';
import { tempDir } from '../support/tmp.js';

test('defaults are the production paths', () => {
  const c = loadConfig({});
  assert.deepEqual(c.listen, { host: '127.0.0.1', port: 8091 });
  assert.equal(c.data_dir, '/var/lib/pocketd');
  assert.equal(c.db_file, '/var/lib/pocketd/pocketd.db');
  assert.deepEqual(c.port_range, { from: 20000, to: 20999 });
  assert.equal(c.helper_sudo, true);
});

test('environment variables override the file, which overrides defaults', () => {
  const { dir, cleanup } = tempDir();
  try {
    const file = path.join(dir, 'c.json');
    writeFileSync(file, JSON.stringify({ listen: '0.0.0.0:9000', data_dir: '/srv/p', port_range: '30000-30010' }));
    const c = loadConfig({ POCKETD_CONFIG: file, POCKETD_LISTEN: '127.0.0.1:9100' });
    assert.deepEqual(c.listen, { host: '127.0.0.1', port: 9100 });
    assert.equal(c.data_dir, '/srv/p');
    assert.deepEqual(c.port_range, { from: 30000, to: 30010 });
  } finally {
    cleanup();
  }
});

test('an invalid value names its variable', () => {
  const cases: Array<[Record<string, string>, RegExp]> = [
    [{ POCKETD_LISTEN: 'nonsense' }, /POCKETD_LISTEN: must be host:port/],
    [{ POCKETD_LISTEN: '127.0.0.1:70000' }, /POCKETD_LISTEN/],
    [{ POCKETD_DATA_DIR: 'relative/dir' }, /POCKETD_DATA_DIR: must be an absolute path/],
    [{ POCKETD_PORT_RANGE: '5000-4000' }, /POCKETD_PORT_RANGE/],
    [{ POCKETD_RELEASES_URL: 'ftp://x' }, /POCKETD_RELEASES_URL/],
    [{ POCKETD_APPS_USER: 'root;rm' }, /POCKETD_APPS_USER/],
    [{ POCKETD_NO_SUCH: '1' }, /POCKETD_NO_SUCH: unknown setting/],
  ];
  for (const [env, re] of cases) {
    assert.throws(
      () => loadConfig(env),
      (err: unknown) => err instanceof ConfigError && re.test(err.message),
      JSON.stringify(env),
    );
  }
});

test('a config file that is not JSON is named', () => {
  const { dir, cleanup } = tempDir();
  try {
    const file = path.join(dir, 'c.json');
    writeFileSync(file, '{ nope');
    assert.throws(() => loadConfig({ POCKETD_CONFIG: file }), /POCKETD_CONFIG: .* is not a valid JSON object/);
    assert.throws(() => loadConfig({ POCKETD_CONFIG: path.join(dir, 'missing.json') }), /POCKETD_CONFIG: cannot read/);
    writeFileSync(file, JSON.stringify({ unknown_key: 1 }));
    assert.throws(() => loadConfig({ POCKETD_CONFIG: file }), /unknown_key/);
  } finally {
    cleanup();
  }
});
