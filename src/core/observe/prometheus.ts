import type { HostSample } from '../../host/hostinfo.js';
import type { AppView } from '../apps/apps.js';
import type { HealthState } from '../../db/schema.js';

interface Family {
  name: string;
  help: string;
  type: 'gauge' | 'counter';
  samples: Array<{ labels?: Record<string, string>; value: number }>;
}

/** A family of one sample without labels. */
const one = (name: string, help: string, type: Family['type'], value: number): Family => ({
  name,
  help,
  type,
  samples: [{ value }],
});

/** Label values escaped as the text format asks: backslash, double quote and newline. */
const escapeLabel = (v: string) => v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');

function render(families: Family[]): string {
  const out: string[] = [];
  for (const f of families) {
    out.push(`# HELP ${f.name} ${f.help}`, `# TYPE ${f.name} ${f.type}`);
    for (const s of f.samples) {
      const labels = s.labels
        ? `{${Object.entries(s.labels)
            .map(([k, v]) => `${k}="${escapeLabel(v)}"`)
            .join(',')}}`
        : '';
      out.push(`${f.name}${labels} ${Number.isFinite(s.value) ? s.value : 'NaN'}`);
    }
  }
  return `${out.join('\n')}\n`;
}

/** The Prometheus text exposition of apps, their health, the host and deployments. */
export function renderMetrics(input: {
  version: string;
  apps: AppView[];
  health: Map<string, HealthState>;
  host: HostSample;
  deployments: Array<{ status: string; count: number }>;
  childProcesses: number;
  systemdSource: 'dbus' | 'systemctl';
  busMessages: number;
}): string {
  const per = (pick: (a: AppView) => number | null | undefined) =>
    input.apps.flatMap((a) => {
      const v = pick(a);
      return v === null || v === undefined ? [] : [{ labels: { app: a.name }, value: v }];
    });
  return render([
    {
      name: 'pocketd_info',
      help: 'pocketd version.',
      type: 'gauge',
      samples: [{ labels: { version: input.version }, value: 1 }],
    },
    { name: 'pocketd_apps', help: 'Apps managed by pocketd.', type: 'gauge', samples: [{ value: input.apps.length }] },
    {
      name: 'pocketd_app_up',
      help: "Whether the app's unit is active.",
      type: 'gauge',
      samples: per((a) => (a.state === 'running' ? 1 : 0)),
    },
    {
      name: 'pocketd_app_sleeping',
      help: 'Whether the app sleeps: idle, stopped until its next request (neither down nor stopped).',
      type: 'gauge',
      samples: per((a) => (a.state === 'sleeping' ? 1 : 0)),
    },
    {
      name: 'pocketd_app_healthy',
      help: 'Whether the last health check of the app passed (absent before the first check and while it sleeps).',
      type: 'gauge',
      samples: per((a) => {
        const h = input.health.get(a.name);
        return h === undefined || a.state === 'sleeping' ? null : h === 'healthy' ? 1 : 0;
      }),
    },
    {
      name: 'pocketd_app_memory_bytes',
      help: "Memory used by the app's cgroup.",
      type: 'gauge',
      samples: per((a) => a.runtime?.memory_bytes),
    },
    {
      name: 'pocketd_app_cpu_seconds_total',
      help: "CPU time used by the app's cgroup.",
      type: 'counter',
      samples: per((a) => (a.runtime?.cpu_ns == null ? null : a.runtime.cpu_ns / 1e9)),
    },
    {
      name: 'pocketd_app_restarts_total',
      help: "Automatic restarts of the app's unit by systemd.",
      type: 'counter',
      samples: per((a) => a.runtime?.restarts ?? null),
    },
    one('pocketd_host_load1', 'One-minute load average.', 'gauge', input.host.load1),
    one('pocketd_host_cpu_percent', 'Host CPU use since the previous reading.', 'gauge', input.host.cpu_percent),
    one('pocketd_host_memory_total_bytes', 'Host memory.', 'gauge', input.host.memory_total),
    one('pocketd_host_memory_available_bytes', 'Host memory available.', 'gauge', input.host.memory_available),
    one(
      'pocketd_host_disk_total_bytes',
      'Size of the file system holding the data directory.',
      'gauge',
      input.host.disk_total,
    ),
    one(
      'pocketd_host_disk_free_bytes',
      'Free space on the file system holding the data directory.',
      'gauge',
      input.host.disk_free,
    ),
    one('pocketd_host_uptime_seconds', 'Host uptime.', 'gauge', input.host.uptime_seconds),
    {
      name: 'pocketd_deployments',
      help: 'Deployments recorded, by status.',
      type: 'gauge',
      samples: input.deployments.map((d) => ({ labels: { status: d.status }, value: d.count })),
    },
    one(
      'pocketd_child_processes_total',
      'Child processes pocketd started (systemctl, journalctl, sudo, ...).',
      'counter',
      input.childProcesses,
    ),
    one(
      'pocketd_systemd_events',
      "Whether unit state comes from systemd's D-Bus signals (1) or systemctl reads (0).",
      'gauge',
      input.systemdSource === 'dbus' ? 1 : 0,
    ),
    one(
      'pocketd_systemd_bus_messages_total',
      "Signals about pocketd's units and calls to systemd over D-Bus.",
      'counter',
      input.busMessages,
    ),
  ]);
}
