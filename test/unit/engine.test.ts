import { test } from 'node:test';
import assert from 'node:assert/strict';
import { z } from 'zod';
import pino from 'pino';
import { runSteps, type StepDef } from '../../src/core/deployments/steps.js';
import { nowIso } from '../../src/core/clock.js';
import type { StepStatus } from '../../src/db/schema.js';
import { createApps } from '../../src/core/apps/apps.js';
import { createAppOps } from '../../src/core/apps/ops.js';
import { createBackups } from '../../src/core/backups.js';
import { createChanges } from '../../src/core/changes/changes.js';
import { inProcess, type InProcess } from '../support/fake-host.js';
import { until } from '../support/until.js';
import { OPERATION_KINDS, type OperationKind } from '../../src/contract/operations.js';

// Kinds that exist only in these tests: the engine takes any planner it is given.
const testKind = (k: string) => k as OperationKind;
const [PROBE, HEALING, BROKEN, PLAIN, NOTHING] = [
  testKind('probe'),
  testKind('healing'),
  testKind('broken'),
  testKind('plain'),
  testKind('nothing'),
];

/**
 * The deployment engine and the app core in-process: a real SQLite store, the
 * real templates, a fake helper (test/support/fake-host.ts). Milliseconds per
 * test; the sandbox tests run the same code against systemd, Caddy and sudo.
 */
const log = pino({ level: 'silent' });
const noop = async () => undefined;
const waitFor = (cond: () => boolean) => until(async () => cond(), Boolean, 5000, 5);

async function withHost(fn: (h: InProcess) => Promise<void>, opts: Parameters<typeof inProcess>[0] = {}) {
  const h = await inProcess(opts);
  try {
    await fn(h);
  } finally {
    await h.close();
  }
}

const step = (name: string, trail: string[], fail = false): StepDef => ({
  name,
  run: async () => {
    trail.push(`run ${name}`);
    if (fail) throw new Error(`${name} broke`);
  },
  undo: async () => {
    trail.push(`undo ${name}`);
  },
});

test('steps run in order; a failure skips the rest and undoes the done ones in reverse', async () => {
  const trail: string[] = [];
  const recorded: string[] = [];
  const r = await runSteps(1, [step('a', trail), step('b', trail), step('c', trail, true), step('d', trail)], {
    record: async (i, p) => {
      recorded.push(p.undo ? `${i}:undo ${p.undo}` : `${i}:${p.status}`);
    },
    cancelledBy: () => null,
    onFailure: 'rolled_back',
    log,
  });
  assert.deepEqual(trail, ['run a', 'run b', 'run c', 'undo b', 'undo a']);
  assert.equal(r.status, 'rolled_back');
  assert.match(r.error!, /step c failed: c broke/);
  assert.deepEqual(recorded, [
    '0:running',
    '0:success',
    '1:running',
    '1:success',
    '2:running',
    '2:failed',
    '3:skipped',
    // Each undo is recorded on its step: what a failed deployment shows it went back through.
    '1:undo undone',
    '0:undo undone',
  ]);
});

test('an undo that fails makes the outcome failed and is named; the other undos still run', async () => {
  const trail: string[] = [];
  const bad: StepDef = { ...step('b', trail), undo: () => Promise.reject(new Error('cannot put b back')) };
  const r = await runSteps(1, [step('a', trail), bad, step('c', trail, true)], {
    record: noop,
    cancelledBy: () => null,
    onFailure: 'rolled_back',
    log,
  });
  assert.equal(r.status, 'failed');
  assert.match(r.error!, /undo also failed: b: cannot put b back/);
  assert.deepEqual(trail, ['run a', 'run b', 'run c', 'undo a']);
});

test('a cancel is seen at the next safe point: ends cancelled, done steps undone, the step gets the deployment id', async () => {
  const trail: string[] = [];
  let by: string | null = null;
  let seen = 0;
  const first: StepDef = {
    name: 'first',
    run: async (ctx) => {
      seen = ctx.deployment;
      by = 'ops';
    },
    undo: async () => {
      trail.push('undo first');
    },
  };
  const r = await runSteps(42, [first, step('second', trail)], {
    record: noop,
    cancelledBy: () => by,
    onFailure: 'rolled_back',
    log,
  });
  assert.equal(seen, 42);
  assert.equal(r.status, 'cancelled');
  assert.match(r.error!, /cancelled by ops during step second/);
  assert.deepEqual(trail, ['undo first']);
});

/** A kind whose steps wait for the test to let them go: `release(n)` ends the step of the one with params { n }. */
function gatedKind(h: InProcess) {
  const gates = new Map<number, () => void>();
  const ran: string[] = [];
  h.deps.deployments.register(PROBE, {
    params: z.object({ n: z.number() }),
    plan: async ({ params }) => ({
      steps: [
        {
          name: 'wait',
          run: async () => {
            ran.push(`start ${params.n}`);
            await new Promise<void>((r) => gates.set(params.n, r));
            ran.push(`end ${params.n}`);
          },
        },
      ],
    }),
  });
  const release = async (n: number) => {
    await waitFor(() => gates.has(n));
    gates.get(n)!();
    gates.delete(n);
  };
  return { gates, ran, release };
}

test('queue: one runs per app, the next waits its turn in order; another app is not held up', async () =>
  withHost(async (h) => {
    const d = h.deps.deployments;
    const { gates, ran, release } = gatedKind(h);
    const a1 = await d.enqueue({ app: 'a', kind: PROBE, actor: 't', params: { n: 1 } });
    const a2 = await d.enqueue({ app: 'a', kind: PROBE, actor: 't', params: { n: 2 } });
    const b1 = await d.enqueue({ app: 'b', kind: PROBE, actor: 't', params: { n: 3 } });
    assert.deepEqual([a1.position, a2.position, b1.position], [0, 1, 0]);
    await waitFor(() => gates.size === 2);
    assert.deepEqual([...gates.keys()].sort(), [1, 3]);
    assert.equal((await d.get(a2.deployment_id)).status, 'queued');
    assert.equal(d.busy('a'), true);
    await release(1);
    await release(2);
    await release(3);
    for (const q of [a1, a2, b1]) assert.equal((await d.wait(q.deployment_id, 5000)).status, 'success');
    assert.deepEqual(
      ran.filter((r) => !r.endsWith(' 3')),
      ['start 1', 'end 1', 'start 2', 'end 2'],
    );
    assert.equal(d.busy('a'), false);
  }));

test('queue: full at queue_max (QUEUE_FULL); a cancelled waiter never runs; supersede ends the older one', async () =>
  withHost(
    async (h) => {
      const d = h.deps.deployments;
      const { ran, release } = gatedKind(h);
      await d.enqueue({ app: 'a', kind: PROBE, actor: 't', params: { n: 1 } });
      const w1 = await d.enqueue({ app: 'a', kind: PROBE, actor: 't', params: { n: 2 } });
      const w2 = await d.enqueue({ app: 'a', kind: PROBE, actor: 't', params: { n: 3 } });
      await assert.rejects(d.enqueue({ app: 'a', kind: PROBE, actor: 't', params: { n: 4 } }), {
        code: 'QUEUE_FULL',
      });
      assert.equal((await d.cancel(w1.deployment_id, 'me')).status, 'cancelled');
      const w3 = await d.enqueue({ app: 'a', kind: PROBE, actor: 't', params: { n: 5 }, supersede: true });
      assert.equal((await d.get(w2.deployment_id)).status, 'superseded');
      await release(1);
      await release(5);
      assert.equal((await d.wait(w3.deployment_id, 5000)).status, 'success');
      assert.deepEqual(ran, ['start 1', 'end 1', 'start 5', 'end 5']);
      await assert.rejects(d.cancel(w3.deployment_id, 'me'), { code: 'NOT_CANCELLABLE' });
    },
    { queueMax: 2 },
  ));

test("params are checked against the kind's schema before anything is recorded", async () =>
  withHost(async (h) => {
    const d = h.deps.deployments;
    gatedKind(h);
    await assert.rejects(d.enqueue({ app: 'a', kind: PROBE, actor: 't', params: { n: 'one' } }));
    await assert.rejects(d.enqueue({ app: 'a', kind: NOTHING, actor: 't' }), { code: 'INTERNAL' });
    assert.equal((await d.list({ limit: 10 })).length, 0);
  }));

test('crash recovery: each kind ends by its own recoverer; without one it fails; a recoverer that throws fails with why', async () =>
  withHost(async (h) => {
    const d = h.deps.deployments;
    const recovered: number[] = [];
    const plan = async () => ({ steps: [] });
    d.register(HEALING, {
      params: z.object({}),
      plan,
      recover: async (x) => {
        recovered.push(x.id);
        return { status: 'rolled_back', error: 'put back' };
      },
    });
    d.register(BROKEN, { params: z.object({}), plan, recover: () => Promise.reject(new Error('no way back')) });
    d.register(PLAIN, { params: z.object({}), plan });
    // What a killed daemon leaves: running deployments with a running step.
    const ids: number[] = [];
    for (const kind of [HEALING, BROKEN, PLAIN]) {
      const r = await h.db
        .insertInto('deployments')
        .values({ app: kind, kind, status: 'running', params: '{}', actor: 't', created_at: nowIso() })
        .returning('id')
        .executeTakeFirstOrThrow();
      await h.db
        .insertInto('deployment_steps')
        .values([
          { deployment_id: r.id, position: 0, name: 'one', status: 'running' },
          { deployment_id: r.id, position: 1, name: 'two', status: 'pending' },
        ])
        .execute();
      ids.push(r.id);
    }
    const out = await d.recoverInterrupted();
    assert.deepEqual(recovered, [ids[0]]);
    assert.deepEqual(
      out.map((o) => o.status),
      ['rolled_back', 'failed', 'failed'],
    );
    const [healing, broken, plain] = await Promise.all(ids.map((id) => d.get(id)));
    assert.equal(healing!.error, 'put back');
    assert.match(broken!.error!, /recovery failed: no way back/);
    assert.equal(plain!.error, 'interrupted by a stop of pocketd');
    assert.deepEqual(
      healing!.steps.map((s) => s.status),
      ['failed', 'skipped'],
    );
  }));

test('validateCreate: every refusal names its field; warnings for an old release and little memory', async () =>
  withHost(async (h) => {
    const apps = createApps(h.deps);
    await h.deps.store.insertCreating({
      name: 'shop',
      port: 41010,
      version: '0.22.1',
      domains: ['shop.example.com'],
      env: {},
      memory_max: null,
      cpu_quota: null,
      sleep_after: null,
      wake_port: null,
    });
    const r = await apps.validateCreate({
      name: 'shop',
      port: 41010,
      domains: ['x.example.com', 'shop.example.com'],
      pocketbase_version: '9.9.9',
      env: {},
    });
    assert.equal(r.valid, false);
    assert.deepEqual(
      r.errors.map((e) => `${e.field}:${e.code}`),
      ['name:NAME_TAKEN', 'port:PORT_IN_USE', 'domains.1:DOMAIN_TAKEN', 'pocketbase_version:VERSION_NOT_FOUND'],
    );
    const far = await apps.validateCreate({ name: 'blog', port: 80, domains: [], env: {} });
    assert.deepEqual(
      far.errors.map((e) => e.code),
      ['PORT_OUT_OF_RANGE'],
    );
    const ok = await apps.validateCreate({
      name: 'blog',
      domains: [],
      pocketbase_version: '0.22.0',
      env: {},
      memory_max: '32M',
    });
    assert.equal(ok.valid, true);
    assert.equal(ok.resolved.port, 41000);
    assert.deepEqual(
      ok.warnings.map((w) => w.code),
      ['NO_DOMAINS', 'NOT_LATEST', 'LOW_MEMORY'],
    );
    h.releases.offline = true;
    h.releases.installed = ['0.21.0'];
    const offline = await apps.validateCreate({ name: 'blog', pocketbase_version: '0.21.0', domains: [], env: {} });
    assert.deepEqual(
      offline.warnings.map((w) => w.code),
      ['NO_DOMAINS', 'SOURCE_UNAVAILABLE'],
    );
    const none = await apps.validateCreate({ name: 'blog', domains: [], env: {} });
    assert.deepEqual(
      none.errors.map((e) => e.code),
      ['RELEASE_SOURCE_UNAVAILABLE'],
    );
  }));

test('create: one helper call puts the app on the host, the app ends ready and answers; a failed part leaves nothing', async () =>
  withHost(async (h) => {
    const apps = createApps(h.deps);
    const password = 'a-long-secret-password-1';
    const made = await apps.create(
      { name: 'shop', domains: ['shop.example.com'], env: { A: '1' }, superuser: { email: 'a@b.co', password } },
      't',
    );
    const done = await h.deps.deployments.wait(made.deployment_id, 10_000);
    assert.equal(done.status, 'success', done.error ?? '');
    assert.deepEqual(h.helper.verbs('shop'), ['create-app', 'superuser']);
    // The password waited apart from the public params and is gone once the create ended.
    assert.ok(!JSON.stringify(done).includes(password));
    assert.equal((await h.db.selectFrom('deployment_inputs').selectAll().execute()).length, 0);
    assert.equal((await h.deps.store.load('shop')).row.status, 'ready');

    // The helper's call fails: it removed what it made itself; the record goes too.
    h.helper.failOn('create-app', 'systemd said no', 'blog');
    const bad = await apps.create({ name: 'blog', domains: ['blog.example.com'], env: {} }, 't');
    const failed = await h.deps.deployments.wait(bad.deployment_id, 10_000);
    assert.equal(failed.status, 'failed');
    assert.match(failed.error!, /step install failed: systemd said no/);
    assert.deepEqual(h.helper.verbs('blog'), ['create-app']);
    assert.equal(await h.deps.store.find('blog'), undefined);

    // A later step fails: the app is taken off the host part by part.
    h.helper.failOn('superuser', 'no superuser today', 'late');
    const late = await apps.create(
      { name: 'late', domains: [], env: {}, superuser: { email: 'a@b.co', password } },
      't',
    );
    const undone = await h.deps.deployments.wait(late.deployment_id, 10_000);
    assert.equal(undone.status, 'failed');
    assert.match(undone.error!, /step create_superuser failed: no superuser today/);
    assert.deepEqual(h.helper.verbs('late'), [
      'create-app',
      'superuser',
      'remove-unit',
      'remove-site',
      'remove-env',
      'purge-app',
    ]);
    assert.equal(undone.steps.find((st) => st.name === 'install')?.undo, 'undone');
    assert.equal(await h.deps.store.find('late'), undefined);
  }));

test('a configure that fails to restart puts the old files back, and a crashed configure is rolled back from the store', async () =>
  withHost(async (h) => {
    const apps = createApps(h.deps);
    const ops = createAppOps(h.deps, noop);
    const made = await apps.create({ name: 'shop', domains: [], env: { A: '1' } }, 't');
    assert.equal((await h.deps.deployments.wait(made.deployment_id, 10_000)).status, 'success');
    h.helper.calls.length = 0;
    h.helper.failOn('restart', 'no restart today');
    const r = await ops.configure('shop', { env: { A: '2' } }, 't');
    assert.ok('done' in r);
    assert.equal(r.done.status, 'failed');
    assert.match((await h.deps.deployments.get(r.done.deployment_id)).error!, /step restart failed: no restart today/);
    // The fake helper writes no unit file, so the unit counts as changed too; undone in reverse.
    assert.deepEqual(h.helper.verbs('shop'), ['install-env', 'install-unit', 'restart', 'install-unit', 'install-env']);
    assert.deepEqual((await h.deps.store.load('shop')).settings.env, { A: '1' });

    // What a daemon killed in a configure leaves behind.
    h.helper.clearFailures();
    h.helper.calls.length = 0;
    await h.db
      .insertInto('deployments')
      .values({
        app: 'shop',
        kind: 'configure',
        status: 'running',
        params: '{"fields":["env"]}',
        actor: 't',
        created_at: nowIso(),
      })
      .execute();
    const [rec] = await h.deps.deployments.recoverInterrupted();
    assert.equal(rec!.status, 'rolled_back');
    assert.deepEqual(h.helper.verbs('shop'), ['install-env', 'install-unit', 'remove-site', 'restart']);
  }));

test('a delete cut short is finished on restart; a create cut short is purged', async () =>
  withHost(async (h) => {
    const apps = createApps(h.deps);
    createAppOps(h.deps, noop);
    const made = await apps.create({ name: 'shop', domains: [], env: {} }, 't');
    assert.equal((await h.deps.deployments.wait(made.deployment_id, 10_000)).status, 'success');
    await h.deps.store.insertCreating({
      name: 'half',
      port: 41030,
      version: '0.22.1',
      domains: [],
      env: {},
      memory_max: null,
      cpu_quota: null,
      sleep_after: null,
      wake_port: null,
    });
    for (const [app, kind, params] of [
      ['shop', 'delete', '{"purge":false}'],
      ['half', 'create', '{"port":41030,"pocketbase_version":"0.22.1","domains":[]}'],
    ] as const)
      await h.db
        .insertInto('deployments')
        .values({ app, kind, status: 'running', params, actor: 't', created_at: nowIso() })
        .execute();
    h.helper.calls.length = 0;
    const out = await h.deps.deployments.recoverInterrupted();
    assert.deepEqual(
      out.map((o) => o.status),
      ['success', 'rolled_back'],
    );
    assert.match(out[0]!.error, /archived to \/archive\/shop/);
    assert.deepEqual(h.helper.verbs('shop'), ['remove-unit', 'remove-site', 'remove-env', 'archive-app']);
    assert.deepEqual(h.helper.verbs('half'), ['remove-unit', 'remove-site', 'remove-env', 'purge-app']);
    assert.equal(await h.deps.store.find('shop'), undefined);
    assert.equal(await h.deps.store.find('half'), undefined);
  }));

test('a change cut short: before its first step nothing is touched; after the new release was installed it is rolled back', async () =>
  withHost(async (h) => {
    const apps = createApps(h.deps);
    const backups = createBackups({ ...h.deps, db: h.db });
    createChanges({ ...h.deps, backups });
    const made = await apps.create({ name: 'shop', domains: [], env: {}, pocketbase_version: '0.22.0' }, 't');
    assert.equal((await h.deps.deployments.wait(made.deployment_id, 10_000)).status, 'success');
    const interrupted = async (params: object, steps: Array<[string, StepStatus]>) => {
      const r = await h.db
        .insertInto('deployments')
        .values({
          app: 'shop',
          kind: 'upgrade',
          status: 'running',
          params: JSON.stringify(params),
          actor: 't',
          created_at: nowIso(),
        })
        .returning('id')
        .executeTakeFirstOrThrow();
      if (steps.length)
        await h.db
          .insertInto('deployment_steps')
          .values(steps.map(([name, status], position) => ({ deployment_id: r.id, position, name, status })))
          .execute();
      return r.id;
    };
    h.helper.calls.length = 0;
    await interrupted({ version: '0.22.1' }, []);
    const [first] = await h.deps.deployments.recoverInterrupted();
    assert.equal(first!.status, 'failed');
    assert.match(first!.error, /before its first step; nothing was changed/);
    assert.deepEqual(h.helper.calls, []);

    const id = await interrupted(
      {
        from: { version: '0.22.0', bundle: null },
        to: { version: '0.22.1', bundle: null },
        restore_backup: null,
        was_running: true,
      },
      [
        ['validate', 'success'],
        ['fetch_release', 'success'],
        ['extract_bundle', 'skipped'],
        ['stop', 'success'],
        ['snapshot', 'success'],
        ['restore_data', 'skipped'],
        ['install_release', 'running'],
      ],
    );
    await h.db
      .insertInto('backups')
      .values({ app: 'shop', kind: 'pre-deploy', status: 'ready', deployment_id: id, created_at: nowIso() })
      .execute();
    const [second] = await h.deps.deployments.recoverInterrupted();
    assert.equal(second!.status, 'rolled_back', second!.error);
    assert.deepEqual(h.helper.verbs('shop'), ['stop', 'install-unit', 'restore-backup', 'start']);
    assert.equal((await h.deps.store.load('shop')).settings.version, '0.22.0');

    // Cut short in its trial (issue #26): the live app was never stopped, so recovery leaves it alone.
    h.helper.calls.length = 0;
    await interrupted(
      {
        from: { version: '0.22.0', bundle: null },
        to: { version: '0.22.1', bundle: null },
        restore_backup: null,
        was_running: true,
        trial: true,
      },
      [
        ['validate', 'success'],
        ['fetch_release', 'success'],
        ['extract_bundle', 'skipped'],
        ['trial', 'running'],
      ],
    );
    const [third] = await h.deps.deployments.recoverInterrupted();
    assert.equal(third!.status, 'rolled_back', third!.error);
    assert.match(third!.error, /before the app was stopped; nothing had changed/);
    assert.deepEqual(h.helper.verbs('shop'), []);
  }));

test('a kind of the one list without a planner is named when the daemon checks its wiring', async () =>
  withHost(async (h) => {
    const d = h.deps.deployments;
    assert.throws(() => d.assertEveryKind(), /no planner for operation kind\(s\): create, start/);
    for (const k of OPERATION_KINDS.slice(1))
      d.register(k, { params: z.object({}), plan: async () => ({ steps: [] }) });
    assert.throws(() => d.assertEveryKind(), /: create$/);
    d.register('create', { params: z.object({}), plan: async () => ({ steps: [] }) });
    d.assertEveryKind();
    assert.throws(() => d.register('create', { params: z.object({}), plan: async () => ({ steps: [] }) }), /second/);
  }));
