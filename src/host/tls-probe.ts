import tls from 'node:tls';
import { exec } from '../shared/exec.js';

/** What a TLS server presents for a name: read from a real handshake (the certificate is not trusted or checked here). */
export interface PeerCertificate {
  issuer: string;
  subject: string;
  valid_from: string;
  valid_until: string;
  fingerprint256: string;
}

export function peerCertificate(
  host: string,
  port: number,
  servername: string,
  timeoutMs = 5000,
): Promise<PeerCertificate> {
  return new Promise((resolve, reject) => {
    const socket = tls.connect(
      { host, port, servername, rejectUnauthorized: false, ALPNProtocols: ['http/1.1'] },
      () => {
        const c = socket.getPeerCertificate();
        socket.destroy();
        if (!c || !c.valid_to) {
          reject(new Error('no certificate was presented'));
          return;
        }
        const name = (x: tls.Certificate | undefined) => (x ? [x.O, x.CN].filter(Boolean).join(', ') : '');
        resolve({
          issuer: name(c.issuer),
          subject: name(c.subject),
          valid_from: new Date(c.valid_from).toISOString(),
          valid_until: new Date(c.valid_to).toISOString(),
          fingerprint256: c.fingerprint256,
        });
      },
    );
    socket.setTimeout(timeoutMs, () => {
      socket.destroy();
      reject(new Error(`no TLS answer within ${timeoutMs} ms`));
    });
    socket.on('error', (err: Error & { code?: string }) =>
      reject(new Error(`the TLS handshake failed (${err.code ?? err.message})`)),
    );
  });
}

/**
 * Caddy's last logged error for each of these domains (its JSON log lines in the journal of the last
 * day), read in one pass; a domain Caddy said nothing wrong about is absent.
 */
export async function caddyErrors(domains: string[]): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  if (domains.length === 0) return out;
  const r = await exec(
    'journalctl',
    ['-u', 'caddy.service', '--since', '-24h', '-o', 'cat', '--no-pager', '-q', '-n', '5000'],
    { allowFailure: true, timeoutMs: 10_000 },
  );
  for (const line of r.stdout.split('\n')) {
    if (!line.includes('"level":"error"')) continue;
    const named = domains.filter((d) => line.includes(d));
    if (named.length === 0) continue;
    try {
      const e = JSON.parse(line) as { msg?: string; error?: string; identifier?: string };
      const message = [e.msg, e.error].filter(Boolean).join(': ').slice(0, 500);
      for (const d of named) if (e.identifier === undefined || e.identifier === d) out.set(d, message);
    } catch {
      /* not Caddy's JSON */
    }
  }
  return out;
}
