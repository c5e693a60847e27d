import type yauzl from 'yauzl';

/** Bounds of what is read: a hook larger than this is read up to it. */
const FILE_MAX = 1024 * 1024;
const TOTAL_MAX = 16 * 1024 * 1024;

/**
 * Calls `visit` with the text of each entry of a zip whose name `wanted` accepts (at most 1 MiB
 * of each, 16 MiB in all). The zip was checked whole (host/zip.ts) when it was kept.
 */
export async function zipTexts(
  file: string,
  wanted: (name: string) => boolean,
  visit: (name: string, text: string) => void,
): Promise<void> {
  // Loaded with the first bundle read, not with the daemon.
  const { default: zipReader } = await import('yauzl');
  return new Promise<void>((resolve, reject) => {
    zipReader.open(file, { lazyEntries: true, decodeStrings: false, validateEntrySizes: true }, (err, zip) => {
      if (err || !zip) return reject(err ?? new Error('not a zip'));
      let total = 0;
      zip.on('error', reject);
      zip.on('end', () => resolve());
      zip.on('entry', (entry: yauzl.Entry) => {
        const raw = entry.fileName as unknown;
        const name = Buffer.isBuffer(raw) ? raw.toString('utf8') : String(raw);
        if (!wanted(name) || total >= TOTAL_MAX) return zip.readEntry();
        zip.openReadStream(entry, (e, stream) => {
          if (e || !stream) return reject(e ?? new Error('unreadable entry'));
          const chunks: Buffer[] = [];
          let n = 0;
          stream.on('data', (c: Buffer) => {
            if (n < FILE_MAX) chunks.push(c);
            n += c.length;
            total += c.length;
          });
          stream.on('error', reject);
          stream.on('end', () => {
            visit(name, Buffer.concat(chunks).subarray(0, FILE_MAX).toString('utf8'));
            zip.readEntry();
          });
        });
      });
      zip.readEntry();
    });
  });
}
