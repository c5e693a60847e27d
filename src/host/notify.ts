import { createHmac } from 'node:crypto';

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
const text = (m: Message): string =>
  [headline(m), m.detail ?? '', `at ${m.at}${m.app ? `, app ${m.app}` : ''}`].filter(Boolean).join('\n');

/** The signature a webhook receiver checks: HMAC-SHA256 over "<timestamp>.<body>" with the channel's secret. */
export function signWebhook(secret: string, timestamp: string, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`;
}

async function post(url: string, body: string, headers: Record<string, string>, timeoutMs: number): Promise<void> {
  let res: Response;
  try {
    res = await fetch(url, {
      method: 'POST',
      body,
      headers,
      signal: AbortSignal.timeout(timeoutMs),
      redirect: 'error',
    });
  } catch (err) {
    const e = err as Error & { cause?: { code?: string; message?: string; errors?: Array<{ code?: string }> } };
    const why = e.cause?.code ?? e.cause?.errors?.[0]?.code ?? e.cause?.message ?? e.message;
    throw new Error(e.name === 'TimeoutError' ? `no answer within ${timeoutMs} ms` : `could not reach it (${why})`);
  }
  await res.body?.cancel().catch(() => undefined);
  if (res.status < 200 || res.status >= 300) throw new Error(`answered ${res.status}`);
}

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
      await post(target.url, JSON.stringify({ text: text(m) }), { 'content-type': 'application/json' }, timeoutMs);
      return;
    case 'discord':
      await post(
        target.url,
        JSON.stringify({ content: text(m).slice(0, 2000), allowed_mentions: { parse: [] } }),
        { 'content-type': 'application/json' },
        timeoutMs,
      );
      return;
    case 'ntfy':
      await post(
        target.url,
        [m.detail ?? '', `at ${m.at}`].filter(Boolean).join('\n'),
        {
          'content-type': 'text/plain; charset=utf-8',
          title: headline(m)
            .replace(/[^\x20-\x7e]/g, '?')
            .slice(0, 250),
          tags: m.event === 'resolved' ? 'white_check_mark' : 'warning',
          priority: m.event === 'opened' ? '4' : '3',
          ...(target.token ? { authorization: `Bearer ${target.token}` } : {}),
        },
        timeoutMs,
      );
      return;
    case 'email': {
      // Loaded when a mail is first sent: nodemailer costs the daemon's memory about 14 MiB it rarely needs.
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
      } catch (err) {
        throw new Error(
          `the mail server refused it (${(err as { code?: string }).code ?? (err as Error).message.split('\n')[0]?.slice(0, 200)})`,
        );
      } finally {
        transport.close();
      }
    }
  }
}
