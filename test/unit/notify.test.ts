import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { send, type Message } from '../../src/host/notify.js';

// Issue #25: app-controlled text reaches chat escaped; a failed delivery does not say why.
const got: Array<{ path: string; body: any }> = [];
let server: http.Server;
let base = '';
before(async () => {
  server = http.createServer((req, res) => {
    let text = '';
    req.on('data', (d: Buffer) => (text += d.toString()));
    req.on('end', () => {
      got.push({ path: req.url ?? '', body: JSON.parse(text || 'null') });
      res.statusCode = req.url === '/missing' ? 404 : 200;
      res.end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
after(() => new Promise<void>((r) => server.close(() => r())));

const message = (detail: string): Message => ({
  event: 'opened',
  kind: 'app_down',
  app: 'shop',
  title: 'shop is down',
  detail,
  incident_id: 1,
  at: '2026-01-01T00:00:00.000Z',
});
const HOSTILE =
  'panic: <!channel> <!here> <@U123> see <https://evil.example/x|the fix> & [click](https://evil.example)';

test('Slack gets app text with its control sequences escaped: no mention, no link', async () => {
  await send({ kind: 'slack', url: `${base}/slack` }, message(HOSTILE), 2000);
  const text: string = got.find((g) => g.path === '/slack')!.body.text;
  for (const seq of ['<!channel>', '<!here>', '<@U123>', '<https://evil.example/x|the fix>'])
    assert.ok(!text.includes(seq), `${seq} reached Slack: ${text}`);
  assert.ok(text.includes('&lt;!channel&gt;'), 'the text is still there, escaped');
  assert.ok(text.includes('&amp;'));
});

test('Discord gets app text with markdown links and mentions escaped', async () => {
  await send({ kind: 'discord', url: `${base}/discord` }, message(HOSTILE), 2000);
  const body = got.find((g) => g.path === '/discord')!.body;
  assert.deepEqual(body.allowed_mentions, { parse: [] });
  assert.ok(!body.content.includes('[click](https'), body.content);
  assert.ok(body.content.includes('\\[click\\]\\(https'), body.content);
});

test('a refused connection and a 404 answer fail with the same words', async () => {
  const closed = http.createServer();
  await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
  const port = (closed.address() as AddressInfo).port;
  await new Promise<void>((r) => closed.close(() => r()));
  const why = (url: string) =>
    send({ kind: 'webhook', url, secret: 's' }, message('x'), 2000).then(
      () => 'sent',
      (e: Error) => e.message,
    );
  const refused = await why(`http://127.0.0.1:${port}/`);
  const missing = await why(`${base}/missing`);
  assert.notEqual(missing, 'sent');
  assert.equal(refused, missing);
});
