/** One field that failed validation, as the API reports it. */
export interface FieldIssue {
  field: string;
  code: string;
  message: string;
}

/**
 * The one error type that crosses layers. `code` is a stable string callers can
 * match on; it says what went wrong, not how HTTP says it: the API maps codes to
 * statuses in one table (`STATUS_OF` in src/api/errors.ts).
 */
export class PocketdError extends Error {
  override name = 'PocketdError';
  readonly code: string;
  readonly fields: FieldIssue[];

  constructor(code: string, message: string, opts: { fields?: FieldIssue[]; cause?: unknown } = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.code = code;
    this.fields = opts.fields ?? [];
  }
}

export const notFound = (what: string, id: string) => new PocketdError('NOT_FOUND', `${what} '${id}' does not exist`);

export const conflict = (code: string, message: string) => new PocketdError(code, message);

/** A 422 naming each bad field. */
export const invalid = (fields: FieldIssue[], message = 'The request has invalid fields') =>
  new PocketdError('VALIDATION_FAILED', message, { fields });

export const fieldError = (field: string, code: string, message: string) =>
  invalid([{ field, code, message }], message);
