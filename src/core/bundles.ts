import { createHash, randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, readdir, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Config } from '../shared/config.js';
import type { Database } from '../db/database.js';
import { PocketdError, notFound } from '../shared/errors.js';
import { appStore } from './apps/store.js';
import { readZip, type ZipLimits } from '../shared/zip.js';
import { nowIso } from './clock.js';
import type { EventBus } from './events.js';
import { createGate } from '../shared/gate.js';

/** An upload written to the staging file, not yet checked or kept. */
export interface Staged {
  file: string;
  size: number;
  sha256: string;
}

export const BUNDLE_DIRS = ['pb_public', 'pb_hooks', 'pb_migrations'] as const;

export interface Bundle {
  number: number;
  size_bytes: number;
  unpacked_bytes: number;
  files: number;
  dirs: string[];
  sha256: string;
  notes: string | null;
  actor: string;
  created_at: string;
}

/**
 * App bundles: zips of pb_public/, pb_hooks/ and pb_migrations/, checked whole
 * before they are kept, stored as numbered versions under the data directory.
 */
export function createBundles(deps: { config: Config; db: Database; events: EventBus }) {
  const { config, db } = deps;
  const store = appStore(db);
  const limits: ZipLimits = {
    maxUnpackedBytes: config.bundle_max_unpacked_bytes,
    maxFiles: config.bundle_max_files,
    maxRatio: config.bundle_max_ratio,
    topDirs: BUNDLE_DIRS,
  };
  const dirOf = (app: string) => path.join(config.bundles_dir, app);
  const fileOf = (app: string, n: number) => path.join(dirOf(app), `${n}.zip`);

  const uploads = createGate({
    max: config.upload_concurrency,
    waitMax: 8 * config.upload_concurrency,
    code: 'TOO_MANY_UPLOADS',
    what: 'bundle uploads',
  });

  /** Writes an upload to a staging file as it arrives; the size bound is enforced while reading. */
  async function stage(app: string, body: Readable): Promise<Staged> {
    await mkdir(dirOf(app), { recursive: true, mode: 0o700 });
    const file = path.join(dirOf(app), `.upload-${randomBytes(6).toString('hex')}`);
    const hash = createHash('sha256');
    let size = 0;
    const meter = new Transform({
      transform(chunk: Buffer, _enc, cb) {
        size += chunk.length;
        if (size > config.bundle_max_bytes) {
          cb(new PocketdError('PAYLOAD_TOO_LARGE', `the bundle is larger than ${config.bundle_max_bytes} bytes`));
          return;
        }
        hash.update(chunk);
        cb(null, chunk);
      },
    });
    try {
      await pipeline(body, meter, createWriteStream(file, { flags: 'wx', mode: 0o600 }));
    } catch (err) {
      await rm(file, { force: true });
      throw err;
    }
    return { file, size, sha256: hash.digest('hex') };
  }

  /** Checks a staged upload whole and keeps it as the app's next number; the staging file is gone either way. */
  async function keep(app: string, staged: Staged, notes: string | null, actor: string): Promise<Bundle> {
    try {
      await store.require(app);
      const summary = await readZip(staged.file, limits);
      // The number is taken and the row written in one transaction, so two uploads never share one.
      const bundle = await db.transaction().execute(async (trx) => {
        const last = await trx
          .selectFrom('bundles')
          .select((eb) => eb.fn.max('number').as('n'))
          .where('app', '=', app)
          .executeTakeFirst();
        const number = Number(last?.n ?? 0) + 1;
        const row = {
          app,
          number,
          size_bytes: staged.size,
          unpacked_bytes: summary.unpacked_bytes,
          files: summary.files,
          dirs: JSON.stringify(summary.dirs),
          sha256: staged.sha256,
          notes,
          actor,
          created_at: nowIso(),
        };
        await trx.insertInto('bundles').values(row).execute();
        await rename(staged.file, fileOf(app, number));
        return row;
      });
      deps.events.publish('bundle.uploaded', app, { number: bundle.number, size_bytes: staged.size });
      const { app: _app, ...rest } = bundle;
      return { ...rest, dirs: summary.dirs };
    } finally {
      await discard(staged);
    }
  }

  const discard = (staged: Staged) => rm(staged.file, { force: true });

  async function list(app: string): Promise<Bundle[]> {
    await store.require(app);
    const rows = await db.selectFrom('bundles').selectAll().where('app', '=', app).orderBy('number', 'desc').execute();
    return rows.map(({ id: _id, app: _app, ...r }) => ({ ...r, dirs: JSON.parse(r.dirs) as string[] }));
  }

  async function get(app: string, n: number): Promise<Bundle & { file: string }> {
    const r = await db
      .selectFrom('bundles')
      .selectAll()
      .where('app', '=', app)
      .where('number', '=', n)
      .executeTakeFirst();
    if (!r) throw notFound('bundle', `${app}/${n}`);
    const { id: _id, app: _app, ...rest } = r;
    return { ...rest, dirs: JSON.parse(r.dirs) as string[], file: fileOf(app, n) };
  }

  /** Checks a kept bundle again before it is deployed (the file on disk is not trusted either). */
  async function check(app: string, n: number): Promise<void> {
    await readZip((await get(app, n)).file, limits);
  }

  /** Uploads a stop of the daemon cut short leave `.upload-*` files; they go at start. */
  async function removePartialUploads(): Promise<void> {
    const apps = await readdir(config.bundles_dir).catch(() => [] as string[]);
    for (const app of apps) {
      for (const f of await readdir(dirOf(app)).catch(() => [] as string[])) {
        if (f.startsWith('.upload-')) await rm(path.join(dirOf(app), f), { force: true });
      }
    }
  }

  return {
    /** The largest multipart body of an upload: the bundle and 64 KiB of envelope and notes. */
    uploadLimitBytes: config.bundle_max_bytes + 64 * 1024,
    stage,
    keep,
    discard,
    /** A turn to read an upload: at most upload_concurrency at once, a few more wait, then 429. */
    enterUpload: () => uploads.enter(),
    require: (app: string) => store.require(app).then(() => undefined),
    list,
    get,
    check,
    removePartialUploads,
    removeAll: (app: string) => rm(dirOf(app), { recursive: true, force: true }),
  };
}

export type Bundles = ReturnType<typeof createBundles>;
