#!/usr/bin/env bash
# Installs the Debian package into a fresh Debian 12 chroot and runs the service there:
#  1. a pristine bookworm (debootstrap --variant=minbase), made once and kept in
#     $CLOSELOOP_CHROOT_CACHE (default /var/cache/closeloop-test-deb), copied for each run;
#  2. the .deb installed with apt, so that its Depends resolve from Debian's mirror
#     ($CLOSELOOP_DEBIAN_MIRROR, default http://deb.debian.org/debian); the postinst makes
#     the user closeloop, /var/lib/closeloop and the keys (closeloopd --init);
#  3. `closeloopd --init` again (it keeps every key), then the service started without
#     systemd (a chroot has no PID 1): closeloopd as the user closeloop with the installed
#     config, in a network namespace of its own so that its ports meet no other;
#  4. a first lifecycle with the CLI as the user closeloop (the admin adds a department's
#     clerk, the office submits, assigns, verifies and closes, the clerk handles), the
#     trail verified, then closeloopd stopped (SIGTERM) and the package purged.
# Needs root and the network; not part of `make test` (minutes, not seconds).
# Usage: deploy/test-deb.sh [PACKAGE.deb]   (default: the newest build/closeloop_*_amd64.deb;
#        none: `make deb` first). CLOSELOOP_KEEP_CHROOT=1 keeps the chroot for a look.
set -euo pipefail
cd "$(dirname "$0")/.."
[[ $(id -u) -eq 0 ]] || { echo "deploy/test-deb.sh: run it as root" >&2; exit 2; }

cache=${CLOSELOOP_CHROOT_CACHE:-/var/cache/closeloop-test-deb}
mirror=${CLOSELOOP_DEBIAN_MIRROR:-http://deb.debian.org/debian}
step() { printf '\n=== %s\n' "$*"; }

deb=${1:-}
if [[ -z $deb ]]; then
  deb=$(ls -t build/closeloop_*_amd64.deb 2>/dev/null | head -1 || true)
  if [[ -z $deb ]]; then
    make deb
    deb=$(ls -t build/closeloop_*_amd64.deb | head -1)
  fi
fi
[[ -f $deb ]] || { echo "deploy/test-deb.sh: no such package: $deb" >&2; exit 2; }

if [[ ! -d $cache/bookworm ]]; then
  step "a pristine Debian 12 in $cache/bookworm (once)"
  command -v debootstrap >/dev/null || apt-get install -y -qq --no-install-recommends debootstrap
  mkdir -p "$cache"
  rm -rf "$cache/bookworm.tmp"
  debootstrap --variant=minbase bookworm "$cache/bookworm.tmp" "$mirror"
  mv "$cache/bookworm.tmp" "$cache/bookworm"
fi

root=$(mktemp -d /var/tmp/closeloop-chroot-XXXXXX)
cleanup() {
  # Whatever still runs in the chroot (a step failed) is ours: stopped before it goes.
  for proc in /proc/[0-9]*; do
    [[ $(readlink "$proc/root" 2>/dev/null) == "$root" ]] && kill -KILL "${proc#/proc/}" 2>/dev/null
  done
  umount -l "$root/proc" 2>/dev/null || true
  if [[ -n ${CLOSELOOP_KEEP_CHROOT:-} ]]; then echo "kept the chroot: $root"; else rm -rf "$root"; fi
}
trap cleanup EXIT
cp -a "$cache/bookworm/." "$root/"
mount -t proc proc "$root/proc"
cp /etc/resolv.conf "$root/etc/resolv.conf"
cat >"$root/etc/apt/sources.list" <<SOURCES
deb $mirror bookworm main
deb $mirror bookworm-updates main
deb http://deb.debian.org/debian-security bookworm-security main
SOURCES
cp "$deb" "$root/tmp/"
in_root() { chroot "$root" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 "$@"; }

step "apt-get install ./$(basename "$deb") in a fresh Debian $(cat "$root/etc/debian_version")"
in_root apt-get update -qq
in_root env DEBIAN_FRONTEND=noninteractive apt-get -o Dpkg::Use-Pty=0 install -y -q --no-install-recommends \
  "/tmp/$(basename "$deb")" 2>&1 | grep -v '^\(Get\|Selecting\|Preparing\|Unpacking\|Setting up lib\)'
in_root dpkg -s closeloop | grep -E '^(Status|Version|Depends):'
in_root id closeloop
in_root ls -la /var/lib/closeloop /var/lib/closeloop/keys
in_root ls -l /etc/systemd/system/multi-user.target.wants/  # enabled, for when systemd runs

step "closeloopd --init again, as the user closeloop: every key kept"
in_root runuser -u closeloop -- closeloopd --init --config /etc/closeloop/closeloop.toml

# The service and its CLI, in a network namespace of their own (loopback only).
step "closeloopd started as the user closeloop (no systemd in a chroot), a first lifecycle"
cat >"$root/tmp/lifecycle.sh" <<'LIFECYCLE'
set -eu
# A command as the user closeloop, shown as typed.
as_closeloop() { echo "closeloop\$ $*"; runuser -u closeloop -- "$@"; }
# setpriv execs closeloopd itself (runuser would stay as its parent): $! is closeloopd.
setpriv --reuid=closeloop --regid=closeloop --clear-groups -- \
  closeloopd --config /etc/closeloop/closeloop.toml 2>/tmp/closeloopd.log &
daemon=$!
trap 'kill -TERM $daemon 2>/dev/null || true' EXIT  # a failed step still stops it
# Ready when the broker lists the seven workers live (at most 30 s).
live() { runuser -u closeloop -- closeloop ping 2>/dev/null | grep -cxE 'ledger|intake|dispatch|handle|verify|close|timer'; }
for _ in $(seq 150); do
  [ "$(live)" = 7 ] && break
  sleep 0.2
done
cd /tmp
as_closeloop closeloop ping
echo "closeloop\$ closeloop keygen --out /tmp/zgjd.key"
zgjd=$(runuser -u closeloop -- closeloop keygen --out /tmp/zgjd.key)
echo "$zgjd"
as_closeloop closeloop --key /var/lib/closeloop/keys/admin.key user add 紫港街道 \
  --role department --department zgjd --key "$zgjd"
as_closeloop closeloop submit --title "老旧小区停车难" \
  --body "紫港街道幸福里小区车位不足，夜间乱停放堵塞消防通道。" \
  --category governance --source zgjd-station --submitter "王丽（代表）"
as_closeloop closeloop assign 2026-000001 --department zgjd
as_closeloop closeloop --key /tmp/zgjd.key handle 2026-000001 \
  --reply "已施划车位60个，消防通道设置禁停标识。" --outcome solved
as_closeloop closeloop verify 2026-000001 --via paper --attitude satisfied --result satisfied
as_closeloop closeloop close 2026-000001
as_closeloop closeloop trail 2026-000001 --verify
kill -TERM "$daemon"
wait "$daemon" && echo "closeloopd exited 0 on SIGTERM; the end of its log:"
trap - EXIT
tail -4 /tmp/closeloopd.log
LIFECYCLE
unshare --net -- sh -c 'ip link set lo up && exec chroot "$1" /usr/bin/env -i \
  PATH=/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 /bin/sh /tmp/lifecycle.sh' sh "$root"

step "apt-get purge closeloop"
in_root env DEBIAN_FRONTEND=noninteractive apt-get -o Dpkg::Use-Pty=0 purge -y -q closeloop 2>&1 | grep -v '^Reading'
[[ ! -e $root/var/lib/closeloop ]] && echo "/var/lib/closeloop: gone"
in_root id closeloop
echo
echo "deploy/test-deb.sh: $(basename "$deb") installed, served a lifecycle and was purged in a fresh Debian 12"
