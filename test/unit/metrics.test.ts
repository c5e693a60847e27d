import { test } from 'node:test';
import assert from 'node:assert/strict';
import { withCpuPercent } from '../../src/core/observe/metrics.js';
import { renderMetrics } from '../../src/core/observe/prometheus.js';
import type { AppView } from '../../src/core/apps/apps.js';

test('CPU share comes from consecutive samples; a counter reset gives null, not a negative share', () => {
  const s = withCpuPercent([
    { at: '2026-01-01T00:00:00.000Z', active: true, memory_bytes: 1, cpu_ns: 0, restarts: 0 },
    { at: '2026-01-01T00:01:00.000Z', active: true, memory_bytes: 1, cpu_ns: 30e9, restarts: 0 },
    { at: '2026-01-01T00:02:00.000Z', active: true, memory_bytes: 1, cpu_ns: 1e9, restarts: 1 },
    { at: '2026-01-01T00:03:00.000Z', active: false, memory_bytes: null, cpu_ns: null, restarts: 1 },
  ]);
  assert.deepEqual(
    s.map((x) => x.cpu_percent),
    [null, 50, null, null],
  );
});

test('Prometheus text: HELP and TYPE before samples, labels escaped, absent values left out', () => {
  const app = (name: string, state: AppView['state'], memory: number | null): AppView => ({
    name,
    port: 1,
    version: '0.23.1',
    domains: [],
    memory_max: null,
    cpu_quota: null,
    bundle: null,
    backup_schedule: null,
    backup_keep: 7,
    health_path: '/api/health',
    sleep_after: null,
    status: 'ready',
    desired_state: 'running',
    state,
    runtime:
      memory === null
        ? null
        : {
            active_state: 'active',
            sub_state: 'running',
            main_pid: 1,
            memory_bytes: memory,
            cpu_ns: 2e9,
            restarts: 3,
            active_since: null,
            control_group: null,
          },
    created_at: '',
    updated_at: '',
  });
  const text = renderMetrics({
    version: '1.0 "x"\\',
    apps: [app('a', 'running', 1024), app('b', 'stopped', null), app('c', 'sleeping', null)],
    health: new Map([
      ['a', 'healthy' as const],
      ['c', 'sleeping' as const],
    ]),
    host: {
      load1: 0.5,
      load5: 0,
      load15: 0,
      cpu_percent: 1,
      cpus: 2,
      memory_total: 10,
      memory_available: 5,
      disk_total: 100,
      disk_free: 50,
      uptime_seconds: 9,
    },
    deployments: [{ status: 'success', count: 4 }],
    childProcesses: 12,
    systemdSource: 'dbus',
    busMessages: 7,
  });
  const lines = text.trimEnd().split('\n');
  assert.ok(lines.includes('pocketd_info{version="1.0 \\"x\\"\\\\"} 1'));
  assert.ok(lines.includes('pocketd_app_up{app="a"} 1') && lines.includes('pocketd_app_up{app="b"} 0'));
  assert.ok(lines.includes('pocketd_child_processes_total 12') && lines.includes('pocketd_systemd_events 1'));
  assert.ok(lines.includes('pocketd_app_cpu_seconds_total{app="a"} 2'));
  assert.ok(
    lines.includes('pocketd_app_healthy{app="a"} 1') &&
      !lines.some((l) => l.startsWith('pocketd_app_healthy{app="b"}')),
  );
  assert.ok(!lines.some((l) => l.startsWith('pocketd_app_memory_bytes{app="b"}')));
  // Asleep is its own state: not up, not unhealthy (no healthy sample), sleeping 1; the others 0.
  assert.ok(lines.includes('pocketd_app_sleeping{app="c"} 1') && lines.includes('pocketd_app_sleeping{app="b"} 0'));
  assert.ok(lines.includes('pocketd_app_up{app="c"} 0'));
  assert.ok(!lines.some((l) => l.startsWith('pocketd_app_healthy{app="c"}')));
  assert.ok(lines.includes('pocketd_deployments{status="success"} 4'));
  const families = lines.filter((l) => l.startsWith('# TYPE')).map((l) => l.split(' ')[2]);
  assert.equal(new Set(families).size, families.length);
});
