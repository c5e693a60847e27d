import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac, timingSafeEqual } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { SMTPServer } from 'smtp-server';
import { setupPocketdHost, type PocketdHost } from '../support/host.js';
import https from 'node:https';
import tls from 'node:tls';
import { until } from '../support/until.js';

/**
 * Alerts from the seat of the people told: a real webhook receiver that checks
 * the signature, a real SMTP server, an app down and up again through systemd.
 */
const SECRET = 'a-webhook-secret-of-32-characters!';
let h: PocketdHost;
let receiver: http.Server;
let smtp: SMTPServer;
const got: Array<{ path: string; body: any; signed: boolean }> = [];
const mails: Array<{ to: string[]; text: string }> = [];
let hook = '';
let smtpPort = 0;

before(async () => {
  receiver = http.createServer((req, res) => {
    if (req.url === '/slow') return; // never answers
    let body = '';
    req.on('data', (c: Buffer) => {
      body += c.toString();
    });
    req.on('end', () => {
      const ts = String(req.headers['x-pocketd-timestamp'] ?? '');
      const want = `sha256=${createHmac('sha256', SECRET).update(`${ts}.${body}`).digest('hex')}`;
      const sig = Buffer.from(String(req.headers['x-pocketd-signature'] ?? ''));
      const signed =
        sig.length === want.length &&
        timingSafeEqual(sig, Buffer.from(want)) &&
        Math.abs(Date.now() / 1000 - Number(ts)) < 300;
      let parsed: any = body;
      try {
        parsed = JSON.parse(body);
      } catch {
        /* ntfy sends text */
      }
      got.push({ path: req.url ?? '', body: parsed, signed });
      res.writeHead(200).end('ok');
    });
  });
  await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
  hook = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`;
  smtp = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS', 'AUTH'],
    logger: false,
    onData(stream, session, cb) {
      let text = '';
      stream.on('data', (c: Buffer) => {
        text += c.toString();
      });
      stream.on('end', () => {
        mails.push({ to: session.envelope.rcptTo.map((r) => r.address), text });
        cb();
      });
    },
  });
  await new Promise<void>((r) => smtp.listen(0, '127.0.0.1', r));
  smtpPort = (smtp.server.address() as AddressInfo).port;
  h = await setupPocketdHost({
    settings: {
      base_domain: 'apps.test',
      caddy_http_only: 'false',
      caddy_tls: 'internal',
      health_interval_seconds: '1',
      alert_after: '2',
      health_restart_after: '0',
      alert_retry_ms: '3000',
      alert_retry_max: '3',
      alert_timeout_ms: '2000',
    },
  });
});
after(async () => {
  await h?.stop();
  receiver?.closeAllConnections();
  await new Promise((r) => receiver?.close(r));
  await new Promise((r) => smtp?.close(() => r(undefined)));
});

const channelIds: Record<string, number> = {};

/** An HTTPS request to Caddy with the domain as SNI and Host (Caddy's internal CA is not trusted here). */
function httpsGet(port: number, host: string, path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = https.request(
      {
        host: '127.0.0.1',
        port,
        path,
        servername: host,
        headers: { host },
        rejectUnauthorized: false,
        timeout: 10_000,
      },
      (res) => {
        let body = '';
        res.on('data', (c: Buffer) => {
          body += c.toString();
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      },
    );
    req.on('error', reject);
    req.end();
  });
}

test('channels: every kind is added with one request; secrets are never in an answer; bad input is a 422 naming the field', async () => {
  const add = async (body: Record<string, unknown>) => {
    const r = await h.api('POST', '/api/alerts/channels', body);
    assert.equal(r.status, 201, JSON.stringify(r.body));
    channelIds[String(body.name)] = r.body.channel.id;
    return r.body;
  };
  await add({ kind: 'webhook', name: 'hook', url: `${hook}/hook?token=abc`, secret: SECRET });
  await add({ kind: 'slack', name: 'slack', url: `${hook}/slack/T000/B000/XXXX` });
  await add({ kind: 'discord', name: 'discord', url: `${hook}/discord/123/abc` });
  await add({ kind: 'ntfy', name: 'ntfy', url: `${hook}/ntfy-topic` });
  await add({
    kind: 'email',
    name: 'mail',
    host: '127.0.0.1',
    port: smtpPort,
    from: 'pocketd@example.com',
    to: ['ops@example.com'],
  });
  const generated = await add({ kind: 'webhook', name: 'generated', url: `${hook}/generated`, alert_on: ['*'] });
  assert.match(generated.secret, /^[A-Za-z0-9_-]{43}$/, 'a generated secret is shown once');
  // alert_on: the one request also made a rule for every app.
  assert.deepEqual(
    ((await h.api('GET', '/api/alerts/rules')).body.rules as any[]).map((r) => [r.channel_id, r.kinds, r.app]),
    [[channelIds.generated, ['*'], null]],
  );
  const listed = JSON.stringify((await h.api('GET', '/api/alerts/channels')).body);
  for (const secret of [SECRET, 'token=abc', 'XXXX', 'ntfy-topic', generated.secret])
    assert.ok(!listed.includes(secret), `${secret} is not in the list`);
  assert.match(listed, /"target":"http:\/\/127\.0\.0\.1:\d+\/\*{8}"/);

  for (const [body, field] of [
    [{ kind: 'webhook', name: 'bad', url: 'ftp://example.com/x' }, 'url'],
    [{ kind: 'slack', name: 'bad', url: 'https://user:pw@hooks.example.com/x' }, 'url'],
    [{ kind: 'email', name: 'bad', host: 'mail.example.com', from: 'nope', to: ['ops@example.com'] }, 'from'],
    [{ kind: 'pager', name: 'bad', url: 'https://example.com' }, 'kind'],
    [{ kind: 'ntfy', name: 'bad\nname', url: 'https://ntfy.sh/x' }, 'name'],
  ] as const) {
    const r = await h.api('POST', '/api/alerts/channels', body);
    assert.equal(r.status, 422, JSON.stringify(r.body));
    assert.ok(
      r.body.error.fields.some((f: any) => f.field === field),
      `${field} named: ${JSON.stringify(r.body.error.fields)}`,
    );
  }
  // Nor has the audit log, which keeps what each request asked.
  const audit = JSON.stringify(
    (await h.api('GET', `/api/audit?route=${encodeURIComponent('/api/alerts/channels')}&limit=50`)).body,
  );
  assert.match(audit, /"kind\\":\\"slack\\"/);
  for (const secret of [SECRET, 'token=abc', 'XXXX', 'ntfy-topic'])
    assert.ok(!audit.includes(secret), `${secret} is not in the audit log`);
  // From a deploy or read token's seat: channels, rules and messages are the admin's alone.
  // An app's token is made only for an app that exists (it belongs to that app's identity).
  const seat = await h.api('POST', '/api/apps', { name: 'seat' });
  assert.equal((await h.waitDeployment(seat.body.deployment_id)).status, 'success');
  for (const scope of ['app:seat:deploy', 'app:seat:read']) {
    const made = await h.api('POST', '/api/tokens', { name: `seat-${scope.split(':')[2]}`, scope });
    assert.equal(made.status, 201, JSON.stringify(made.body));
    const t = made.body.token as string;
    for (const [method, path, body] of [
      ['GET', '/api/alerts/channels', undefined],
      ['POST', '/api/alerts/channels', { kind: 'webhook', name: 'mine', url: `${hook}/steal` }],
      ['POST', `/api/alerts/channels/${channelIds.hook}/test`, undefined],
      ['GET', '/api/alerts/outbox', undefined],
      ['POST', '/api/alerts/rules', { kinds: ['*'], channel_id: channelIds.hook }],
    ] as const) {
      assert.equal((await h.api(method, path, body, t)).status, 403, `${scope} ${method} ${path}`);
    }
  }
  // The daemon's journal has no secret either.
  const journal = await h.sbx.run(['journalctl', '-u', 'pocketd', '--no-pager']);
  assert.ok(!journal.includes(SECRET) && !journal.includes('XXXX'));
});

test('a test message: signed webhook; a slow channel times out and says so', async () => {
  const r = await h.api('POST', `/api/alerts/channels/${channelIds.hook}/test`);
  assert.deepEqual({ status: r.body.status, error: r.body.error }, { status: 'sent', error: null });
  const m = got.find((g) => g.path.startsWith('/hook') && g.body.event === 'test');
  assert.ok(m?.signed, 'the receiver checked the signature');
  const slow = (
    await h.api('POST', '/api/alerts/channels', { kind: 'webhook', name: 'slow', url: `${hook}/slow`, secret: SECRET })
  ).body.channel.id;
  const t = await h.api('POST', `/api/alerts/channels/${slow}/test`);
  assert.equal(t.body.status, 'failed');
  // Silence, a refusal and a non-2xx answer read the same (issue #25: no port scan through a test).
  assert.equal(t.body.error, 'not delivered: the channel did not answer with 2xx');
  assert.equal((await h.api('DELETE', `/api/alerts/channels/${slow}`)).status, 204);
});

test('an app down until it counts as down: exactly one alert per channel, then one recovery', async () => {
  // A port nobody listens on (it was free a moment ago).
  const probe = http.createServer();
  await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
  const closed = (probe.address() as AddressInfo).port;
  await new Promise((r) => probe.close(r));
  const dead = (
    await h.api('POST', '/api/alerts/channels', {
      kind: 'webhook',
      name: 'dead',
      url: `http://127.0.0.1:${closed}/never`,
      secret: SECRET,
    })
  ).body.channel.id;
  channelIds.dead = dead;
  for (const id of Object.values(channelIds))
    assert.equal(
      (await h.api('POST', '/api/alerts/rules', { kinds: ['app_down'], app: null, channel_id: id })).status,
      201,
    );
  assert.equal((await h.api('POST', '/api/alerts/rules', { kinds: ['nope'], channel_id: dead })).status, 422);
  const c = await h.api('POST', '/api/apps', { name: 'watched' });
  assert.equal((await h.waitDeployment(c.body.deployment_id)).status, 'success');
  // With base_domain set, an app with no domain of its own is served at <name>.<base_domain>, and that name is its own.
  const served = await httpsGet(h.sbx.caddy.httpsPort, 'watched.apps.test', '/api/health');
  assert.equal(served.status, 200, served.body);
  const claim = await h.api('POST', '/api/validate/app', { name: 'other', domains: ['watched.apps.test'] });
  assert.ok(
    claim.body.errors.some((e: any) => e.field === 'domains.0' && e.code === 'DOMAIN_TAKEN'),
    JSON.stringify(claim.body.errors),
  );
  await sleep(2500);
  assert.equal(got.filter((g) => g.body?.app === 'watched').length, 0, 'a healthy app alerts nobody');

  // Down behind pocketd's back: the unit stopped while it should run.
  await h.sbx.run(['systemctl', 'stop', 'pb-watched.service']);
  const opened = await until(
    async () =>
      got.filter(
        (g) => g.body?.event === 'opened' || /\[pocketd\] Alert/.test(String(g.body?.text ?? g.body?.content ?? '')),
      ),
    (x) => x.length >= 4,
  );
  const mailOutbox = async () =>
    ((await h.api('GET', '/api/alerts/outbox?limit=100')).body.messages as any[]).filter(
      (m) => m.channel_id === channelIds.mail,
    );
  await until(
    async () => ({ mails: mails.length, outbox: await mailOutbox() }),
    (x) => x.mails >= 1,
  );
  await sleep(3000);
  const per = (path: string) => got.filter((g) => g.path.startsWith(path));
  assert.equal(per('/hook').filter((g) => g.body.event === 'opened').length, 1, 'one alert on the webhook');
  assert.ok(
    per('/hook')
      .filter((g) => g.body.event === 'opened')
      .every((g) => g.signed),
  );
  assert.equal(per('/slack').filter((g) => /Alert: watched is down/.test(g.body.text)).length, 1);
  assert.equal(per('/discord').filter((g) => /Alert: watched is down/.test(g.body.content)).length, 1);
  assert.equal(per('/ntfy-topic').length, 1);
  assert.equal(mails.filter((m) => /Alert: watched is down/.test(m.text)).length, 1);
  assert.ok(opened.length >= 4);
  const incidents = (await h.api('GET', '/api/alerts/incidents?open=true')).body.incidents;
  assert.deepEqual(
    incidents.map((i: any) => [i.kind, i.app]),
    [['app_down', 'watched']],
  );

  await h.sbx.run(['systemctl', 'start', 'pb-watched.service']);
  await until(
    async () => per('/hook').filter((g) => g.body.event === 'resolved').length,
    (n) => n >= 1,
  );
  await until(
    async () => mails.filter((m) => /Resolved: watched is up again/.test(m.text)).length,
    (n) => n >= 1,
  );
  await sleep(2500);
  assert.equal(per('/hook').filter((g) => g.body.event === 'resolved').length, 1, 'one recovery');
  assert.equal(per('/hook').filter((g) => g.body.event === 'opened').length, 1, 'still one alert');
  assert.equal(per('/slack').filter((g) => /Resolved: watched is up again/.test(g.body.text)).length, 1);
  assert.equal((await h.api('GET', '/api/alerts/incidents?open=true')).body.incidents.length, 0);
});

test('a failing channel is tried again with a longer wait, also across a restart of pocketd, then recorded as failed with the reason', async () => {
  const deadOnes = async () =>
    ((await h.api('GET', '/api/alerts/outbox?limit=100')).body.messages as any[]).filter(
      (m) => m.channel_id === channelIds.dead,
    );
  const pending = await until(deadOnes, (ms) => ms.some((m) => m.status === 'pending' && m.attempts >= 1));
  const m = pending.find((x) => x.status === 'pending' && x.attempts >= 1)!;
  assert.equal(m.last_error, 'not delivered: the channel did not answer with 2xx');
  assert.ok(Date.parse(m.next_at) > Date.now() - 1000, 'a next try is planned');
  await h.killDaemon();
  const done = await until(deadOnes, (ms) => ms.find((x) => x.id === m.id)?.status === 'failed', 60_000);
  const failed = done.find((x) => x.id === m.id)!;
  assert.equal(failed.attempts, 3);
  assert.equal(failed.next_at, null);
  assert.equal(failed.last_error, 'not delivered: the channel did not answer with 2xx');
  // The other channels were not held up by it.
  assert.ok(
    ((await h.api('GET', '/api/alerts/outbox?limit=100')).body.messages as any[])
      .filter((x) => x.channel_id === channelIds.hook)
      .every((x) => x.status === 'sent'),
  );
});

test("each domain's certificate: what Caddy serves, from a real handshake with Caddy's internal CA, in GET /api/apps/:name", async () => {
  // The test's own handshake.
  const seen = await new Promise<tls.PeerCertificate>((resolve, reject) => {
    const s = tls.connect(
      { host: '127.0.0.1', port: h.sbx.caddy.httpsPort, servername: 'watched.apps.test', rejectUnauthorized: false },
      () => {
        resolve(s.getPeerCertificate());
        s.destroy();
      },
    );
    s.on('error', reject);
  });
  assert.match(String(seen.issuer.CN), /Caddy Local Authority/);
  const certs = await until(
    async () => (await h.api('GET', '/api/apps/watched')).body.certificates as any[],
    (c) => c.some((x) => x.domain === 'watched.apps.test' && x.fingerprint256 === seen.fingerprint256),
    40_000,
  );
  const c = certs.find((x) => x.domain === 'watched.apps.test');
  assert.match(c.issuer, /Caddy Local Authority/);
  assert.equal(c.error, null);
  assert.ok(Date.parse(c.valid_until) > Date.now() && Date.parse(c.valid_from) <= Date.now());
  assert.equal(c.valid_until, new Date(seen.valid_to).toISOString());
  // Caddy's internal leaf certificates last 12 hours and are renewed long before: fresh, they are no incident.
  const open = (await h.api('GET', '/api/alerts/incidents?open=true')).body.incidents as any[];
  assert.deepEqual(
    open.filter((i) => i.kind === 'certificate'),
    [],
  );
});
