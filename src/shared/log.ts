import pino, { type Logger } from 'pino';

export type { Logger };

/** Keys whose values never reach a log line, at any depth pino redacts. */
const REDACT = [
  'password',
  '*.password',
  '*.*.password',
  'token',
  '*.token',
  'secret',
  '*.secret',
  'authorization',
  '*.authorization',
  'req.headers.authorization',
  'headers.authorization',
  'env',
  '*.env',
];

/**
 * JSON lines to stdout (journald stores them as they are); readable lines when
 * stdout is a terminal. Subsystems take `log.child({ mod: 'name' })`.
 */
export function createLogger(level: string, pretty = process.stdout.isTTY === true): Logger {
  const options = { level, redact: { paths: REDACT, censor: '[redacted]' }, base: { svc: 'pocketd' } };
  if (pretty) {
    return pino(
      options,
      pino.transport({ target: 'pino-pretty', options: { colorize: true, ignore: 'svc,pid,hostname' } }),
    );
  }
  return pino(options);
}
