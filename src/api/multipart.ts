import { Readable } from 'node:stream';
import type { Busboy, BusboyFileStream } from '@fastify/busboy';
import { PocketdError, invalid } from '../shared/errors.js';

export interface UploadForm<T> {
  /** What `onFile` made of the file field, or null when the form had none. */
  file: T | null;
  /** Text fields by name (the first of each). */
  fields: Map<string, string>;
  /** Names of parts the form should not have had (a second file, an unknown file field). */
  extra: string[];
}

/**
 * Reads a multipart/form-data body as it arrives: the one file field is handed to `onFile` as a
 * stream (which writes it somewhere, bounded), text fields are kept (small), nothing is buffered
 * whole. A malformed body is a 422 on `file`.
 *
 * @example
 * const form = await readUpload(c.req.raw, 'file', (s) => bundles.stage(app, s));
 */
export async function readUpload<T>(
  req: Request,
  fileField: string,
  onFile: (stream: Readable) => Promise<T>,
  opts: { maxBytes: number; onDiscard?: (file: T) => Promise<void> },
): Promise<UploadForm<T>> {
  const type = req.headers.get('content-type') ?? '';
  if (!/^multipart\/form-data/i.test(type) || !req.body)
    throw new PocketdError('UNSUPPORTED_MEDIA_TYPE', 'send multipart/form-data with the zip in a field named file');
  const malformed = () =>
    invalid([{ field: fileField, code: 'MALFORMED_MULTIPART', message: 'the multipart body could not be read' }]);
  // Loaded with the first upload: most daemons never take one.
  const { Busboy: Parser } = await import('@fastify/busboy');
  let parser: InstanceType<typeof Busboy>;
  try {
    parser = new Parser({
      headers: { 'content-type': type },
      limits: { files: 4, fields: 8, parts: 12, fieldSize: 8192, fieldNameSize: 100, headerPairs: 20 },
    });
  } catch {
    throw malformed();
  }
  const body = Readable.fromWeb(req.body as never);
  // The whole body is bounded as it is read (parts beside the file are read too, to be skipped).
  let read = 0;
  const tooLarge = new PocketdError('PAYLOAD_TOO_LARGE', `the body is larger than ${opts.maxBytes} bytes`);
  const fields = new Map<string, string>();
  const extra: string[] = [];
  // Set from the parser's callback: a holder, so the checks below see its real type.
  const got: { staged: Promise<T> | null } = { staged: null };

  const done = new Promise<void>((resolve, reject) => {
    parser.on('file', (name: string, stream: BusboyFileStream) => {
      if (name !== fileField || got.staged !== null) {
        extra.push(name);
        stream.resume();
        return;
      }
      const staged = onFile(stream);
      got.staged = staged;
      // A failure of the file (disk full, a bad zip) ends the parse at once; the rest of the body is read and
      // dropped (still bounded by maxBytes below), so the client, still sending, gets the answer instead of a
      // closed connection. A body over the bound is cut off as before.
      staged.catch((err: unknown) => {
        body.unpipe(parser);
        body.resume();
        reject(err instanceof Error ? err : new Error(String(err)));
      });
    });
    parser.on('field', (name: string, value: string) => {
      if (!fields.has(name)) fields.set(name, value);
      else extra.push(name);
    });
    parser.on('finish', resolve);
    body.on('data', (chunk: Buffer) => {
      read += chunk.length;
      if (read > opts.maxBytes) {
        body.destroy();
        reject(tooLarge);
      }
    });
    parser.on('error', () => reject(malformed()));
    body.on('error', () => reject(malformed()));
  });
  body.pipe(parser);
  let file: T | null = null;
  try {
    await done;
    file = got.staged === null ? null : await got.staged;
  } catch (err) {
    if (got.staged !== null && opts.onDiscard)
      await got.staged.then(opts.onDiscard, () => undefined).catch(() => undefined);
    throw err;
  }
  return { file, fields, extra };
}
