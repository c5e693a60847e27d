import type { Context } from 'hono';
import { HTTPException } from 'hono/http-exception';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { ZodError, type core } from 'zod';
import { PocketdError, type FieldIssue } from '../shared/errors.js';
import type { ApiEnv } from './context.js';
import { issueText } from './issue-text.js';

/** Turns zod issues into named fields; `prefix` is the request part (body fields carry none). */
export function zodFields(issues: core.$ZodIssue[], prefix = ''): FieldIssue[] {
  const out: FieldIssue[] = [];
  for (const issue of issues) {
    const base = [prefix, ...issue.path.map(String)].filter(Boolean).join('.');
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) {
        out.push({ field: base ? `${base}.${key}` : key, code: 'UNKNOWN_FIELD', message: `unknown field '${key}'` });
      }
      continue;
    }
    out.push({ field: base || '(body)', code: issue.code.toUpperCase(), message: issueText(issue) });
  }
  return out;
}

export function envelope(
  c: Context<ApiEnv>,
  status: ContentfulStatusCode,
  code: string,
  message: string,
  fields: FieldIssue[] = [],
) {
  return c.json({ error: { code, message, fields, request_id: c.get('requestId') ?? '' } }, status);
}

const HTTP_CODES: Record<number, string> = {
  400: 'BAD_REQUEST',
  401: 'UNAUTHENTICATED',
  403: 'FORBIDDEN',
  404: 'NOT_FOUND',
  405: 'METHOD_NOT_ALLOWED',
  413: 'PAYLOAD_TOO_LARGE',
  415: 'UNSUPPORTED_MEDIA_TYPE',
  421: 'HOST_NOT_ALLOWED',
  422: 'VALIDATION_FAILED',
  429: 'TOO_MANY_REQUESTS',
};

/** Every code an error of pocketd's carries, and the HTTP status it answers with; a code not here is a 500. */
export const STATUS_OF: Record<string, ContentfulStatusCode> = {
  // The request
  VALIDATION_FAILED: 422,
  VERSION_INVALID: 422,
  VERSION_NOT_FOUND: 422,
  UNSUPPORTED_MEDIA_TYPE: 415,
  PAYLOAD_TOO_LARGE: 413,
  // Who asks
  UNAUTHENTICATED: 401,
  INVALID_CREDENTIALS: 401,
  TOTP_REQUIRED: 401,
  FORBIDDEN: 403,
  TOO_MANY_ATTEMPTS: 429,
  // What is asked about
  NOT_FOUND: 404,
  APP_DELETING: 404,
  EMAIL_TAKEN: 409,
  LAST_ADMIN: 409,
  TOTP_ENABLED: 409,
  TOTP_NOT_ENROLLED: 409,
  APP_NOT_READY: 409,
  ARCHIVE_BUSY: 409,
  BACKUP_NOT_READY: 409,
  NOT_CANCELLABLE: 409,
  INCIDENT_CLOSED: 409,
  QUEUE_FULL: 429,
  TOO_MANY_STREAMS: 429,
  TOO_MANY_UPLOADS: 429,
  BACKUP_LIMIT: 409,
  NO_FREE_PORT: 409,
  // What the host or the release source did
  OPERATION_FAILED: 502,
  BACKUP_FAILED: 502,
  APP_CRASHED: 502,
  HEALTH_TIMEOUT: 502,
  RELEASE_BROKEN: 502,
  RELEASE_INSTALL_FAILED: 502,
  RELEASE_SOURCE_UNAVAILABLE: 502,
  CHECKSUM_MISMATCH: 502,
  CHECKSUM_MISSING: 502,
  STATE_TIMEOUT: 504,
  TIMEOUT: 504,
  INTERNAL: 500,
};
export const statusOf = (code: string): ContentfulStatusCode => STATUS_OF[code] ?? 500;

/** The one place errors become responses. */
export function onError(err: Error, c: Context<ApiEnv>) {
  if (err instanceof PocketdError) {
    const status = statusOf(err.code);
    if (status >= 500) c.get('log')?.error({ err, code: err.code, req: c.get('requestId') }, err.message);
    return envelope(c, status, err.code, err.message, err.fields);
  }
  if (err instanceof ZodError) {
    return envelope(c, 422, 'VALIDATION_FAILED', 'The request has invalid fields', zodFields(err.issues));
  }
  if (err instanceof HTTPException) {
    const status = err.status;
    const message = /json/i.test(err.message) ? 'the body is not valid JSON' : err.message || 'bad request';
    return envelope(
      c,
      status,
      status === 400 && /json/i.test(err.message) ? 'MALFORMED_JSON' : (HTTP_CODES[status] ?? 'ERROR'),
      message,
    );
  }
  if (isDiskFull(err)) {
    c.get('log')?.error({ err, req: c.get('requestId') }, 'disk full');
    return envelope(
      c,
      507,
      'DISK_FULL',
      "the disk holding pocketd's data is full; nothing was changed, free space and retry",
    );
  }
  c.get('log')?.error({ err, req: c.get('requestId') }, 'unhandled error');
  return envelope(c, 500, 'INTERNAL', 'internal error; the request id identifies it in the log');
}

/** ENOSPC from the file system or SQLITE_FULL from the store, however deep it was wrapped. */
export function isDiskFull(err: unknown): boolean {
  for (let e: unknown = err, i = 0; e && i < 5; e = (e as { cause?: unknown }).cause, i++) {
    const code = (e as { code?: unknown }).code;
    if (
      code === 'ENOSPC' ||
      code === 'SQLITE_FULL' ||
      /ENOSPC|SQLITE_FULL|database or disk is full/.test(String((e as Error).message))
    )
      return true;
  }
  return false;
}
