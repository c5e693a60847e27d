import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import {
  redactTarget,
  replicaSpecSchema,
  replicaTargetSchema,
  timestampSchema,
  type ReplicaSpec,
} from '../../src/shared/replica-rules.js';
import { parseGenerations, parseLag, renderLitestreamConfig } from '../../src/shared/replica-config.js';
import { parseAgeKey } from '../../src/helper/replica.js';
import { createReplicaTemplates } from '../../src/shared/render.js';
import { replicaContext, replicaUserOf } from '../../src/shared/replica-templates.js';
import { hostileStrings } from '../support/hostile.js';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..', '..', '..');
const s3 = {
  type: 's3',
  endpoint: 'https://s3.example.com',
  bucket: 'my-bucket',
  path: 'hosts/one',
  access_key_id: 'AKIAEXAMPLE',
  secret_access_key: 'abc/def+ghi=jkl',
};
const keys = { identity: `AGE-SECRET-KEY-1${'Q'.repeat(58)}`, recipient: `age1${'q'.repeat(58)}` };

test('a target field that could reach the config or an object name unchecked is refused, never escaped', () => {
  for (const bad of hostileStrings()) {
    for (const field of ['endpoint', 'bucket', 'path', 'region', 'access_key_id', 'secret_access_key']) {
      // Accepted only when nothing in it could end a JSON string, start a variable or climb a directory.
      const r = replicaTargetSchema.safeParse({ ...s3, [field]: bad });
      if (r.success) assert.match(bad, /^[A-Za-z0-9._/:+=-]+$/, `${field}=${JSON.stringify(bad)}`);
      if (r.success && field === 'path') assert.ok(!bad.split('/').includes('..'), bad);
    }
  }
  assert.equal(replicaTargetSchema.safeParse({ ...s3, secret_access_key: 'abc$HOME123' }).success, false);
  assert.equal(replicaTargetSchema.safeParse({ ...s3, path: 'a/../b' }).success, false);
  assert.equal(replicaTargetSchema.safeParse({ ...s3, endpoint: 'http://user:pw@host' }).success, false);
  assert.equal(replicaTargetSchema.safeParse(s3).success, true);
  const key = '-----BEGIN OPENSSH PRIVATE KEY-----\nAAAA\n-----END OPENSSH PRIVATE KEY-----\n';
  const sftp = { type: 'sftp', host: 'backup.example.com', user: 'pb', path: '/srv/replicas', private_key: key };
  assert.equal(replicaTargetSchema.safeParse(sftp).success, true);
  assert.equal(replicaTargetSchema.safeParse({ ...sftp, private_key: `${key}extra` }).success, false);
  assert.equal(replicaTargetSchema.safeParse({ ...sftp, path: 'relative' }).success, false);
  assert.equal(replicaTargetSchema.safeParse({ ...sftp, host: 'a b' }).success, false);
});

test('what is said about a target never holds its secrets', () => {
  const r = redactTarget(replicaTargetSchema.parse(s3));
  assert.equal(r.has_secret_access_key, true);
  assert.ok(!JSON.stringify(r).includes(s3.secret_access_key));
});

test("Litestream's config is JSON, per database, under the app's name and identity, encrypted with age", () => {
  const spec: ReplicaSpec = replicaSpecSchema.parse({ app_id: '0123456789abcdef', target: s3 });
  const text = renderLitestreamConfig(spec, 'shop', keys, { pbData: '/apps/shop/pb_data', metaDir: '/m', keyFile: '' });
  const doc = JSON.parse(text);
  assert.deepEqual(
    doc.dbs.map((d: { path: string }) => d.path),
    ['/apps/shop/pb_data/data.db', '/apps/shop/pb_data/auxiliary.db', '/apps/shop/pb_data/logs.db'],
  );
  const r = doc.dbs[0].replicas[0];
  assert.equal(r.path, 'hosts/one/shop.0123456789abcdef/data.db');
  assert.equal(r['sync-interval'], '1s');
  assert.deepEqual(r.age, { identities: [keys.identity], recipients: [keys.recipient] });
  assert.equal(doc.dbs[0]['meta-path'], '/m/data.db-litestream');
});

test("Litestream's generations table and Go durations are read back", () => {
  const text =
    'name    generation        lag   start                 end\n' +
    'target  bd50d5cb97508b06  2.6s  2026-11-30T00:48:19Z  2026-11-30T00:48:25Z\n' +
    'target  0000000000000001  1h2m3s  2026-11-29T00:00:00Z  2026-11-29T01:00:00Z\n';
  assert.deepEqual(parseGenerations(text)[0], {
    generation: 'bd50d5cb97508b06',
    lag_seconds: 2.6,
    start: '2026-11-30T00:48:19Z',
    end: '2026-11-30T00:48:25Z',
  });
  assert.equal(parseLag('1h2m3s'), 3723);
  assert.equal(parseLag('250ms'), 0.25);
  assert.equal(parseLag('-1s'), -1);
  assert.equal(parseLag('junk'), null);
});

test('instants are UTC and real; an age key file is read or refused', () => {
  assert.equal(timestampSchema.safeParse('2026-11-30T01:02:03Z').success, true);
  for (const bad of ['2026-11-30 01:02:03', '2026-11-30T01:02:03+01:00', 'now', '2026-02-30T99:00:00Z'])
    assert.equal(timestampSchema.safeParse(bad).success, false, bad);
  assert.deepEqual(parseAgeKey(`# created: x\n# public key: ${keys.recipient}\n${keys.identity}\n`), keys);
  assert.throws(() => parseAgeKey('nothing'));
});

test('the replica unit renders its own user, the app group, and only its own config file', () => {
  const t = createReplicaTemplates(path.join(root, 'templates'));
  const rc = replicaContext(
    {
      apps_dir: '/var/lib/pocketd-apps',
      releases_dir: '/r',
      env_dir: '/etc/pocketd/env',
      data_dir: '/var/lib/pocketd',
    },
    'shop',
    {
      config_file: '/etc/pocketd/replica/pocketd-replica-shop.yml',
      rclone_file: '/etc/pocketd/replica/pocketd-replica-shop.rclone',
      key_file: null,
      litestream: '/usr/local/lib/pocketd/litestream',
    },
  );
  const unit = t.renderReplicaUnit(rc);
  assert.match(unit, /^User=pr-shop$/m);
  // Its primary group is the app's: the -wal and -shm it makes of an app at rest are the app's group's.
  assert.match(unit, /^Group=pb-shop$/m);
  assert.match(unit, /^SupplementaryGroups=pr-shop$/m);
  assert.match(unit, /^BindPaths=\/var\/lib\/pocketd-apps\/shop\/pb_data$/m);
  assert.match(unit, /^TemporaryFileSystem=\/etc\/pocketd\/replica:ro$/m);
  assert.match(
    unit,
    /^BindReadOnlyPaths=\/etc\/pocketd\/replica\/pocketd-replica-shop.yml \/etc\/pocketd\/replica\/pocketd-replica-shop.rclone$/m,
  );
  assert.match(unit, /^ExecStart=\/usr\/local\/lib\/pocketd\/litestream replicate -no-expand-env -config /m);
  assert.throws(() => t.renderReplicaUnit({ ...rc, config_file: '/x y' }));
  assert.equal(replicaUserOf('a'.repeat(32)).length <= 32, true);
});

test('install.sh pins the same Litestream tarball as the test fetcher', () => {
  const install = readFileSync(path.join(root, 'deploy/install.sh'), 'utf8');
  const pins = JSON.parse(readFileSync(path.join(root, 'test/replica/versions.json'), 'utf8')) as {
    tools: Array<{ name: string; package?: string; sha256?: string }>;
  };
  const ls = pins.tools.find((t) => t.name === 'litestream')!;
  assert.ok(install.includes(`LITESTREAM_SHA256=${ls.sha256}`));
  assert.ok(install.includes(`LITESTREAM_PKG=${ls.package}`));
});
