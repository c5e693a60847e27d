import type { PocketdHost } from './host.js';
import type { RawEntry } from './zip.js';

/**
 * What tests put into a real PocketBase app: hooks and a migration written for
 * both hooks APIs (0.22's echo context `c` and `Dao(db)`, 0.23+'s request event
 * `e` and `app.save`), so one bundle serves every pinned version.
 *
 * PocketBase runs each route handler in a pooled VM from the handler's own
 * source: a handler reaches nothing declared outside it, and state shared
 * between requests lives in `$app.store()`.
 */
export const TEST_HOOKS = `// pocketd's test hooks (test/support/pb-app.ts)
// A slow start, when the app's environment asks for one (an app with much to load).
if ($os.getenv('PB_TEST_START_DELAY_MS')) sleep(Number($os.getenv('PB_TEST_START_DELAY_MS')));

// Prints msg to stdout, or to stderr with stream=err, n times.
routerAdd('GET', '/_test/print', (c) => {
  const q = (n) => (typeof c.queryParam === 'function' ? c.queryParam(n) : c.request.url.query().get(n));
  const n = Math.min(1000000, Number(q('n') || '1'));
  const len = Math.min(100000, Number(q('len') || '0'));
  const msg = (q('msg') || 'test line') + 'x'.repeat(Math.max(0, len - (q('msg') || 'test line').length));
  for (let i = 0; i < n; i++) {
    const line = n > 1 ? msg + ' ' + i : msg;
    if (q('stream') === 'err') console.error(line);
    else console.log(line);
  }
  return c.json(200, { printed: n });
});

// From now on /api/health answers 500 (see the middleware below).
routerAdd('GET', '/_test/sick', (c) => {
  $app.store().set('pocketd_test_sick', true);
  return c.json(200, { sick: true });
});

// Holds mb more MiB of touched memory.
routerAdd('GET', '/_test/grow', (c) => {
  const q = (n) => (typeof c.queryParam === 'function' ? c.queryParam(n) : c.request.url.query().get(n));
  const mb = Math.min(512, Number(q('mb') || '32'));
  const held = $app.store().get('pocketd_test_ballast') || [];
  const chunk = new Uint8Array(mb * 1024 * 1024);
  chunk.fill(1);
  held.push(chunk);
  $app.store().set('pocketd_test_ballast', held);
  return c.json(200, { held_mb: held.length * mb });
});

if (typeof $apis.requireSuperuserAuth === 'function') {
  routerUse((e) => {
    if (e.request.url.path === '/api/health' && $app.store().get('pocketd_test_sick'))
      return e.json(500, { message: 'sick on purpose', status: 500, data: {} });
    return e.next();
  });
} else {
  routerUse((next) => (c) => {
    if (c.request().url.path === '/api/health' && $app.store().get('pocketd_test_sick'))
      return c.json(500, { code: 500, message: 'sick on purpose', data: {} });
    return next(c);
  });
}
`;

/** A public `notes` collection (field `text`: anyone lists and creates). */
export const NOTES_MIGRATION = `// pocketd's test collection (test/support/pb-app.ts)
migrate(
  (x) => {
    const props = { type: 'base', name: 'notes', listRule: '', viewRule: '', createRule: '' };
    if (typeof x.save === 'function') {
      x.save(new Collection(Object.assign({ fields: [{ name: 'text', type: 'text' }] }, props)));
    } else {
      return Dao(x).saveCollection(new Collection(Object.assign({ schema: [{ name: 'text', type: 'text' }] }, props)));
    }
  },
  () => {},
);
`;

export const testHooksEntry = (): RawEntry => ({ name: 'pb_hooks/pocketd-test.pb.js', data: TEST_HOOKS });
export const notesEntry = (): RawEntry => ({ name: 'pb_migrations/1700000000_notes.js', data: NOTES_MIGRATION });

/**
 * Puts the test hooks and the notes collection into an app the way its owner
 * could by hand (files written as the app's user), then restarts it through the
 * API so PocketBase loads them. Tests that are about bundles use bundles instead.
 */
export async function seedApp(h: PocketdHost, name: string): Promise<void> {
  const dir = `/var/lib/pocketd-apps/${name}`;
  const user = (await h.sbx.run(['stat', '-c', '%U', dir])).trim();
  for (const e of [testHooksEntry(), notesEntry()]) {
    await h.sbx.run(['sh', '-c', 'cat > "$0"', `${dir}/${e.name}`], { user, input: String(e.data) });
  }
  const r = await h.api('POST', `/api/apps/${name}/restart`);
  if (r.status !== 200 || r.body.state !== 'running') throw new Error(`restart of ${name}: ${JSON.stringify(r.body)}`);
  const port = r.body.port as number;
  for (let i = 0; i < 100; i++) {
    const res = await fetch(`http://127.0.0.1:${port}/api/collections/notes/records`).catch(() => null);
    if (res?.ok) return;
    await new Promise((ok) => setTimeout(ok, 100));
  }
  throw new Error(`${name} did not load the test collection`);
}

/** The version the app's running process says it is: its executable asked, in the sandbox. */
export async function runningVersion(h: PocketdHost, name: string): Promise<string> {
  const pid = (await h.api('GET', `/api/apps/${name}`)).body.runtime.main_pid as number;
  const said = await h.sbx.run([`/proc/${pid}/exe`, '--version']);
  const m = /version (\S+)/.exec(said);
  if (!m) throw new Error(`the executable of ${name} said ${said}`);
  return m[1]!;
}

/** Records of the notes collection, straight from the app's port. */
export function notesOf(port: number) {
  const base = `http://127.0.0.1:${port}/api/collections/notes/records`;
  return {
    async add(text: string) {
      const r = await fetch(base, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ text }),
      });
      if (!r.ok) throw new Error(`adding a note: ${r.status} ${await r.text()}`);
    },
    async list(): Promise<string[]> {
      const r = await fetch(`${base}?perPage=500`);
      if (!r.ok) throw new Error(`listing notes: ${r.status} ${await r.text()}`);
      return ((await r.json()) as { items: Array<{ text: string }> }).items.map((n) => n.text);
    },
  };
}
