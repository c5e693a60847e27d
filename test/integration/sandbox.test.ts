import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { existsSync } from 'node:fs';
import { bootSandbox, isAlive, freePort, type Sandbox } from '../support/sandbox.js';
import { httpRequest } from '../support/http.js';
import { pocketbaseBinary, PB_VERSIONS } from '../support/pocketbase.js';
import { serveArgv } from '../../src/shared/pocketbase/versions.js';

let sbx: Sandbox;
let bootMs = 0;
before(async () => {
  const t0 = performance.now();
  sbx = await bootSandbox();
  bootMs = performance.now() - t0;
});
after(async () => {
  await sbx?.stop();
});

test('boots a private systemd as PID 1 with journald, caddy and sudo', async () => {
  console.log(`# sandbox boot to running: ${Math.round(bootMs)} ms`);
  assert.equal((await sbx.run(['cat', '/proc/1/comm'])).trim(), 'systemd');
  assert.match(await sbx.run(['systemctl', 'is-active', 'systemd-journald.service']), /^active/);
  assert.match(await sbx.run(['systemctl', 'is-active', 'caddy.service']), /^active/);
  assert.match(await sbx.run(['sudo', '-n', 'true']).then(() => 'ok'), /ok/);
  // The project is visible read-only at a fixed path.
  assert.ok(await sbx.exists(`${sbx.srcDir}/package.json`));
  const w = await sbx.exec(['touch', `${sbx.srcDir}/should-not-exist`]);
  assert.notEqual(w.code, 0);
});

test('writes inside never reach the machine', async () => {
  const marker = `/etc/pocketd-sandbox-marker-${process.pid}`;
  await sbx.writeFile(marker, 'inside\n');
  assert.equal(await sbx.readFile(marker), 'inside\n');
  assert.equal(existsSync(marker), false);
});

test('runs commands as another user', async () => {
  assert.equal((await sbx.run(['id', '-un'], { user: 'nobody' })).trim(), 'nobody');
  const r = await sbx.exec(['sudo', '-n', 'true'], { user: 'nobody' });
  assert.notEqual(r.code, 0);
});

test('a unit serving HTTP on loopback, its journal, and Caddy proxying to it by Host', async () => {
  const port = await freePort();
  await sbx.writeFile(
    '/etc/systemd/system/sbx-echo.service',
    `[Unit]
Description=sandbox echo
[Service]
ExecStart=/usr/bin/node -e "require('http').createServer((q,s)=>{console.log('hit '+q.url);s.end('echo:'+q.headers.host)}).listen(${port},'127.0.0.1',()=>console.log('echo up'))"
`,
  );
  await sbx.run(['systemctl', 'daemon-reload']);
  await sbx.run(['systemctl', 'start', 'sbx-echo.service']);
  let body = '';
  for (let i = 0; i < 100 && !body; i++) {
    body = await fetch(`http://127.0.0.1:${port}/direct`).then(
      (r) => r.text(),
      () => '',
    );
    if (!body) await sleep(50);
  }
  assert.equal(body, `echo:127.0.0.1:${port}`);

  let journal = '';
  for (let i = 0; i < 50 && !journal.includes('hit /direct'); i++) {
    journal = await sbx.run(['journalctl', '-u', 'sbx-echo.service', '-o', 'cat', '--no-pager']);
    if (!journal.includes('hit /direct')) await sleep(100);
  }
  assert.match(journal, /echo up/);
  assert.match(journal, /hit \/direct/);

  const main = await sbx.readFile('/etc/caddy/Caddyfile');
  await sbx.writeFile('/etc/caddy/Caddyfile', `${main}\nhttp://echo.test {\n\treverse_proxy 127.0.0.1:${port}\n}\n`);
  await sbx.run(['caddy', 'validate', '--config', '/etc/caddy/Caddyfile', '--adapter', 'caddyfile']);
  await sbx.run(['systemctl', 'reload', 'caddy.service']);
  const viaCaddy = await httpRequest(sbx.caddy.httpPort, '/', { host: 'echo.test' });
  assert.equal(viaCaddy.status, 200);
  assert.equal(viaCaddy.body, 'echo:echo.test');
  const other = await httpRequest(sbx.caddy.httpPort, '/', { host: 'other.test' });
  assert.notEqual(other.body, 'echo:other.test');
});

test('each pinned real PocketBase runs as a unit inside, with the flags pocketd gives it', async () => {
  // The cache setup fills is on the machine's /, the overlay's lower layer: the executables are there as they are.
  for (const version of PB_VERSIONS) {
    const bin = pocketbaseBinary(version);
    const port = await freePort();
    const dir = `/var/lib/sbx-pb-${version}`;
    const unit = `sbx-pb-${version.replace(/\./g, '-')}`;
    await sbx.run(['systemd-run', `--unit=${unit}`, '-p', 'MemoryDenyWriteExecute=yes', bin, ...serveArgv(dir, port)]);
    let health: any = null;
    for (let i = 0; i < 100 && !health; i++) {
      health = await fetch(`http://127.0.0.1:${port}/api/health`).then(
        (r) => (r.ok ? r.json() : null),
        () => null,
      );
      if (!health) await sleep(100);
    }
    assert.equal(health?.message, 'API is healthy.', version);
    assert.equal((await sbx.run([bin, '--version'])).trim(), `pocketbase version ${version}`);
    const journal = await sbx.run(['journalctl', '-u', unit, '-o', 'cat', '--no-pager']);
    assert.match(journal, /Server started at http:\/\/127\.0\.0\.1:\d+/, version);
    assert.ok(await sbx.exists(`${dir}/pb_data/data.db`), version);
    await sbx.run(['systemctl', 'stop', unit]);
  }
});

test('poweroff leaves no process behind', async () => {
  const extra = await bootSandbox();
  const pid = extra.pid;
  assert.ok(isAlive(pid));
  await extra.stop();
  assert.equal(isAlive(pid), false);
});
