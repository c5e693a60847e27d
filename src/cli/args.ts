import { parseArgs, type ParseArgsConfig } from 'node:util';
import type { z } from 'zod';

/** A bad command line: exit 2 with the message. */
export class UsageError extends Error {}

/** Reads standard input whole (a password given with --password-stdin), without its last newline. */
export async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks)
    .toString('utf8')
    .replace(/\r?\n$/, '');
}

/** Checks one value with the API's own schema; a refusal names the flag. */
export function check<T>(schema: z.ZodType<T>, value: unknown, flag: string): T {
  const r = schema.safeParse(value);
  if (!r.success) throw new UsageError(`${flag}: ${r.error.issues[0]?.message ?? 'invalid'}`);
  return r.data;
}

type Options = NonNullable<ParseArgsConfig['options']>;

/**
 * Parses a command's flags and positionals strictly (unknown flags refused); `--json` is understood by every
 * command that reads.
 */
export function parse<O extends Options>(args: string[], options: O, positionals: string[]) {
  const r = parseArgs({ args, options: { ...options, json: { type: 'boolean' } }, allowPositionals: true });
  if (r.positionals.length > positionals.length)
    throw new UsageError(`unexpected argument '${r.positionals[positionals.length]}'`);
  const pos: Record<string, string> = {};
  positionals.forEach((name, i) => {
    const v = r.positionals[i];
    if (v === undefined) throw new UsageError(`<${name}> is required`);
    pos[name] = v;
  });
  return {
    values: r.values as { [K in keyof O]?: O[K]['type'] extends 'boolean' ? boolean : string } & { json?: boolean },
    pos,
  };
}
