import { Fragment } from 'preact';
import { useMemo, useState } from 'preact/hooks';
import { api, bytes, ago } from '../api.js';
import { Badge, useLoad } from '../components.js';
import { RANGES, RangePicker, TimeChart, sinceOf, type RangeName } from '../chart.js';
import type { AppDetail, AppHealth, AppSample } from '../types.js';

/** A memory limit as the API gives it ("256M", "1G", "512K") in bytes. */
function toBytes(v: string): number {
  const n = Number(v.slice(0, -1));
  const unit = v.slice(-1);
  return n * (unit === 'K' ? 1024 : unit === 'M' ? 1024 ** 2 : 1024 ** 3);
}

/** An app's overview: its state, limits, health and metrics over a chosen range, and its certificates. */
export function Overview({ app, changes }: { app: AppDetail; changes: number }) {
  const [range, setRange] = useState<RangeName>('1 h');
  const metrics = useLoad(
    () =>
      api<{ samples: AppSample[] }>(
        'GET',
        `/api/apps/${app.name}/metrics?limit=20000&since=${encodeURIComponent(sinceOf(range))}`,
      ),
    [app.name, app.updated_at, range],
    `${app.name} ${range}`,
  );
  const health = useLoad(
    () => api<AppHealth>('GET', `/api/apps/${app.name}/health?limit=500`),
    [app.name, app.updated_at, changes],
    app.name,
  );
  const s = metrics.data?.samples ?? [];
  // The axis spans the chosen range, read when its samples came.
  const now = useMemo(() => Date.now(), [metrics.data, range]);
  const span = [now - RANGES[range], now] as const;
  const times = s.map((x) => Date.parse(x.at));
  const hist = [...(health.data?.history ?? [])]
    .reverse()
    .filter((h) => Date.parse(h.at) >= Date.now() - RANGES[range]);
  return (
    <section>
      <div class="row spread">
        <h2>Overview</h2>
        <RangePicker value={range} onChange={setRange} />
      </div>
      <div class="grid">
        <dl class="facts">
          <dt>Version</dt>
          <dd>PocketBase {app.version}</dd>
          <dt>Bundle</dt>
          <dd>{app.bundle === null ? 'none' : `#${app.bundle}`}</dd>
          <dt>Port</dt>
          <dd>{app.port}</dd>
          <dt>Domains</dt>
          <dd>{app.domains.join(', ') || 'loopback only'}</dd>
          <dt>Memory now</dt>
          <dd>
            {bytes(app.runtime?.memory_bytes)}
            {app.memory_max ? ` of ${bytes(toBytes(app.memory_max))}` : ' (no limit)'}
          </dd>
          <dt>CPU quota</dt>
          <dd>{app.cpu_quota ? `${app.cpu_quota}% of one core` : 'no limit'}</dd>
          <dt>Restarts</dt>
          <dd>{app.runtime?.restarts ?? '—'}</dd>
          <dt>Up since</dt>
          <dd>
            {app.runtime?.active_since
              ? `${new Date(app.runtime.active_since).toLocaleString()} (${ago(app.runtime.active_since)})`
              : '—'}
          </dd>
          <dt>Config</dt>
          <dd>{app.config_match.match ? <Badge value="in sync" /> : <span class="badge bad">drift</span>}</dd>
          {(app as WithCertificates).certificates?.map((c) => (
            <Fragment key={c.domain}>
              <dt>Certificate</dt>
              <dd data-testid="certificate">
                {c.domain}:{' '}
                {c.error ? (
                  <span class="badge bad" title={c.error}>
                    error
                  </span>
                ) : (
                  <Badge value="ok" />
                )}{' '}
                {c.error ? (
                  <span class="muted">{c.error}</span>
                ) : (
                  `${c.issuer ?? ''}, until ${c.valid_until ? new Date(c.valid_until).toLocaleString() : '?'}`
                )}
              </dd>
            </Fragment>
          ))}
        </dl>
        <div>
          <TimeChart title="Memory" times={times} values={s.map((x) => x.memory_bytes)} format={bytes} span={span} />
          <TimeChart
            title="CPU"
            times={times}
            values={s.map((x) => x.cpu_percent)}
            format={(v) => `${Math.round(v * 10) / 10}%`}
            span={span}
          />
        </div>
        <div>
          <h2>
            Health <Badge value={health.data?.state ?? 'unknown'} />
          </h2>
          <TimeChart
            title="Health check latency"
            times={hist.map((h) => Date.parse(h.at))}
            values={hist.map((h) => h.latency_ms)}
            format={(v) => `${Math.round(v)} ms`}
            span={span}
          />
          <ol class="history">
            {(health.data?.history ?? []).slice(0, 8).map((h) => (
              <li key={h.at}>
                <Badge value={h.state} /> {ago(h.at)} {h.error ?? ''}
              </li>
            ))}
          </ol>
        </div>
      </div>
    </section>
  );
}

/** What Caddy serves for each domain (GET /api/apps/:name adds it to the app). */
type WithCertificates = AppDetail & {
  certificates?: Array<{ domain: string; issuer?: string; valid_until?: string; error: string | null }>;
};
