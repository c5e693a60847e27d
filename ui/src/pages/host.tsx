import { useState } from 'preact/hooks';
import { api, bytes, duration } from '../api.js';
import { Badge, ErrorNote, useLoad } from '../components.js';
import { RangePicker, TimeChart, sinceOf, type RangeName } from '../chart.js';
import type { Check, HostMetrics, SystemInfo } from '../types.js';

/** The host: checks with their messages, metrics and pocketd's version. */
export function Host() {
  const checks = useLoad(() => api<{ ok: boolean; checks: Check[] }>('GET', '/api/validate/system'), []);
  const [range, setRange] = useState<RangeName>('1 h');
  const metrics = useLoad(
    () => api<HostMetrics>('GET', `/api/system/metrics?limit=20000&since=${encodeURIComponent(sinceOf(range))}`),
    [range],
  );
  const info = useLoad(() => api<SystemInfo>('GET', '/api/system/info'), []);
  const m = metrics.data?.current;
  return (
    <main>
      <h1>Host</h1>
      <ErrorNote error={checks.error ?? metrics.error ?? info.error} />
      <section class="grid">
        <div>
          <h2>Checks {checks.data ? <Badge value={checks.data.ok ? 'healthy' : 'unhealthy'} /> : null}</h2>
          <ul class="list checks">
            {(checks.data?.checks ?? []).map((c) => (
              <li key={c.name}>
                <Badge value={c.ok ? 'ok' : 'failed'} /> <strong>{c.name}</strong>: {c.message}
              </li>
            ))}
          </ul>
        </div>
        <dl class="facts">
          <dt>pocketd</dt>
          <dd data-testid="version">{info.data?.version ?? '—'}</dd>
          <dt>Node.js</dt>
          <dd>{info.data?.node ?? '—'}</dd>
          <dt>pocketd up</dt>
          <dd>{info.data ? duration(info.data.uptime_seconds) : '—'}</dd>
          <dt>Host up</dt>
          <dd>{m ? duration(m.uptime_seconds) : '—'}</dd>
          <dt>Load</dt>
          <dd>{m ? `${m.load1.toFixed(2)} ${m.load5.toFixed(2)} ${m.load15.toFixed(2)} (${m.cpus} CPUs)` : '—'}</dd>
          <dt>Memory</dt>
          <dd>{m ? `${bytes(m.memory_total - m.memory_available)} used of ${bytes(m.memory_total)}` : '—'}</dd>
          <dt>Disk (data)</dt>
          <dd>
            {m
              ? `${bytes(m.disk_free)} free of ${bytes(m.disk_total)} (${m.disk_total ? Math.round((m.disk_free / m.disk_total) * 100) : 0}% free)`
              : '—'}
          </dd>
        </dl>
        <div>
          <RangePicker value={range} onChange={setRange} />
          <TimeChart
            title="CPU"
            times={(metrics.data?.samples ?? []).map((s) => Date.parse(s.at))}
            values={(metrics.data?.samples ?? []).map((s) => s.cpu_percent)}
            format={(v) => `${Math.round(v * 10) / 10}%`}
          />
          <TimeChart
            title="Memory used"
            times={(metrics.data?.samples ?? []).map((s) => Date.parse(s.at))}
            values={(metrics.data?.samples ?? []).map((s) => s.memory_total - s.memory_available)}
            format={bytes}
          />
        </div>
      </section>
    </main>
  );
}
