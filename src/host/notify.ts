import { createHmac } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';

/**
 * Sends one message to one channel, in that channel's own shape: a signed JSON
 * webhook, Slack's and Discord's webhook bodies, an ntfy topic, an email over
 * SMTP (nodemailer). Every send has a time limit; an error never carries the
 * channel's secret (its URL or password) in its message.
 */
export interface Message {
  event: 'opened' | 'reminder' | 'resolved' | 'notice' | 'test';
  kind: string;
  app: string | null;
  title: string;
  detail: string | null;
  incident_id: number | null;
  at: string;
  /** The dashboard's page about it (with public_url set). */
  url?: string | null;
}

export type ChannelTarget =
  | { kind: 'webhook'; url: string; secret: string }
  | { kind: 'slack' | 'discord'; url: string }
  | { kind: 'ntfy'; url: string; token: string | null }
  | {
      kind: 'email';
      host: string;
      port: number;
      secure: boolean;
      user: string | null;
      password: string | null;
      from: string;
      to: string[];
    };

const headline = (m: Message): string => {
  const mark =
    m.event === 'resolved' ? 'Resolved' : m.event === 'reminder' ? 'Still open' : m.event === 'test' ? 'Test' : 'Alert';
  return `[pocketd] ${mark}: ${m.title}`;
};
/** The message as text; `esc` escapes what is not pocketd's own words (the title and the detail may quote an app). */
const text = (m: Message, esc: (s: string) => string = (s) => s): string =>
  [
    headline({ ...m, title: esc(m.title) }),
    esc(m.detail ?? ''),
    `at ${m.at}${m.app ? `, app ${m.app}` : ''}`,
    m.url ? `open: ${m.url}` : '',
  ]
    .filter(Boolean)
    .join('\n');

/** The signature a webhook receiver checks: HMAC-SHA256 over "<timestamp>.<body>" with the channel's secret. */
export function signWebhook(secret: string, timestamp: string, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`;
}

/**
 * Every failed delivery reads the same and takes at least FAIL_FLOOR_MS: a refused connection, a
 * non-2xx answer and silence are not told apart, so a channel's test cannot map a network's ports.
 */
export const NOT_DELIVERED = 'not delivered: the channel did not answer with 2xx';
const FAIL_FLOOR_MS = 1000;

async function post(url: string, body: string, headers: Record<string, string>, timeoutMs: number): Promise<void> {
  const t0 = Date.now();
  let ok = false;
  try {
    const res = await fetch(url, {
      method: 'POST',
      body,
      headers,
      signal: AbortSignal.timeout(timeoutMs),
      redirect: 'error',
    });
    await res.body?.cancel().catch(() => undefined);
    ok = res.status >= 200 && res.status < 300;
  } catch {
    ok = false;
  }
  if (!ok) {
    await sleep(Math.max(0, FAIL_FLOOR_MS - (Date.now() - t0)));
    throw new Error(NOT_DELIVERED);
  }
}

/** Slack's control sequences (`<!channel>`, `<url|text>`) begin with `<`: app text is escaped as Slack asks. */
export const slackEscape = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** Discord's markdown (masked links, mentions, headings, code) is escaped character by character. */
export const discordEscape = (s: string): string => s.replace(/[\\*_~`|>[\]()#@<:-]/g, '\\$&');

export async function send(target: ChannelTarget, m: Message, timeoutMs: number): Promise<void> {
  switch (target.kind) {
    case 'webhook': {
      const body = JSON.stringify(m);
      const ts = String(Math.floor(Date.now() / 1000));
      await post(
        target.url,
        body,
        {
          'content-type': 'application/json',
          'user-agent': 'pocketd',
          'x-pocketd-timestamp': ts,
          'x-pocketd-signature': signWebhook(target.secret, ts, body),
        },
        timeoutMs,
      );
      return;
    }
    case 'slack':
      await post(
        target.url,
        JSON.stringify({ text: text(m, slackEscape), unfurl_links: false, unfurl_media: false }),
        { 'content-type': 'application/json' },
        timeoutMs,
      );
      return;
    case 'discord':
      await post(
        target.url,
        JSON.stringify({ content: text(m, discordEscape).slice(0, 2000), allowed_mentions: { parse: [] }, flags: 4 }),
        { 'content-type': 'application/json' },
        timeoutMs,
      );
      return;
    case 'ntfy':
      await post(
        target.url,
        [m.detail ?? '', `at ${m.at}`, m.url ? `open: ${m.url}` : ''].filter(Boolean).join('\n'),
        {
          'content-type': 'text/plain; charset=utf-8',
          title: headline(m)
            .replace(/[^\x20-\x7e]/g, '?')
            .slice(0, 250),
          tags: m.event === 'resolved' ? 'white_check_mark' : 'warning',
          priority: m.event === 'opened' ? '4' : '3',
          ...(m.url ? { click: m.url } : {}),
          ...(target.token ? { authorization: `Bearer ${target.token}` } : {}),
        },
        timeoutMs,
      );
      return;
    case 'email': {
      // Loaded when a mail is first sent: nodemailer costs the daemon's memory about 14 MiB it rarely needs.
      const t0 = Date.now();
      const nodemailer = (await import('nodemailer')).default;
      const transport = nodemailer.createTransport({
        host: target.host,
        port: target.port,
        secure: target.secure,
        connectionTimeout: timeoutMs,
        greetingTimeout: timeoutMs,
        socketTimeout: timeoutMs,
        ...(target.user ? { auth: { user: target.user, pass: target.password ?? '' } } : {}),
        // Plain SMTP on a private relay (or a test server) is allowed; STARTTLS is used when offered.
        ignoreTLS: false,
        requireTLS: false,
        tls: { rejectUnauthorized: true },
      });
      try {
        await transport.sendMail({ from: target.from, to: target.to, subject: headline(m), text: text(m) });
      } catch {
        await sleep(Math.max(0, FAIL_FLOOR_MS - (Date.now() - t0)));
        throw new Error(NOT_DELIVERED);
      } finally {
        transport.close();
      }
    }
  }
}
