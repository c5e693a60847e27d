#!/bin/bash
# Installs pocketd on a Debian/Ubuntu host, as root. Idempotent: a second run
# changes nothing. Run it from the unpacked pocketd tree (with node_modules and
# dist built), e.g. /opt/pocketd/deploy/install.sh.
#
#   --set KEY=VALUE   a setting for the first /etc/pocketd/config.json
#                     (e.g. --set listen=127.0.0.1:8091); an existing file is kept
#   --no-start        install, but do not enable and start pocketd
set -euo pipefail
umask 022
DIR=$(cd "$(dirname "$0")/.." && pwd)
HELPER=/usr/local/lib/pocketd/pocketd-helper
CONFIG=/etc/pocketd/config.json
SITES_DIR=/etc/caddy/pocketd
CADDYFILE=/etc/caddy/Caddyfile
START=1
SETTINGS=()
while [[ $# -gt 0 ]]; do
  case $1 in
    --set) SETTINGS+=("$2"); shift 2 ;;
    --no-start) START=0; shift ;;
    *) echo "install.sh: unknown option $1" >&2; exit 2 ;;
  esac
done

say() { echo "pocketd install: $*"; }
[[ $(id -u) == 0 ]] || { echo "install.sh: run as root" >&2; exit 1; }
for bin in node caddy sudo visudo systemctl sqlite3; do
  command -v "$bin" >/dev/null || { echo "install.sh: $bin is missing (apt-get install nodejs caddy sudo sqlite3)" >&2; exit 1; }
done
[[ -f $DIR/dist/src/cli/main.js ]] || { echo "install.sh: $DIR is not built (npm ci && npm run build)" >&2; exit 1; }

# Users: the daemon's, and the apps' (no shell, no login).
getent group pocketd >/dev/null || groupadd --system pocketd
id pocketd >/dev/null 2>&1 || useradd --system --gid pocketd --home-dir /var/lib/pocketd --no-create-home --shell /usr/sbin/nologin pocketd
getent group pocketbase >/dev/null || groupadd --system pocketbase
id pocketbase >/dev/null 2>&1 || useradd --system --gid pocketbase --home-dir /var/lib/pocketd-apps --no-create-home --shell /usr/sbin/nologin pocketbase
id -nG pocketd | tr ' ' '\n' | grep -qx systemd-journal || usermod -aG systemd-journal pocketd

# Directories, owners, modes.
install -d -o pocketd -g pocketd -m 0755 /var/lib/pocketd /var/lib/pocketd/releases
install -d -o pocketd -g pocketd -m 0700 /var/lib/pocketd/staging
install -d -o root -g root -m 0755 /var/lib/pocketd-apps /etc/pocketd "$SITES_DIR"
install -d -o root -g root -m 0700 /var/lib/pocketd-apps/.archive
install -d -o root -g pocketbase -m 0750 /etc/pocketd/env

# The helper, root-owned, and its config.
install -d -o root -g root -m 0755 "$(dirname "$HELPER")"
cmp -s "$DIR/deploy/pocketd-helper" "$HELPER" 2>/dev/null || install -o root -g root -m 0755 "$DIR/deploy/pocketd-helper" "$HELPER"
HELPER_CONF="STAGING_DIR=/var/lib/pocketd/staging
RELEASES_DIR=/var/lib/pocketd/releases
UNIT_DIR=/etc/systemd/system
SITES_DIR=$SITES_DIR
CADDYFILE=$CADDYFILE
APPS_DIR=/var/lib/pocketd-apps
ARCHIVE_DIR=/var/lib/pocketd-apps/.archive
ENV_DIR=/etc/pocketd/env
APPS_USER=pocketbase
DAEMON_USER=pocketd"
if [[ "$(cat /etc/pocketd/helper.conf 2>/dev/null)" != "$HELPER_CONF" ]]; then
  printf '%s\n' "$HELPER_CONF" > /etc/pocketd/helper.conf.tmp
  chmod 0644 /etc/pocketd/helper.conf.tmp
  mv -f /etc/pocketd/helper.conf.tmp /etc/pocketd/helper.conf
fi

# sudoers: only after visudo accepts it.
if ! cmp -s "$DIR/sudoers/pocketd" /etc/sudoers.d/pocketd 2>/dev/null; then
  visudo -cqf "$DIR/sudoers/pocketd" || { echo "install.sh: visudo rejects sudoers/pocketd" >&2; exit 1; }
  install -o root -g root -m 0440 "$DIR/sudoers/pocketd" /etc/sudoers.d/.pocketd.tmp
  mv -f /etc/sudoers.d/.pocketd.tmp /etc/sudoers.d/pocketd
  visudo -cq || { rm -f /etc/sudoers.d/pocketd; echo "install.sh: sudoers no longer valid; removed pocketd's" >&2; exit 1; }
fi

# The daemon's config, written once; later runs keep the admin's edits.
if [[ ! -f $CONFIG ]]; then
  node -e '
    const out = { data_dir: "/var/lib/pocketd", apps_dir: "/var/lib/pocketd-apps", archive_dir: "/var/lib/pocketd-apps/.archive",
      unit_dir: "/etc/systemd/system", sites_dir: process.argv[1], env_dir: "/etc/pocketd/env",
      helper: process.argv[2], helper_sudo: true, apps_user: "pocketbase" };
    for (const kv of process.argv.slice(3)) {
      const i = kv.indexOf("=");
      if (i < 1) { console.error(`install.sh: --set wants KEY=VALUE, got ${kv}`); process.exit(2); }
      out[kv.slice(0, i)] = kv.slice(i + 1);
    }
    process.stdout.write(JSON.stringify(out, null, 2) + "\n");
  ' "$SITES_DIR" "$HELPER" "${SETTINGS[@]}" > "$CONFIG.tmp"
  chown root:pocketd "$CONFIG.tmp"; chmod 0640 "$CONFIG.tmp"
  POCKETD_CONFIG="$CONFIG.tmp" node -e 'import(process.argv[1]).then(m => m.loadConfig())' "$DIR/dist/src/config.js" \
    || { rm -f "$CONFIG.tmp"; echo "install.sh: the settings are invalid" >&2; exit 2; }
  mv -f "$CONFIG.tmp" "$CONFIG"
  say "wrote $CONFIG"
fi

# A command-line wrapper that runs as the daemon's user with its config.
WRAPPER="#!/bin/sh
# Installed by pocketd's install.sh.
if [ \"\$(id -u)\" = 0 ]; then exec runuser -u pocketd -- env POCKETD_CONFIG=$CONFIG /usr/bin/node $DIR/bin/pocketd.js \"\$@\"; fi
exec env POCKETD_CONFIG=$CONFIG /usr/bin/node $DIR/bin/pocketd.js \"\$@\""
if [[ "$(cat /usr/local/bin/pocketd 2>/dev/null)" != "$WRAPPER" ]]; then
  printf '%s\n' "$WRAPPER" > /usr/local/bin/.pocketd.tmp; chmod 0755 /usr/local/bin/.pocketd.tmp; mv -f /usr/local/bin/.pocketd.tmp /usr/local/bin/pocketd
fi

# Caddy imports pocketd's sites, once.
IMPORT="import $SITES_DIR/*.caddy"
if ! grep -qxF "$IMPORT" "$CADDYFILE" 2>/dev/null; then
  printf '\n# Sites managed by pocketd\n%s\n' "$IMPORT" >> "$CADDYFILE"
  say "added '$IMPORT' to $CADDYFILE"
  if systemctl is-active -q caddy.service; then systemctl reload caddy.service; fi
fi

# The daemon's unit.
UNIT=$(sed "s|@INSTALL_DIR@|$DIR|g" "$DIR/deploy/pocketd.service")
CHANGED=0
if [[ "$(cat /etc/systemd/system/pocketd.service 2>/dev/null)" != "$UNIT" ]]; then
  printf '%s\n' "$UNIT" > /etc/systemd/system/.pocketd.service.tmp
  mv -f /etc/systemd/system/.pocketd.service.tmp /etc/systemd/system/pocketd.service
  systemctl daemon-reload
  CHANGED=1
fi
if [[ $START == 1 ]]; then
  systemctl is-enabled -q pocketd.service 2>/dev/null || systemctl enable -q pocketd.service
  if ! systemctl is-active -q pocketd.service; then systemctl start pocketd.service
  elif [[ $CHANGED == 1 ]]; then systemctl restart pocketd.service; fi
fi

cat <<MSG
pocketd is installed from $DIR.
Create the first admin and a token:
  pocketd admin create --email you@example.com --password-stdin
  pocketd token create --name first --scope admin
MSG
