import type { HelperExitCode } from '../shared/protocol.js';

/** A refusal or failure of the helper: its documented exit code and a message for stderr. */
export class HelperError extends Error {
  override name = 'HelperError';
  constructor(
    readonly exitCode: HelperExitCode,
    message: string,
  ) {
    super(message);
  }
}
