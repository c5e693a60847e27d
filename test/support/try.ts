// `npm run sandbox`: the newcomer's try-it command. Boots the sandbox, installs
// pocketd inside exactly as deploy/install.sh does on a host, starts it as its
// service, creates an admin and a demo app reachable through Caddy, prints how
// to reach it all, and stays up until interrupted.
import { setupPocketdHost } from './host.js';
import { httpRequest } from './http.js';
import { PB_VERSIONS } from './pocketbase.js';

const REAL_SOURCE = 'https://api.github.com';

async function realSourceReachable(): Promise<boolean> {
  try {
    const r = await fetch(`${REAL_SOURCE}/repos/pocketbase/pocketbase/releases/latest`, {
      signal: AbortSignal.timeout(4000),
      headers: { 'user-agent': 'pocketd' },
    });
    return r.ok;
  } catch {
    return false;
  }
}

async function main() {
  const real = await realSourceReachable();
  console.log(
    real
      ? `releases: the real PocketBase release source (${REAL_SOURCE})`
      : `releases: the real release source is unreachable here; using the local mirror of real PocketBase executables (${PB_VERSIONS.join(', ')}; test/pocketbase/versions.json)`,
  );
  console.log('booting the sandbox (a private systemd, journald, Caddy and sudo) and installing pocketd...');
  const h = await setupPocketdHost(
    real ? { releasesUrl: REAL_SOURCE, settings: { health_timeout_seconds: '60' } } : {},
  );
  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    console.log('\npowering the sandbox off...');
    await h.stop();
    console.log('done: nothing is left running');
    process.exit(0);
  };
  process.on('SIGINT', () => void stop());
  process.on('SIGTERM', () => void stop());
  try {
    const password = `demo-${Math.random().toString(36).slice(2, 12)}`;
    await h.sbx.run(
      ['/usr/local/bin/pocketd', 'admin', 'create', '--email', 'admin@pocketd.localhost', '--password-stdin'],
      { input: `${password}\n` },
    );
    const created = await h.api('POST', '/api/apps', { name: 'demo', domains: ['demo.localhost'] });
    if (created.status !== 202) throw new Error(`creating the demo app failed: ${JSON.stringify(created.body)}`);
    const d = await h.waitDeployment(created.body.deployment_id, 180_000);
    for (const s of d.steps) console.log(`  ${s.status.padEnd(8)} ${s.name}${s.message ? `: ${s.message}` : ''}`);
    const health = await httpRequest(h.sbx.caddy.httpPort, '/api/health', { host: 'demo.localhost' });
    console.log(
      `demo app through Caddy: GET http://demo.localhost/api/health -> ${health.status} ${health.body.trim()}`,
    );
    const admin = await httpRequest(h.sbx.caddy.httpPort, '/_/', { host: 'demo.localhost' });
    const app = (await h.api('GET', '/api/apps/demo')).body;
    console.log(
      `PocketBase ${app.version}'s admin UI through Caddy: GET http://demo.localhost/_/ -> ${admin.status}` +
        ` (${/<title>([^<]*)<\/title>/.exec(admin.body)?.[1] ?? 'no title'}); open it with` +
        ` curl -H "Host: demo.localhost" $POCKETD_HTTP/_/ or a browser that resolves demo.localhost to 127.0.0.1`,
    );
    console.log(`dashboard: open ${h.url}/ and sign in as admin@pocketd.localhost / ${password}`);
    console.log(`try: curl -H "Authorization: Bearer $POCKETD_TOKEN" $POCKETD_URL/api/apps`);
    console.log(`     curl -H "Host: demo.localhost" $POCKETD_HTTP/api/health`);
    console.log(`POCKETD_URL=${h.url}`);
    console.log(`POCKETD_TOKEN=${h.token}`);
    console.log(`POCKETD_HTTP=http://127.0.0.1:${h.sbx.caddy.httpPort}`);
    console.log('running; press Ctrl-C to power the sandbox off');
  } catch (err) {
    console.error(`sandbox: ${(err as Error).message}`);
    await stop();
  }
  await new Promise(() => {
    /* until a signal */
  });
}

void main().catch((err: unknown) => {
  console.error(`sandbox: ${(err as Error).message}`);
  process.exit(1);
});
