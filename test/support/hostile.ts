/**
 * A generated corpus of hostile input. Every string carries the marker `zqx`, so
 * after a run a search for the marker in the host's files and the store finds
 * anything that got through.
 */
export const MARKER = 'zqx';

const PAYLOADS = [
  '\n',
  '\r\n',
  '\r',
  '\u0000',
  '\t',
  '\u001b[31m',
  '{',
  '}',
  '{{name}}',
  '"',
  "'",
  '`',
  '$(id)',
  '${HOME}',
  '$HOME',
  '%h',
  '%n',
  ';',
  '|',
  '&&',
  '#',
  ' ',
  '..',
  '../..',
  '/',
  '\\',
  '//',
  '*',
  '?',
  '[a]',
  '<script>',
  '&amp;',
  '\u202e',
  '\u200b',
  '\ufeff',
  '\u0430',
  '\uff53',
  '\u2215',
  '\u2024',
  '\u0131',
  '🙂',
  '\ud800',
  'import /etc/passwd',
  '\nExecStartPre=/bin/touch /tmp/pwn',
  '\n}\nimport /etc/caddy/*\n{',
  ' reverse_proxy 1.2.3.4',
  '%0A',
  '\\n',
  '\u0085',
  '\u2028',
];

/** Every payload in three positions around the marker: hundreds of strings. */
export function hostileStrings(): string[] {
  const out = new Set<string>();
  for (const p of PAYLOADS) {
    out.add(`${MARKER}${p}`);
    out.add(`${p}${MARKER}`);
    out.add(`a${MARKER}${p}b`);
  }
  out.add(MARKER.repeat(4000));
  out.add(`${MARKER}-${'a'.repeat(70)}`);
  out.add(`-${MARKER}`);
  out.add(`${MARKER}-`);
  return [...out];
}

/** Values of the wrong type or out of range for any field. */
export const WRONG_TYPES: unknown[] = [
  null,
  true,
  false,
  0,
  -1,
  1.5,
  65536,
  -65535,
  1e308,
  Number.MAX_SAFE_INTEGER + 2,
  '',
  [],
  [MARKER],
  {},
  { $gt: '' },
  { toString: MARKER },
];

/** JSON nested `depth` levels deep, as text. */
export const deepJson = (depth: number) => `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`;
