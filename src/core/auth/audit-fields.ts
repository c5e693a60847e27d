import { APP_NAME_PATTERN } from '../../shared/rules.js';

/**
 * What a request asked to change, for the audit log: its JSON fields with every
 * secret masked. Keys that name a secret (password, token, secret, key) are
 * masked wherever they are; env values are all masked (any of them may be a
 * secret). Bounded in size, so a large body cannot grow the log.
 */
const MASK = '********';
// A URL is masked too: a Slack, Discord or ntfy URL is itself the channel's secret.
const SECRET_KEY = /pass|secret|token|key|credential|auth|url/i;
const MAX = 2000;

function mask(value: unknown, key: string | null, depth: number): unknown {
  if (key !== null && SECRET_KEY.test(key) && value !== null && typeof value !== 'object') return MASK;
  if (depth > 4) return '…';
  if (Array.isArray(value)) return value.slice(0, 50).map((v) => mask(v, null, depth + 1));
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).slice(0, 100);
    if (key === 'env') return Object.fromEntries(entries.map(([k]) => [k, MASK]));
    return Object.fromEntries(entries.map(([k, v]) => [k, mask(v, k, depth + 1)]));
  }
  return typeof value === 'string' && value.length > 200 ? `${value.slice(0, 200)}…` : value;
}

export function auditFields(body: unknown): string | null {
  if (body === null || typeof body !== 'object') return null;
  const text = JSON.stringify(mask(body, null, 0));
  return text.length > MAX ? `${text.slice(0, MAX)}…` : text;
}

/** What an audit row may name as its target: an app's name or an id (anything else is not kept). */
export const isAuditTarget = (s: string): boolean => APP_NAME_PATTERN.test(s) || /^[1-9]\d{0,15}$/.test(s);
