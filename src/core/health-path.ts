import { z } from 'zod';

/** What an app answers healthy on when it names nothing else: PocketBase's own health route. */
export const DEFAULT_HEALTH_PATH = '/api/health';

/**
 * A path on the app's loopback port that must answer 200 for the app to be healthy (the
 * deploy gate and the checks ask it): starts with `/`, URL characters only (no space, no
 * control character, no `#`), at most 200. It is only ever appended to
 * `http://127.0.0.1:<port>`, so it cannot name another host.
 */
export const healthPathSchema = z
  .string()
  .max(200, 'must be at most 200 characters')
  .regex(/^\//, 'must start with /')
  .regex(
    /^\/[A-Za-z0-9._~!$&'()*+,;=:@%/?-]*$/,
    "must be a URL path: letters, digits and - . _ ~ ! $ & ' ( ) * + , ; = : @ % / ? only (no spaces or control characters)",
  );

export const healthPathOf = (stored: string | null | undefined): string => stored ?? DEFAULT_HEALTH_PATH;
