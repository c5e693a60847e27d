import { createWriteStream } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type yauzl from 'yauzl';
import { PocketdError } from './errors.js';

export interface ZipLimits {
  maxUnpackedBytes: number;
  maxFiles: number;
  /** Largest uncompressed/compressed ratio of any entry (zip bombs). */
  maxRatio: number;
  /** The first path segment of every entry must be one of these. */
  topDirs: readonly string[];
}

export interface ZipSummary {
  files: number;
  unpacked_bytes: number;
  dirs: string[];
}

const S_IFMT = 0o170000;
const S_IFREG = 0o100000;
const S_IFDIR = 0o040000;

const refuse = (code: string, message: string) =>
  new PocketdError('VALIDATION_FAILED', `the bundle was refused: ${message}`, {
    fields: [{ field: 'file', code, message }],
  });

/** Why an entry name is unsafe, or null. Names are checked as written, before any normalising. */
export function unsafeName(name: string): string | null {
  if (/[\x00-\x1f\x7f\\]/.test(name)) return 'holds a control character or a backslash';
  if (name.startsWith('/') || /^[A-Za-z]:/.test(name)) return 'is an absolute path';
  const parts = name.replace(/\/$/, '').split('/');
  if (parts.some((p) => p === '..')) return 'climbs out with ..';
  if (parts.some((p) => p === '' || p === '.')) return 'has an empty or . segment';
  if (name.length > 1024 || parts.some((p) => Buffer.byteLength(p) > 255)) return 'is too long';
  return null;
}

async function open(file: string): Promise<yauzl.ZipFile> {
  // Loaded with the first zip read: most daemons never read one.
  const { default: zipReader } = await import('yauzl');
  return new Promise((resolve, reject) => {
    zipReader.open(
      file,
      { lazyEntries: true, decodeStrings: false, validateEntrySizes: true, strictFileNames: false },
      (err, zip) => {
        if (err || !zip) reject(refuse('NOT_A_ZIP', `not a readable zip file (${err?.message ?? 'unknown error'})`));
        else resolve(zip);
      },
    );
  });
}

/**
 * Reads a zip's central directory and refuses it whole if any entry is unsafe:
 * traversal, absolute paths, symlinks or device files, duplicates, a top-level
 * entry outside `topDirs`, too many files, too many bytes, or a bomb's ratio.
 * With `extractTo`, writes the files there (sizes checked again while streaming).
 */
export async function readZip(file: string, limits: ZipLimits, extractTo?: string): Promise<ZipSummary> {
  // Checked whole before one file is written.
  const summary = await walk(file, limits);
  return extractTo ? walk(file, limits, extractTo) : summary;
}

async function walk(file: string, limits: ZipLimits, extractTo?: string): Promise<ZipSummary> {
  const zip = await open(file);
  const seen = new Set<string>();
  const dirs = new Set<string>();
  let files = 0;
  let total = 0;
  try {
    await new Promise<void>((resolve, reject) => {
      zip.on('error', (err: Error) =>
        reject(err instanceof PocketdError ? err : refuse('NOT_A_ZIP', `the zip is damaged (${err.message})`)),
      );
      zip.on('end', () => resolve());
      zip.on('entry', (entry: yauzl.Entry) => {
        void (async () => {
          // Names are decoded here, not by yauzl, so that every unsafe one gets this module's reason.
          const raw = entry.fileName as unknown;
          const name = Buffer.isBuffer(raw) ? raw.toString('utf8') : String(raw);
          const why = unsafeName(name);
          if (why) throw refuse('UNSAFE_ENTRY', `entry ${JSON.stringify(name.slice(0, 200))} ${why}`);
          const key = name.replace(/\/$/, '');
          if (seen.has(key)) throw refuse('DUPLICATE_ENTRY', `entry ${JSON.stringify(name)} appears twice`);
          seen.add(key);
          const mode = (entry.externalFileAttributes >>> 16) & S_IFMT;
          const isDir = name.endsWith('/');
          if (mode !== 0 && mode !== (isDir ? S_IFDIR : S_IFREG))
            throw refuse('UNSAFE_ENTRY', `entry ${JSON.stringify(name)} is a symlink or a special file`);
          const top = key.split('/')[0]!;
          if (!limits.topDirs.includes(top) || (!isDir && !key.includes('/'))) {
            throw refuse(
              'UNEXPECTED_ENTRY',
              `entry ${JSON.stringify(name)} is outside ${limits.topDirs.map((d) => `${d}/`).join(', ')}`,
            );
          }
          dirs.add(top);
          if (entry.isEncrypted()) throw refuse('UNSAFE_ENTRY', `entry ${JSON.stringify(name)} is encrypted`);
          if (!isDir) {
            files += 1;
            total += entry.uncompressedSize;
            if (files > limits.maxFiles) throw refuse('TOO_MANY_FILES', `more than ${limits.maxFiles} files`);
            if (total > limits.maxUnpackedBytes)
              throw refuse('TOO_LARGE_UNPACKED', `more than ${limits.maxUnpackedBytes} bytes unpacked`);
            if (
              entry.uncompressedSize > 1024 * 1024 &&
              entry.uncompressedSize / Math.max(1, entry.compressedSize) > limits.maxRatio
            ) {
              throw refuse(
                'COMPRESSION_RATIO',
                `entry ${JSON.stringify(name)} expands more than ${limits.maxRatio} times (a zip bomb?)`,
              );
            }
          }
          if (extractTo) await extract(zip, entry, path.join(extractTo, key), isDir);
          zip.readEntry();
        })().catch(reject);
      });
      zip.readEntry();
    });
  } finally {
    zip.close();
  }
  if (files === 0) throw refuse('EMPTY_BUNDLE', 'the zip holds no files');
  return { files, unpacked_bytes: total, dirs: [...dirs].sort() };
}

async function extract(zip: yauzl.ZipFile, entry: yauzl.Entry, dest: string, isDir: boolean): Promise<void> {
  if (isDir) {
    await mkdir(dest, { recursive: true, mode: 0o755 });
    return;
  }
  await mkdir(path.dirname(dest), { recursive: true, mode: 0o755 });
  const stream = await new Promise<NodeJS.ReadableStream>((resolve, reject) => {
    zip.openReadStream(entry, (err, s) =>
      err || !s ? reject(refuse('NOT_A_ZIP', `cannot read ${path.basename(dest)}: ${err?.message}`)) : resolve(s),
    );
  });
  let n = 0;
  // yauzl checks the declared size; this stops a stream that lies anyway.
  const count = new Transform({
    transform(chunk: Buffer, _enc, cb) {
      n += chunk.length;
      cb(
        n > entry.uncompressedSize
          ? refuse('TOO_LARGE_UNPACKED', `${path.basename(dest)} is larger than it says`)
          : null,
        chunk,
      );
    },
  });
  // 'wx': never overwrite, never follow a link someone put there.
  await pipeline(stream, count, createWriteStream(dest, { flags: 'wx', mode: 0o644 })).catch((err: unknown) => {
    throw err instanceof PocketdError
      ? err
      : refuse('NOT_A_ZIP', `cannot extract ${path.basename(dest)}: ${(err as Error).message}`);
  });
}
