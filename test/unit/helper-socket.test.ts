import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { once } from 'node:events';
import path from 'node:path';
import { createHelperServer, parseRequest, type Dispatch } from '../../src/helper/serve.js';
import { HelperError } from '../../src/helper/errors.js';
import { askHelperSocket, SocketUnavailable } from '../../src/host/helper-socket.js';
import { createPrivileged } from '../../src/host/privileged.js';
import { PocketdError } from '../../src/shared/errors.js';
import { tempDir } from '../support/tmp.js';

// The resident helper's request and answer, between the daemon's side (askHelperSocket, createPrivileged) and
// the helper's server, on a socket in a temporary directory. The real one (systemd's socket, root, sudo's
// fallback) is privilege.test's; this is the protocol and its bounds.

/** A server whose dispatch notes what it was asked and fails for an app named `broken`. */
async function withServer(fn: (sock: string, asked: string[], logged: string[]) => Promise<void>, idleMs = 60_000) {
  const { dir, cleanup } = tempDir('pocketd-sock-');
  const asked: string[] = [];
  const logged: string[] = [];
  const dispatch: Dispatch = async (verb, args) => {
    asked.push(`${verb} ${args.join(' ')}`);
    if (args[0] === 'broken') throw new HelperError(69, 'systemctl start failed: no such unit');
    return '';
  };
  const server = createHelperServer(dispatch, (l) => logged.push(l), idleMs);
  const sock = path.join(dir, 'helper.sock');
  server.listen(sock);
  await once(server, 'listening');
  try {
    await fn(sock, asked, logged);
  } finally {
    server.close();
    cleanup();
  }
}

test('a request is one JSON line of a socket verb and an app name; anything else is refused with the field named', () => {
  assert.deepEqual(parseRequest('{"verb":"restart","name":"shop"}'), { verb: 'restart', name: 'shop' });
  const refused = (text: string, code: number, said: RegExp) =>
    assert.throws(
      () => parseRequest(text),
      (e: unknown) => e instanceof HelperError && e.exitCode === code && said.test(e.message),
      text.slice(0, 60),
    );
  refused('{"verb":"install-unit","name":"shop"}', 64, /^verb: /);
  refused('{"verb":"start","name":"Shop; rm -rf /"}', 65, /^name: invalid app name/);
  refused('{"verb":"start","name":"shop","spec":{"User":"root"}}', 65, /spec|unrecognized/i);
  refused('{"verb":"start"}', 65, /^name: /);
  refused('[]', 65, /^request: /);
  refused('start shop', 66, /not JSON/);
  refused(`{"verb":"start","name":"${'a'.repeat(2000)}"}`, 66, /too large/);
});

test('the daemon asks, the server runs the verb and answers; a failure keeps its exit code and becomes the daemon error sudo would give', async () => {
  await withServer(async (sock, asked, logged) => {
    assert.deepEqual(await askHelperSocket(sock, { verb: 'start', name: 'shop' }, 5000), {
      code: 0,
      stdout: '',
      stderr: '',
    });
    const failed = await askHelperSocket(sock, { verb: 'start', name: 'broken' }, 5000);
    assert.equal(failed.code, 69);
    assert.match(failed.stderr, /no such unit/);
    const privileged = createPrivileged('/nonexistent/helper', true, 2, sock);
    assert.equal(await privileged.run('restart', ['shop']), '');
    await assert.rejects(
      privileged.run('stop', ['broken']),
      (e: unknown) =>
        e instanceof PocketdError && e.code === 'SYSTEMD_FAILED' && /stop broken: .*no such unit/.test(e.message),
    );
    assert.deepEqual(asked, ['start shop', 'start broken', 'restart shop', 'stop broken']);
    assert.equal(logged.length, 4);
    assert.match(logged[0]!, /^start shop: done in \d+ ms$/);
  });
});

test('a request too large, never finished or not a line is answered or dropped, and runs nothing', async () => {
  await withServer(async (sock, asked, logged) => {
    const raw = async (bytes: string, end: boolean) => {
      const s = connect(sock);
      s.on('error', () => {});
      let got = '';
      s.on('data', (d) => (got += d));
      await once(s, 'connect');
      if (end) s.end(bytes);
      else s.write(bytes);
      await once(s, 'close');
      return got;
    };
    assert.match(await raw('x'.repeat(64 * 1024), true), /"code":66,.*too large/);
    assert.match(await raw('', true), /"code":66,.*no request/);
    assert.match(await raw('{"verb":"stop","name":"shop"}', true), /"code":0/);
    assert.deepEqual(asked, ['stop shop']);
    // A key name is hostile text: the journal line of its refusal stays one line (no forged line after it).
    const forged = JSON.stringify({ verb: 'start', name: 'shop', 'x\nrestart other: done in 3 ms': 1 });
    assert.match(await raw(`${forged}\n`, true), /"code":65/);
    assert.equal(logged.length, 2);
    assert.doesNotMatch(logged[1]!, /[\n\r]/);
    assert.match(logged[1]!, /^a request: refused or failed \(exit 65\)/);
  });
});

test('nothing listening is SocketUnavailable (the daemon then goes through sudo); the server closes once idle', async () => {
  const { dir, cleanup } = tempDir('pocketd-sock-');
  try {
    await assert.rejects(
      askHelperSocket(path.join(dir, 'none.sock'), { verb: 'start', name: 'shop' }, 2000),
      SocketUnavailable,
    );
  } finally {
    cleanup();
  }
  let closed = false;
  await withServer(async (sock) => {
    await askHelperSocket(sock, { verb: 'start', name: 'shop' }, 5000);
    await new Promise((r) => setTimeout(r, 400));
    await assert.rejects(askHelperSocket(sock, { verb: 'start', name: 'shop' }, 2000), SocketUnavailable);
    closed = true;
  }, 150);
  assert.ok(closed);
});

test('a client cannot hold the helper: a request trickled byte by byte is dropped at its deadline, an answered one closed whatever the client does, and the idle server then closes for good', async () => {
  const { dir, cleanup } = tempDir('pocketd-sock-');
  const server = createHelperServer(
    async () => '',
    () => {},
    300,
  );
  const sock = path.join(dir, 'helper.sock');
  const closed = once(server, 'close');
  server.listen(sock);
  await once(server, 'listening');
  try {
    const hold = (first: string) => {
      const s = connect({ path: sock, allowHalfOpen: true });
      s.on('error', () => {});
      let got = '';
      s.on('data', (d) => (got += d));
      const t0 = Date.now();
      s.on('connect', () => s.write(first));
      // A byte every 400 ms, never a newline, never an end.
      const drip = setInterval(() => s.writable && s.write(' '), 400);
      // events.once would reject on the client's EPIPE (the server closed while it dripped): only the close counts.
      return new Promise<void>((r) => s.once('close', () => r())).then(() => {
        clearInterval(drip);
        return { ms: Date.now() - t0, got };
      });
    };
    const [trickled, answered] = await Promise.all([hold('{"verb":"st'), hold('{"verb":"start","name":"shop"}\n')]);
    assert.equal(trickled.got, '');
    assert.ok(trickled.ms >= 4_500 && trickled.ms < 8_000, `dropped after ${trickled.ms} ms`);
    assert.match(answered.got, /"code":0/);
    assert.ok(answered.ms < 3_000, `closed ${answered.ms} ms after connecting`);
    await closed;
  } finally {
    server.close();
    cleanup();
  }
});
