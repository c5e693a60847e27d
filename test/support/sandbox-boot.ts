import { existsSync, readFileSync, readdirSync, rmdirSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

/** Where the project is mounted read-only inside a sandbox. */
export const SANDBOX_SRC = '/srv/pocketd-src';

// How a sandbox boots (the script its new PID namespace runs) and where its cgroups live.

/**
 * Without a home of its own every sandbox's systemd takes the machine's cgroup root as its own,
 * so two sandboxes at once (parallel test lanes, or two developers) share
 * /system.slice/caddy.service, pb-<name>.service and their limits. Each sandbox
 * gets a subtree of its own in every hierarchy, a cgroup namespace rooted there
 * and that subtree mounted over /sys/fs/cgroup/<hierarchy>: its systemd sees a
 * host of its own, and so does pocketd reading cgroup files.
 */
export interface CgroupHome {
  /** Lines "<hierarchy mount> <group dir>" for the boot script (POCKETD_CGROUPS). */
  readonly spec: string;
  /** Removes the subtrees once the sandbox's processes are gone (a live one stays). */
  remove(): Promise<void>;
}

function hierarchyOf(controllers: string): string {
  if (controllers === '')
    return existsSync('/sys/fs/cgroup/unified/cgroup.procs') ? '/sys/fs/cgroup/unified' : '/sys/fs/cgroup';
  if (controllers === 'name=systemd') return '/sys/fs/cgroup/systemd';
  return `/sys/fs/cgroup/${controllers}`;
}

export function cgroupHome(): CgroupHome {
  const name = `pocketd-sbx-${process.pid}-${randomBytes(4).toString('hex')}`;
  const groups: { hierarchy: string; dir: string }[] = [];
  let text = '';
  try {
    text = readFileSync('/proc/self/cgroup', 'utf8');
  } catch {
    /* no cgroups: the sandbox boots as before */
  }
  for (const line of text.split('\n')) {
    const m = /^\d+:([^:]*):(\/.*)$/.exec(line);
    if (!m) continue;
    const hierarchy = hierarchyOf(m[1]!);
    if (!existsSync(path.join(hierarchy, 'cgroup.procs'))) continue;
    groups.push({ hierarchy, dir: path.join(hierarchy, m[2]!, name) });
  }
  return {
    spec: groups.map((g) => `${g.hierarchy} ${g.dir}`).join('\n'),
    async remove() {
      for (let i = 0; i < 50; i++) {
        if (groups.every((g) => removeTree(g.dir))) return;
        await sleep(40);
      }
    },
  };
}

/** rmdir from the leaves up; true when nothing is left. */
function removeTree(dir: string): boolean {
  let entries;
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return true;
  }
  for (const e of entries) if (e.isDirectory()) removeTree(path.join(dir, e.name));
  try {
    rmdirSync(dir);
    return true;
  } catch {
    return false;
  }
}

/**
 * Boot script lines, run as the new PID namespace's init before the overlay is
 * built: move into each subtree (a hierarchy that refuses is left shared).
 * CG_MOUNTS then lists "hierarchy=group" for the binds after /sys is mounted.
 */
const CGROUP_ENTER = `CG_MOUNTS=""
while read -r h g; do
  if [ -n "$h" ] && mkdir -p "$g" 2>/dev/null; then
    for f in cpuset.cpus cpuset.mems; do
      if [ -e "$g/$f" ]; then cat "$(dirname "$g")/$f" > "$g/$f" 2>/dev/null || true; fi
    done
    if echo $$ > "$g/cgroup.procs" 2>/dev/null; then CG_MOUNTS="$CG_MOUNTS $h=$g"; else rmdir "$g" 2>/dev/null || true; fi
  fi
done <<< "$POCKETD_CGROUPS"`;

/** After /sys is bound into the new root at $S/root. */
const CGROUP_MOUNT = `for m in $CG_MOUNTS; do mount --bind "\${m#*=}" "$S/root\${m%%=*}"; done
CG_UNSHARE=""; if [ -n "$CG_MOUNTS" ]; then CG_UNSHARE="/usr/bin/unshare --cgroup"; fi`;

/** Runs as root in fresh PID and mount namespaces; ends by exec-ing systemd as PID 1 (see shared/host-sandbox.md). */
export function bootScript(): string {
  return `set -e
${CGROUP_ENTER}
# /mnt is covered by a tmpfs private to this namespace, so nothing is created on the machine.
mount -t tmpfs -o mode=0755 tmpfs /mnt
S=/mnt
mkdir -p $S/upper $S/work $S/root
mount -t overlay overlay -o lowerdir=/,upperdir=$S/upper,workdir=$S/work $S/root
mount -t proc proc $S/root/proc
mount --rbind /sys $S/root/sys
mount --rbind /dev $S/root/dev
${CGROUP_MOUNT}
mount -t tmpfs -o mode=0755 tmpfs $S/root/run
mount -t tmpfs -o mode=1777 tmpfs $S/root/tmp
mkdir -p $S/root${SANDBOX_SRC}
mount --bind "$POCKETD_PROJECT" $S/root${SANDBOX_SRC}
mount -o remount,bind,ro $S/root${SANDBOX_SRC}
mkdir -p $S/root/etc/caddy
printf '%s' "$POCKETD_CADDYFILE" > $S/root/etc/caddy/Caddyfile
rm -f $S/root/etc/machine-id; : > $S/root/etc/machine-id
# Boot only what a host for pocketd needs: the machine's other services (databases,
# web servers) would clash with their twins on the shared network.
cat > $S/root/etc/systemd/system/pocketd-sandbox.target <<'UNIT'
[Unit]
Description=pocketd test sandbox
Requires=basic.target
Wants=caddy.service systemd-journald.service dbus.socket
After=basic.target caddy.service
AllowIsolate=yes
UNIT
mkdir -p $S/root/oldroot
cd $S/root
pivot_root . oldroot
umount -l /oldroot
rmdir /oldroot
exec env -i container=other $CG_UNSHARE /lib/systemd/systemd --system --log-target=null --unit=pocketd-sandbox.target
`;
}
