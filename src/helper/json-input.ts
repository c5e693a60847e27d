import type { z } from 'zod';
import type { HelperExitCode } from '../shared/protocol.js';
import { HelperError } from './errors.js';

/**
 * What the daemon sends the helper as JSON (a spec on stdin, a request on the socket), checked against its
 * schema: not JSON is 66; a field against its rule is `refusal(issues)` (65 unless the caller says), with
 * every field named (`what` when the whole input is wrong).
 */
export function parseJsonInput<T extends z.ZodType>(
  text: string,
  schema: T,
  what: string,
  refusal: (issues: z.core.$ZodIssue[]) => HelperExitCode = () => 65,
): z.output<T> {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    throw new HelperError(66, `the ${what} is not JSON`);
  }
  const r = schema.safeParse(raw);
  if (!r.success)
    throw new HelperError(
      refusal(r.error.issues),
      r.error.issues.map((i) => `${i.path.join('.') || what.split(' ')[0]}: ${i.message}`).join('; '),
    );
  return r.data;
}
