import type { HelperContext } from './context.js';
import { findUser, writeRootFile } from './root-files.js';

/** The nftables table the helper owns; nothing else in it, and nothing of it anywhere else. */
export const FIREWALL_TABLE = 'pocketd_apps';

/**
 * What one app may not do on this host's loopback: open a connection to another app's port. Units cannot say
 * it (IPAddressDeny cannot tell Caddy's connection in from the app's own out: both are 127.0.0.1), so the
 * helper keeps one nftables table, rendered whole from its own records and replaced in one transaction: for
 * each app, its ports (its PocketBase's, and for an app that may sleep the one behind its proxy) refuse a new
 * connection from any app user (the app uid range) but its own. Caddy, the daemon and root are not app users
 * and are not touched; a port no app has (a trial's, while it boots) is not either.
 */
export function renderFirewall(
  apps: Array<{ uid: number; ports: number[] }>,
  range: { uidMin: number; uidMax: number },
): string {
  const refusals = apps
    .filter((a) => a.ports.length > 0)
    .map(
      (a) =>
        `    oifname "lo" tcp dport { ${a.ports.join(', ')} } meta skuid != ${a.uid} meta skuid ${range.uidMin}-${range.uidMax} ct state new reject with tcp reset`,
    );
  return [
    `table inet ${FIREWALL_TABLE}`,
    `delete table inet ${FIREWALL_TABLE}`,
    `table inet ${FIREWALL_TABLE} {`,
    '  chain output {',
    '    type filter hook output priority 0; policy accept;',
    ...refusals,
    '  }',
    '}',
    '',
  ].join('\n');
}

/** Where the table is kept for boot: deploy/pocketd-firewall.service loads it before any app starts. */
export const FIREWALL_FILE = 'firewall.nft';

/**
 * Puts the table in place from the helper's records, after every change of an app's unit; the same text is
 * root's file in the helper's state directory, which pocketd-firewall.service loads at boot.
 */
export async function syncFirewall(ctx: HelperContext): Promise<void> {
  const apps: Array<{ uid: number; ports: number[] }> = [];
  for (const [name, r] of await ctx.records.all()) {
    const user = findUser(ctx.appUser(name));
    if (!user) continue;
    apps.push({ uid: user.uid, ports: [r.port, ...(r.app_port === undefined ? [] : [r.app_port])] });
  }
  const c = ctx.config;
  const script = renderFirewall(apps, { uidMin: c.app_uid_min, uidMax: c.app_uid_max });
  await writeRootFile(c.state_dir, FIREWALL_FILE, script, 0o600);
  await ctx.run(69, 'nft', ['-f', `${c.state_dir}/${FIREWALL_FILE}`]);
}
