#!/bin/sh
# The by-hand baseline of a create: what PocketBase's docs ("Going to production") tell a self-hoster
# to do for one app, as root, timed from the first command to the first healthy answer. A system user,
# the release zip unpacked into the app's own directory, a unit written and loaded, the app enabled
# and started, a Caddy site block added and Caddy reloaded, then /api/health asked until it answers.
# No sandboxing, no validation, no undo: the floor a tool is measured against, not a model.
#
#   by-hand-create.sh NAME PORT ZIP
# Prints one line: "by-hand NAME: <ms> ms (user+unzip <ms>, unit+start <ms>, caddy <ms>, health <ms>)".
set -eu
name=$1 port=$2 zip=$3
ms() { echo $(($(date +%s%N) / 1000000)); }
t0=$(ms)
user=pbhand-$name dir=/srv/pbhand/$name
useradd --system --no-create-home --shell /usr/sbin/nologin "$user"
mkdir -p "$dir"
unzip -q -o "$zip" pocketbase -d "$dir"
chown -R "$user:$user" "$dir"
t1=$(ms)
cat > "/etc/systemd/system/pbhand-$name.service" <<EOF
[Unit]
Description = pocketbase $name

[Service]
Type           = simple
User           = $user
Group          = $user
LimitNOFILE    = 4096
Restart        = always
RestartSec     = 5s
WorkingDirectory = $dir
ExecStart      = $dir/pocketbase serve --http=127.0.0.1:$port

[Install]
WantedBy = multi-user.target
EOF
systemctl daemon-reload
systemctl enable --now --quiet "pbhand-$name.service"
t2=$(ms)
cat >> /etc/caddy/Caddyfile <<EOF

http://$name.by-hand.test {
	request_body {
		max_size 10MB
	}
	reverse_proxy 127.0.0.1:$port
}
EOF
systemctl reload caddy
t3=$(ms)
until curl -fs -o /dev/null "http://127.0.0.1:$port/api/health"; do sleep 0.05; done
t4=$(ms)
echo "by-hand $name: $((t4 - t0)) ms (user+unzip $((t1 - t0)), unit+start $((t2 - t1)), caddy $((t3 - t2)), health $((t4 - t3)))"
