import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import pino from 'pino';
import { replicaUnitName } from '../../src/shared/naming.js';
import { createReplicaTemplates } from '../../src/shared/render.js';
import { REPLICA_LAYOUT } from '../../src/shared/replica-templates.js';
import { replicaLayoutOf, upgradeReplicaUnits } from '../../src/core/replication/upgrade-replicas.js';
import { tempDir } from '../support/tmp.js';

const templates = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..', '..', '..', 'templates');

test('the replica unit says its layout, and a unit without the line is layout 1', () => {
  const text = createReplicaTemplates(templates).renderReplicaUnit({} as never);
  assert.equal(replicaLayoutOf(text), REPLICA_LAYOUT);
  assert.equal(replicaLayoutOf('[Unit]\nDescription=old\n'), 1);
});

test('at start, only replicas of an older layout are installed again; one that fails is logged and the rest go on', async () => {
  const t = tempDir();
  try {
    const unit = (app: string, text: string) => writeFileSync(path.join(t.dir, replicaUnitName(app)), text);
    unit('old', '# Managed by pocketd\n[Unit]\n');
    unit('broken', '# pocketd-replica-layout: 1\n[Unit]\n');
    unit('current', `# pocketd-replica-layout: ${REPLICA_LAYOUT}\n[Unit]\n`);
    // 'gone' has a row but no unit: not this job's (drift and repair say so).
    const calls: Array<[string, string[], unknown]> = [];
    const upgraded = await upgradeReplicaUnits({
      replicas: {
        names: async () => ['broken', 'current', 'gone', 'old'],
        specOf: async (app: string) => ({ app_id: `id-${app}` }) as never,
      },
      privileged: {
        run: (async (verb: string, args: string[], opts: { spec: unknown }) => {
          calls.push([verb, args, opts.spec]);
          if (args[0] === 'broken') throw new Error('helper refused');
          return '';
        }) as never,
      },
      log: pino({ level: 'silent' }),
      unitDir: t.dir,
    });
    assert.deepEqual(upgraded, ['old']);
    assert.deepEqual(calls, [
      ['replica-install', ['broken'], { app_id: 'id-broken' }],
      ['replica-install', ['old'], { app_id: 'id-old' }],
    ]);
  } finally {
    t.cleanup();
  }
});
