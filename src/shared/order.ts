/**
 * Orders two strings by their UTF-16 code units, as SQLite's BINARY collation does: the right order for
 * ISO timestamps, names the rules keep to ASCII, and migration names. Not `localeCompare`, whose first
 * call loads ICU's collation tables into the process (about 2 MiB of resident memory) for an order these
 * strings do not need.
 *
 * @example ['b', 'a10', 'a9'].sort(compareStrings) // ['a10', 'a9', 'b']
 */
export const compareStrings = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
