import type { MiddlewareHandler } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import type { ApiEnv } from '../context.js';
import { envelope } from '../errors.js';

const UPLOAD_PATH = /^\/api\/apps\/[^/]+\/bundles\/?$/;
const READ_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * Bounds every request body (413 past it). A bundle upload is streamed to disk by its handler,
 * which bounds it as it reads: hono's bodyLimit would hold a body sent without Content-Length
 * whole in memory. A declared length over the upload bound is refused here before anything is read.
 */
export function bodyLimits(opts: { jsonBytes: number; uploadBytes?: number | undefined }): MiddlewareHandler<ApiEnv> {
  const limit = (max: number) =>
    bodyLimit({
      maxSize: max,
      onError: (c) => envelope(c as never, 413, 'PAYLOAD_TOO_LARGE', `the body is larger than ${max} bytes`),
    });
  const jsonLimit = limit(opts.jsonBytes);
  const uploadMax = (opts.uploadBytes ?? opts.jsonBytes) + 64 * 1024;
  return (c, next) => {
    if (READ_METHODS.has(c.req.method)) return next();
    if (c.req.method === 'POST' && UPLOAD_PATH.test(c.req.path)) {
      const declared = Number(c.req.header('content-length') ?? '0');
      return declared > uploadMax
        ? Promise.resolve(envelope(c as never, 413, 'PAYLOAD_TOO_LARGE', `the body is larger than ${uploadMax} bytes`))
        : next();
    }
    return jsonLimit(c, next);
  };
}
