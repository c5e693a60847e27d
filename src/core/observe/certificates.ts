import { caddyErrors, peerCertificate, type PeerCertificate } from '../../host/tls-probe.js';
import type { Logger } from '../../shared/log.js';
import type { EventBus } from '../events.js';

/**
 * Each domain's certificate as Caddy serves it: issuer and validity from a real
 * TLS handshake with Caddy (SNI = the domain), and Caddy's last error for the
 * domain from Caddy's own log in the journal. Checked on a schedule and after
 * each site change; a certificate that could not be had, or that ends within
 * 14 days, is an incident (through `onResult`).
 */
export interface CertificateFacts extends Partial<PeerCertificate> {
  domain: string;
  checked_at: string;
  /** The handshake's failure, or Caddy's last error for the domain. */
  error: string | null;
  days_left: number | null;
}

const WARN_DAYS = 14;

export function createCertificates(deps: {
  /** Every app with the domains it is served at. */
  domains: (only?: string) => Promise<Array<{ app: string; domains: string[] }>>;
  httpsPort: number;
  enabled: boolean;
  events: EventBus;
  log: Logger;
  onResult?: (app: string, facts: CertificateFacts) => Promise<void>;
}) {
  const known = new Map<string, CertificateFacts>();
  let timer: NodeJS.Timeout | undefined;
  let unsubscribe: (() => void) | undefined;

  async function handshake(domain: string): Promise<CertificateFacts> {
    const at = new Date().toISOString();
    try {
      const c = await peerCertificate('127.0.0.1', deps.httpsPort, domain);
      const days = Math.floor((Date.parse(c.valid_until) - Date.now()) / 86_400_000);
      return { domain, checked_at: at, ...c, days_left: days, error: null };
    } catch (err) {
      return { domain, checked_at: at, error: (err as Error).message, days_left: null };
    }
  }

  /** Checks these apps' domains; Caddy's journal is read once, and only when a handshake failed. */
  async function check(apps: Array<{ app: string; domains: string[] }>): Promise<void> {
    const results: Array<{ app: string; facts: CertificateFacts }> = [];
    for (const { app, domains } of apps) for (const d of domains) results.push({ app, facts: await handshake(d) });
    // What Caddy said about obtaining it explains a missing or fallback certificate.
    const failed = results.filter((r) => r.facts.error !== null).map((r) => r.facts.domain);
    const logged = await caddyErrors(failed).catch(() => new Map<string, string>());
    for (const { app, facts } of results) {
      const said = logged.get(facts.domain);
      if (said) facts.error = `${facts.error}; Caddy: ${said}`;
      known.set(facts.domain, facts);
      await deps
        .onResult?.(app, facts)
        .catch((err: unknown) => deps.log.error({ err, domain: facts.domain }, 'certificate result not taken'));
    }
  }

  async function checkApp(app: string): Promise<void> {
    await check(await deps.domains(app));
  }

  async function checkAll(): Promise<void> {
    await check(await deps.domains());
  }

  return {
    /** What is known of an app's domains (checked at start, on a schedule and after each site change). */
    of(domains: string[]): CertificateFacts[] {
      return domains.map((d) => known.get(d)).filter((x): x is CertificateFacts => x !== undefined);
    },
    checkApp,
    start() {
      if (!deps.enabled) return;
      unsubscribe = deps.events.subscribe((e) => {
        // A site changed: Caddy may take a moment to get a certificate, so it is checked again shortly after too.
        if (e.app && ['app.created', 'app.configured', 'app.changed', 'app.repaired'].includes(e.type)) {
          const app = e.app;
          for (const ms of [1000, 15_000]) setTimeout(() => void checkApp(app).catch(() => undefined), ms).unref();
        }
      });
      timer = setInterval(
        () => void checkAll().catch((err: unknown) => deps.log.error({ err }, 'certificate checks failed')),
        6 * 3600_000,
      );
      timer.unref();
      setTimeout(() => void checkAll().catch(() => undefined), 2000).unref();
    },
    stop() {
      unsubscribe?.();
      clearInterval(timer);
    },
    WARN_DAYS,
  };
}

export type Certificates = ReturnType<typeof createCertificates>;
