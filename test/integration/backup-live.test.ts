import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { appCode } from '../support/app-code.js';
import { setupPocketdHost, type PocketdHost } from '../support/host.js';
import { seedApp } from '../support/pb-app.js';
import { PB_LATEST } from '../support/pocketbase.js';

/**
 * Issue #26: a backup of a live app that is being written is consistent. A
 * client writes about 50 records a second to a real PocketBase through its API;
 * a backup is taken while it writes; restored, the database passes
 * `PRAGMA integrity_check` and holds every record acknowledged before the
 * backup began (and none acknowledged after it ended: it is the backup's data).
 *
 * The database carries 40 MB of ballast so that copying it takes a while: the
 * copy pocketd made before (SQLite's online backup, `.backup`) started over on
 * every write of the app and, at this rate, never finished.
 */

const APP = 'busy';
const DB = `/var/lib/pocketd-apps/${APP}/pb_data/data.db`;
/** The most a backup may take here; the copy that started over at each write was still at it after 20 s. */
const BACKUP_TIMEOUT_MS = 120_000;

let h: PocketdHost;
let port = 0;
before(async () => {
  h = await setupPocketdHost();
  const r = await h.api('POST', '/api/apps', { name: APP, domains: [`${APP}.test`], pocketbase_version: PB_LATEST });
  assert.equal(r.status, 202, JSON.stringify(r.body));
  assert.equal((await h.waitDeployment(r.body.deployment_id)).status, 'success');
  port = r.body.port as number;
  await seedApp(h, APP);
  // The ballast, written as the app's own code could (inside its sandbox, as its user) while it runs.
  const ballast = await appCode(
    h.sbx,
    APP,
    `sqlite3 -init /dev/null -bail -batch -cmd '.timeout 10000' ${DB} "CREATE TABLE pocketd_test_ballast(b BLOB);
     WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i+1 FROM s WHERE i<40)
     INSERT INTO pocketd_test_ballast SELECT randomblob(1048576) FROM s;"`,
  );
  assert.equal(ballast.code, 0, ballast.stderr);
});
after(async () => {
  await h?.stop();
});

/** Writes a note every 20 ms (at most 16 in flight) until stopped; each acknowledged one with its time. */
function startWriter() {
  const acked: Array<{ text: string; at: number }> = [];
  const failed: string[] = [];
  let n = 0;
  let inflight = 0;
  let stopped = false;
  const startedAt = Date.now();
  const write = async () => {
    const text = `live-${n++}`;
    inflight++;
    try {
      const r = await fetch(`http://127.0.0.1:${port}/api/collections/notes/records`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ text }),
        signal: AbortSignal.timeout(30_000),
      });
      if (r.ok) acked.push({ text, at: Date.now() });
      else failed.push(`${text}: ${r.status}`);
      await r.arrayBuffer();
    } catch (err) {
      failed.push(`${text}: ${(err as Error).message}`);
    } finally {
      inflight--;
    }
  };
  const timer = setInterval(() => {
    if (!stopped && inflight < 16) void write();
  }, 20);
  return {
    acked,
    failed,
    sent: () => n,
    /** Acknowledged writes a second since the start. */
    rate: () => acked.length / ((Date.now() - startedAt) / 1000),
    async stop() {
      stopped = true;
      clearInterval(timer);
      while (inflight > 0) await sleep(10);
    },
  };
}

/** Runs sqlite3 on the app's database as the app, in its sandbox. */
async function sql(query: string): Promise<string> {
  const r = await appCode(h.sbx, APP, `sqlite3 -init /dev/null -bail -batch -cmd '.timeout 10000' ${DB} "${query}"`);
  assert.equal(r.code, 0, r.stderr);
  return r.stdout;
}

test('a backup taken while about 50 records a second are written restores whole: integrity_check ok, every record acknowledged before it', async (t) => {
  const writer = startWriter();
  try {
    while (writer.acked.length < 50) await sleep(20);
    const began = Date.now();
    const before = writer.acked.map((a) => a.text);
    const res = await fetch(`${h.url}/api/apps/${APP}/backups`, {
      method: 'POST',
      headers: { authorization: `Bearer ${h.token}` },
      signal: AbortSignal.timeout(BACKUP_TIMEOUT_MS),
    }).catch((err: Error) => {
      throw new Error(
        `the backup did not end within ${BACKUP_TIMEOUT_MS} ms while the app was written: ${err.message}`,
      );
    });
    const backup = (await res.json()) as { id: number; status: string; size_bytes: number };
    assert.equal(res.status, 201, JSON.stringify(backup));
    assert.equal(backup.status, 'ready', JSON.stringify(backup));
    const ended = Date.now();
    // Written on until a moment after: these are in the live database only.
    await sleep(1000);
    await writer.stop();
    const during = writer.acked.filter((a) => a.at > began && a.at < ended).length;
    const after = writer.acked.filter((a) => a.at > ended).map((a) => a.text);
    const rate = writer.rate();
    t.diagnostic(
      `backup of ${backup.size_bytes} bytes took ${ended - began} ms; ${during} writes acknowledged meanwhile; ` +
        `${writer.acked.length} acknowledged in all (${rate.toFixed(1)}/s), ${writer.failed.length} failed`,
    );
    assert.deepEqual(writer.failed, [], 'the live app refused writes');
    assert.ok(during > 0, 'no write was acknowledged while the backup ran: the test did not test a live backup');
    assert.ok(rate > 20, `the writer managed only ${rate.toFixed(1)} writes a second`);
    assert.ok(after.length > 0);

    const r = await h.api('POST', `/api/apps/${APP}/backups/${backup.id}/restore`);
    assert.equal(r.status, 202, JSON.stringify(r.body));
    const d = await h.waitDeployment(r.body.deployment_id, 5 * 60_000);
    assert.equal(d.status, 'success', JSON.stringify(d));

    assert.equal((await sql('PRAGMA integrity_check;')).trim(), 'ok');
    const restored = new Set((await sql('SELECT text FROM notes;')).trim().split('\n'));
    const missing = before.filter((x) => !restored.has(x));
    assert.deepEqual(missing, [], `${missing.length} of the ${before.length} records acknowledged before the backup`);
    // The restore really put the backup's data back: what was written after it is gone.
    const kept = after.filter((x) => restored.has(x));
    assert.deepEqual(kept, [], 'records written after the backup ended are in the restored database');
    assert.equal((await sql('SELECT count(*) FROM pocketd_test_ballast;')).trim(), '40');
    // PocketBase serves the restored data.
    const list = await fetch(
      `http://127.0.0.1:${port}/api/collections/notes/records?perPage=1&filter=${encodeURIComponent("(text='live-0')")}`,
    );
    assert.equal(((await list.json()) as { totalItems: number }).totalItems, 1);
  } finally {
    await writer.stop();
  }
});
