import { createAudit } from '../../src/core/auth/audit.js';
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import pino from 'pino';
import type { OpenAPIHono } from '@hono/zod-openapi';
import { createApi } from '../../src/api/app.js';
import type { ApiEnv } from '../../src/api/context.js';
import { registerDeployRoutes } from '../../src/api/routes/deploy.js';
import { createAuthService } from '../../src/core/auth/auth.js';
import { createApps } from '../../src/core/apps/apps.js';
import type { Changes } from '../../src/core/changes/changes.js';
import { inProcess, type InProcess } from '../support/fake-host.js';
import { buildZip } from '../support/zip.js';

// Issue #25: an upload is streamed to disk, bounded while it is read; uploads read at once are bounded.
let h: InProcess;
let api: OpenAPIHono<ApiEnv>;
let token = '';
const MiB = 1024 * 1024;
before(async () => {
  h = await inProcess();
  Object.assign(h.config, {
    bundle_max_bytes: 64 * MiB,
    bundle_max_unpacked_bytes: 128 * MiB,
    bundle_max_ratio: 100_000,
  });
  const made = await createApps(h.deps).create({ name: 'shop', domains: [], env: {} }, 't');
  assert.equal((await h.deps.deployments.wait(made.deployment_id, 10_000)).status, 'success');
  const auth = createAuthService(h.db, { sessionDays: 1, maxFailures: 5, lockSeconds: 60 });
  token = (await auth.createApiToken('t', 'admin', 1, null)).token;
  api = createApi({
    audit: createAudit(h.db),
    auth,
    log: pino({ level: 'silent' }),
    bodyLimitBytes: 64 * 1024,
    uploadLimitBytes: h.config.bundle_max_bytes,
    startedAt: Date.now(),
    extra: [(a) => registerDeployRoutes(a, { changes: {} as Changes, bundles: h.deps.bundles })],
  });
});
after(() => h.close());

const BOUNDARY = 'xpocketdboundary';
/** A multipart body given as it is read, in 256 KiB views of `zip` (no copies); `hold` delays the end. */
function multipart(zip: Buffer, opts: { hold?: Promise<void> } = {}) {
  const head = Buffer.from(
    `--${BOUNDARY}\r\nContent-Disposition: form-data; name="notes"\r\n\r\nbig one\r\n` +
      `--${BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="b.zip"\r\nContent-Type: application/zip\r\n\r\n`,
  );
  const tail = Buffer.from(`\r\n--${BOUNDARY}--\r\n`);
  const parts: Buffer[] = [head];
  for (let i = 0; i < zip.length; i += 256 * 1024) parts.push(zip.subarray(i, i + 256 * 1024));
  parts.push(tail);
  let pulled = 0;
  const body = new ReadableStream<Uint8Array>({
    async pull(ctl) {
      const next = parts.shift();
      if (!next) {
        await opts.hold;
        ctl.close();
        return;
      }
      pulled += next.length;
      ctl.enqueue(new Uint8Array(next.buffer, next.byteOffset, next.length));
    },
  });
  return { body, pulled: () => pulled };
}
const upload = (body: ReadableStream<Uint8Array>) =>
  api.request('/api/apps/shop/bundles', {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': `multipart/form-data; boundary=${BOUNDARY}` },
    body,
    duplex: 'half',
  } as RequestInit);

const ZIP = buildZip([{ name: 'pb_public/index.html', data: '<h1>hi</h1>' }]);
/** A stored (not deflated) entry of `mib` MiB: a zip as large as it looks. */
const bigZip = (mib: number) =>
  buildZip([
    { name: 'pb_public/index.html', data: '<h1>hi</h1>' },
    { name: 'pb_public/big.bin', data: Buffer.alloc(mib * MiB, 7), deflate: false },
  ]);

test('a 48 MiB upload is written to disk as it arrives, not held in memory', async () => {
  const zip = bigZip(48);
  const base = process.memoryUsage().arrayBuffers;
  let peak = 0;
  const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().arrayBuffers - base)), 2);
  const m = multipart(zip);
  const r = await upload(m.body);
  clearInterval(sampler);
  assert.equal(r.status, 201, await r.clone().text());
  const b = (await r.json()) as { size_bytes: number; notes: string };
  assert.ok(b.size_bytes >= 48 * MiB);
  assert.equal(b.notes, 'big one');
  assert.ok(peak < 16 * MiB, `buffers grew by ${(peak / MiB).toFixed(1)} MiB during the upload`);
});

test('an upload without Content-Length over the bound is refused while it is read', async () => {
  const m = multipart(bigZip(200));
  const r = await upload(m.body);
  assert.equal(r.status, 413);
  assert.ok(m.pulled() < 70 * MiB, `read ${(m.pulled() / MiB).toFixed(0)} MiB of a 200 MiB body`);
});

test('uploads read at once are bounded; beyond the waiting room one more is a 429', async () => {
  let open!: () => void;
  const hold = new Promise<void>((r) => (open = r));
  // upload_concurrency 2 read, 16 wait: the 19th is refused at once.
  const pending = Array.from({ length: 18 }, () => upload(multipart(ZIP, { hold }).body));
  await new Promise((r) => setTimeout(r, 100));
  const r = await upload(multipart(ZIP).body);
  assert.equal(r.status, 429);
  assert.equal(((await r.json()) as { error: { code: string } }).error.code, 'TOO_MANY_UPLOADS');
  open();
  const done = await Promise.all(pending);
  assert.deepEqual(
    done.map((x) => x.status),
    Array<number>(18).fill(201),
  );
});
