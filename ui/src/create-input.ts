import type { FieldIssue } from './types.js';

/**
 * The create form's text fields read as the API takes them, with what is wrong said in the
 * form's own words before anything is sent: domains are separated by commas (a space inside
 * one is a mistake, not a separator), an env line needs its `=`.
 */
export function parseDomains(text: string): { domains: string[]; errors: FieldIssue[] } {
  const domains: string[] = [];
  const errors: FieldIssue[] = [];
  for (const raw of text.split(/[,\n]/)) {
    const d = raw.trim();
    if (!d) continue;
    if (/\s/.test(d))
      errors.push({
        field: 'domains',
        code: 'DOMAIN_SPACE',
        message: `"${d}" is not a domain: a name has no spaces (separate domains with commas)`,
      });
    else domains.push(d);
  }
  return { domains, errors };
}

/** KEY=value lines; `#` starts a comment line. A line without `=` is an error naming the line. */
export function parseEnvLines(text: string): { env: Record<string, string>; errors: FieldIssue[] } {
  const env: Record<string, string> = {};
  const errors: FieldIssue[] = [];
  text.split('\n').forEach((line, i) => {
    if (!line.trim() || line.trim().startsWith('#')) return;
    const at = line.indexOf('=');
    if (at < 0) {
      errors.push({
        field: 'env',
        code: 'ENV_LINE',
        message: `line ${i + 1} ("${line.trim().slice(0, 40)}") has no "=": write KEY=value`,
      });
      return;
    }
    env[line.slice(0, at).trim()] = line.slice(at + 1);
  });
  return { env, errors };
}

/**
 * The API's issues for one form field, in the form's words, each said once: a domain is named
 * by its text rather than its index, a message that already names its key is not prefixed again.
 */
export function fieldMessages(issues: FieldIssue[], field: string, domains: string[]): string[] {
  const out = issues
    .filter((e) => e.field === field || e.field.startsWith(`${field}.`))
    .map((e) => {
      const sub = e.field === field ? '' : e.field.slice(field.length + 1);
      if (!sub) return e.message;
      if (field === 'domains' && /^\d+$/.test(sub)) return `"${domains[Number(sub)] ?? sub}": ${e.message}`;
      return e.message.includes(sub) ? e.message : `${sub}: ${e.message}`;
    });
  return [...new Set(out)];
}
