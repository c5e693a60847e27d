import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { probeHealth } from '../../src/host/ports.js';
import { describeExit } from '../../src/host/systemd/exit.js';
import { describeStartFailure } from '../../src/core/apps/start-failure.js';
import { backoffSeconds, crashKind } from '../../src/core/healing/backoff.js';

const listen = (server: net.Server) =>
  new Promise<number>((resolve) =>
    server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port)),
  );

test('a failed probe says which: connection refused, timeout, or bad status (never just "fetch failed")', async () => {
  const closed = net.createServer();
  const port = await listen(closed);
  await new Promise((r) => closed.close(r));
  assert.match((await probeHealth(port, 1000)).error ?? '', /^connection refused/);

  // Accepts and never answers.
  const silent = net.createServer(() => undefined);
  const sp = await listen(silent);
  const slow = await probeHealth(sp, 300);
  assert.equal(slow.status, null);
  assert.match(slow.error ?? '', /^timeout: no answer within 300 ms/);
  silent.close();

  // Closes the connection without a word.
  const rude = net.createServer((sock) => sock.destroy());
  const rp = await listen(rude);
  assert.match((await probeHealth(rp, 1000)).error ?? '', /^connection reset|^no answer/);
  rude.close();

  // Sends its headers, then never the end of its body: the timeout holds for the whole answer.
  const stalls = http.createServer((_req, res) => {
    res.writeHead(200, { 'content-length': '100' });
    res.write('{');
  });
  const stp = await listen(stalls);
  const stalled = await probeHealth(stp, 300);
  assert.equal(stalled.status, null);
  assert.match(stalled.error ?? '', /^timeout/);
  stalls.closeAllConnections();
  stalls.close();

  // A path that is not a URL path is an answer, not a throw.
  assert.equal((await probeHealth(rp, 300, '/a b')).status, null);

  const sick = http.createServer((_req, res) => {
    res.writeHead(503);
    res.end('{}');
  });
  const hp = await listen(sick);
  const r = await probeHealth(hp, 1000);
  assert.equal(r.status, 503);
  assert.equal(r.error, undefined);
  sick.close();
});

test("systemd's exit in words: the signal by name, the status, and why systemd stopped", () => {
  assert.equal(describeExit({ result: 'signal', code: 2, status: 9 }), 'killed by signal SIGKILL');
  assert.equal(
    describeExit({ result: 'start-limit-hit', code: 2, status: 9 }),
    "killed by signal SIGKILL; systemd's start limit was hit, it stopped restarting it",
  );
  assert.equal(describeExit({ result: 'exit-code', code: 1, status: 3 }), 'exited with status 3');
  assert.equal(describeExit({ result: 'core-dump', code: 3, status: 11 }), 'killed by signal SIGSEGV (core dumped)');
  assert.match(describeExit({ result: 'oom-kill', code: 2, status: 9 }), /MemoryMax/);
});

test("a failed start names the new process's first error, never the old process's lines", () => {
  const at = (s: number) => new Date(Date.UTC(2026, 0, 1, 0, 0, s)).toISOString();
  const since = Date.UTC(2026, 0, 1, 0, 0, 10);
  const e = (s: number, pid: number, level: 'info' | 'error', message: string) => ({
    timestamp: at(s),
    priority: 6,
    level,
    message,
    pid,
  });
  const entries = [
    e(9, 100, 'error', 'Error: the old process said this while stopping'),
    e(11, 1, 'info', 'Started pb-shop.service.'),
    e(11, 200, 'info', 'Server started at http://127.0.0.1:20001'),
    e(12, 200, 'error', 'Error: failed to load hooks'),
    e(13, 200, 'error', 'Error: a later error'),
  ];
  assert.equal(
    describeStartFailure(entries, since),
    'first error of the new process (pid 200): Error: failed to load hooks',
  );
  assert.equal(
    describeStartFailure(entries.slice(0, 3), since),
    'the new process logged no error; its last line: Server started at http://127.0.0.1:20001',
  );
  assert.equal(describeStartFailure(entries.slice(0, 1), since), 'the new process logged nothing');
});

test('the back-off doubles up to its bound; a crash is a restart by systemd or systemd giving up', () => {
  assert.deepEqual(
    [0, 1, 2, 3, 4, 5, 6, 40].map((n) => backoffSeconds(n, 10, 300)),
    [10, 20, 40, 80, 160, 300, 300, 300],
  );
  const u = (active_state: string, sub_state: string) => ({ active_state, sub_state });
  assert.equal(crashKind(u('activating', 'auto-restart'), u('active', 'running')), 'restarting');
  assert.equal(crashKind(u('failed', 'failed'), u('activating', 'auto-restart')), 'gave_up');
  assert.equal(crashKind(u('inactive', 'dead'), u('deactivating', 'stop-sigterm')), null);
  assert.equal(crashKind(u('activating', 'auto-restart'), u('activating', 'auto-restart')), null);
});
