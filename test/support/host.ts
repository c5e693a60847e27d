import { setTimeout as sleep } from 'node:timers/promises';
import { bootSandbox, freePort, SANDBOX_SRC, type Sandbox } from './sandbox.js';
import { httpRequest } from './http.js';
import { jsonCall } from './json-call.js';
import { startReleaseMirror, type MirrorRelease, type ReleaseMirror } from './release-mirror.js';

/** A sandboxed host with pocketd installed by deploy/install.sh and running as its service. */
export interface PocketdHost {
  sbx: Sandbox;
  mirror: ReleaseMirror;
  url: string;
  token: string;
  /** JSON call to the daemon's API with the admin token (or another). */
  api(method: string, path: string, body?: unknown, token?: string | null): Promise<{ status: number; body: any }>;
  /** Polls a deployment until it ends. */
  waitDeployment(id: number, timeoutMs?: number): Promise<any>;
  /** Polls a deployment until one of its steps has the status (running by default). */
  waitStep(id: number, step: string, status?: string): Promise<any>;
  /** Waits (bounded) until the daemon answers its liveness probe; false when it never did. */
  untilAnswers(tries?: number): Promise<boolean>;
  /** The daemon's resident memory now, in MiB. */
  daemonRssMiB(): Promise<number>;
  /** A request through the sandbox's Caddy for a domain (its Host header). */
  viaCaddy(host: string, path?: string): ReturnType<typeof httpRequest>;
  /** SIGKILLs the daemon and waits until systemd has started a new one that answers. */
  killDaemon(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * Boots a sandbox, installs pocketd in it with deploy/install.sh and waits until it
 * answers. Releases come from the local mirror unless `releasesUrl` names a source.
 */
export async function setupPocketdHost(
  opts: { releases?: MirrorRelease[]; settings?: Record<string, string>; releasesUrl?: string } = {},
): Promise<PocketdHost> {
  // The mirror (which may deflate a release) is made while the sandbox boots.
  const [mirrorSettled, sbxSettled] = await Promise.allSettled([
    startReleaseMirror({ releases: opts.releases, sqliteModule: `${SANDBOX_SRC}/node_modules/better-sqlite3` }),
    bootSandbox(),
  ]);
  if (mirrorSettled.status === 'rejected' || sbxSettled.status === 'rejected') {
    if (sbxSettled.status === 'fulfilled') await sbxSettled.value.stop();
    if (mirrorSettled.status === 'fulfilled') await mirrorSettled.value.close();
    throw mirrorSettled.status === 'rejected' ? mirrorSettled.reason : (sbxSettled as PromiseRejectedResult).reason;
  }
  const mirror = mirrorSettled.value;
  const sbx = sbxSettled.value;
  try {
    const port = await freePort();
    const settings = {
      listen: `127.0.0.1:${port}`,
      releases_url: opts.releasesUrl ?? mirror.url,
      caddy_http_only: 'true',
      health_timeout_seconds: '15',
      port_range: '21000-21999',
      caddy_https_port: String(sbx.caddy.httpsPort),
      caddy_http_port: String(sbx.caddy.httpPort),
      ...opts.settings,
    };
    const args = Object.entries(settings).flatMap(([k, v]) => ['--set', `${k}=${v}`]);
    await sbx.run(['/bin/bash', `${SANDBOX_SRC}/deploy/install.sh`, ...args], { timeoutMs: 120_000 });
    const url = `http://127.0.0.1:${port}`;
    const answers = () =>
      fetch(`${url}/api/health`).then(
        (r) => r.ok,
        () => false,
      );
    const untilAnswers = async (tries = 200) => {
      for (let i = 0; i < tries; i++) {
        if (await answers()) return true;
        await sleep(100);
      }
      return false;
    };
    if (!(await untilAnswers()))
      throw new Error(
        `pocketd did not answer: ${await sbx.run(['journalctl', '-u', 'pocketd', '-n', '30', '--no-pager'])}`,
      );
    const token = (
      await sbx.run(['/usr/local/bin/pocketd', 'token', 'create', '--name', 'tests', '--scope', 'admin'])
    ).trim();
    const api: PocketdHost['api'] = jsonCall(url, token);
    const box = sbx;
    const mainPid = async () =>
      (await box.run(['systemctl', 'show', '-p', 'MainPID', '--value', 'pocketd.service'])).trim();
    let daemonPid: string | undefined;
    return {
      sbx: box,
      mirror,
      url,
      token,
      api,
      async waitDeployment(id, timeoutMs = 90_000) {
        const until = Date.now() + timeoutMs;
        for (;;) {
          const r = await api('GET', `/api/deployments/${id}`);
          if (r.status !== 200) throw new Error(`deployment ${id}: ${JSON.stringify(r.body)}`);
          if (!['queued', 'pending', 'running'].includes(r.body.status)) return r.body;
          if (Date.now() > until)
            throw new Error(`deployment ${id} still ${r.body.status}: ${JSON.stringify(r.body.steps)}`);
          await sleep(100);
        }
      },
      async waitStep(id, step, status = 'running') {
        for (let i = 0; i < 600; i++) {
          const d = (await api('GET', `/api/deployments/${id}`)).body;
          if (d.steps.some((x: any) => x.name === step && x.status === status)) return d;
          if (!['queued', 'pending', 'running'].includes(d.status))
            throw new Error(`deployment ${id} ended ${d.status} before step ${step} was ${status}`);
          await sleep(25);
        }
        throw new Error(`step ${step} of deployment ${id} never ${status}`);
      },
      untilAnswers,
      // The daemon's PID is asked once (a sampler calling this every second must not start a process each time),
      // and again only when that process is gone.
      async daemonRssMiB() {
        const status = async () => box.readFile(`/proc/${(daemonPid ??= await mainPid())}/status`);
        const text = await status().catch(async () => {
          daemonPid = undefined;
          return status();
        });
        return Number(/VmRSS:\s+(\d+)/.exec(text)?.[1] ?? 0) / 1024;
      },
      viaCaddy: (host, path = '/api/health') => httpRequest(box.caddy.httpPort, path, { host, timeoutMs: 20_000 }),
      async killDaemon() {
        const pid = await mainPid();
        await box.run(['kill', '-9', pid]);
        // systemd starts it again (Restart=on-failure); it recovers interrupted deployments before it answers.
        for (let i = 0; i < 400; i++) {
          const now = await mainPid();
          if (now !== pid && now !== '0' && (await answers())) return;
          await sleep(100);
        }
        throw new Error('pocketd did not come back after SIGKILL');
      },
      async stop() {
        // A developer chasing a failure can keep the daemon's journal: POCKETD_TEST_LOGS=<dir>.
        const keep = process.env.POCKETD_TEST_LOGS;
        if (keep) {
          const text = await box
            .run(['journalctl', '-u', 'pocketd', '--no-pager', '-o', 'short-precise'], { timeoutMs: 30_000 })
            .catch((e: Error) => e.message);
          const { mkdir, writeFile } = await import('node:fs/promises');
          await mkdir(keep, { recursive: true });
          await writeFile(`${keep}/pocketd-${process.pid}-${Date.now()}.log`, text);
        }
        await box.stop();
        await mirror.close();
      },
    };
  } catch (err) {
    await sbx.stop();
    await mirror.close();
    throw err;
  }
}
