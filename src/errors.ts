/** One field that failed validation, as the API reports it. */
export interface FieldIssue {
  field: string;
  code: string;
  message: string;
}

/**
 * The one error type that crosses layers. `code` is a stable string callers can
 * match on; the API maps it to a status in one table (src/api/errors.ts).
 */
export class PocketdError extends Error {
  override name = 'PocketdError';
  readonly code: string;
  readonly fields: FieldIssue[];
  readonly status: number;

  constructor(code: string, message: string, opts: { status?: number; fields?: FieldIssue[]; cause?: unknown } = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.code = code;
    this.status = opts.status ?? 500;
    this.fields = opts.fields ?? [];
  }
}

export const notFound = (what: string, id: string) =>
  new PocketdError('NOT_FOUND', `${what} '${id}' does not exist`, { status: 404 });

export const conflict = (code: string, message: string) => new PocketdError(code, message, { status: 409 });

/** A 422 naming each bad field. */
export const invalid = (fields: FieldIssue[], message = 'The request has invalid fields') =>
  new PocketdError('VALIDATION_FAILED', message, { status: 422, fields });

export const fieldError = (field: string, code: string, message: string) =>
  invalid([{ field, code, message }], message);
