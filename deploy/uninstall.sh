#!/bin/bash
# Removes pocketd from this host, as root. Apps' units and sites are removed and
# their data kept in /var/lib/pocketd-apps unless --purge-data is given.
set -euo pipefail
PURGE=0
[[ ${1:-} == --purge-data ]] && PURGE=1
[[ $(id -u) == 0 ]] || { echo "uninstall.sh: run as root" >&2; exit 1; }
systemctl disable --now pocketd.service 2>/dev/null || true
for unit in /etc/systemd/system/pb-*.service; do
  [[ -e $unit ]] || continue
  systemctl disable --now "$(basename "$unit")" 2>/dev/null || true
  rm -f "$unit"
done
systemctl disable -q pocketd-firewall.service 2>/dev/null || true
systemctl disable -q --now pocketd-helper.socket 2>/dev/null || true
systemctl stop pocketd-helper.service 2>/dev/null || true
nft delete table inet pocketd_apps 2>/dev/null || true
rm -f /etc/systemd/system/pocketd.service /etc/systemd/system/pocketd-firewall.service /etc/systemd/system/pocketd-helper.socket /etc/systemd/system/pocketd-helper.service /etc/sudoers.d/pocketd /usr/local/bin/pocketd
rm -rf /usr/local/lib/pocketd /etc/caddy/pocketd /etc/caddy/pocketd-fallback.caddy
sed -i '\|^# Sites managed by pocketd$|d; \|^import /etc/caddy/pocketd/\*\.caddy$|d; \|^# A 404 for hosts no app serves (pocketd)$|d; \|^import /etc/caddy/pocketd-fallback\.caddy$|d' /etc/caddy/Caddyfile 2>/dev/null || true
# Caddy's admin stays on its unix socket (and the drop-in that makes its directory): safer than loopback TCP.
systemctl daemon-reload
systemctl is-active -q caddy.service && systemctl reload caddy.service || true
if [[ $PURGE == 1 ]]; then
  rm -rf /var/lib/pocketd /var/lib/pocketd-apps /var/lib/pocketd-releases /var/lib/pocketd-helper /etc/pocketd
  userdel pocketd 2>/dev/null || true
  userdel pocketbase 2>/dev/null || true
  echo "pocketd removed with all app data"
else
  rm -rf /var/lib/pocketd/staging
  echo "pocketd removed; app data kept in /var/lib/pocketd-apps, settings in /etc/pocketd and /var/lib/pocketd"
fi
