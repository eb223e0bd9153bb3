#!/usr/bin/env bash
# What the package installs, checked without the package: `cmake --install` into a staging
# root (as dpkg would lay it out, prefix /usr), then
#  - `systemd-analyze verify` on every unit there, with no output allowed (its warnings,
#    an unknown key among them, fail too). --root makes it look for ExecStart= and
#    ExecReload= binaries in the staging root, so no systemd need run (CI is a container);
#    the units every service depends on by default (sysinit.target…) are the host's,
#    copied in.
#  - every service unit carries the lines issue 9 asks of it (readiness, watchdog,
#    reload, exit 78, the user, the state directory, the sandbox) and issue 16's
#    descriptor limit;
#  - the config the package installs is valid, and finds the calendar the package
#    installs: `closeloopd --init` on it (its data_dir moved into a temp dir) makes the
#    keys, and `closeloop due` counts a due date on its calendar, not provisionally.
# Usage: staged-install.sh BUILD_DIR
set -euo pipefail
build=$(cd "$1" && pwd)
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

DESTDIR=$stage cmake --install "$build" --prefix /usr >/dev/null
units_dir=$stage/lib/systemd/system
units=("$units_dir"/closeloop*.service "$units_dir"/closeloop.target)
((${#units[@]} == 10)) || fail "expected 10 units, found ${#units[@]}: ${units[*]}"

mkdir -p "$stage/bin" && cp /bin/kill "$stage/bin/kill"
cp -an /lib/systemd/system/. "$units_dir/"
if ! out=$(systemd-analyze verify --root="$stage" --man=no --generators=no "${units[@]}" 2>&1); then
  fail "systemd-analyze verify: $out"
fi
[[ -z $out ]] || fail "systemd-analyze verify warned: $out"
echo "systemd-analyze verify: ${#units[@]} units, no warning"

required=(
  Type=notify NotifyAccess=main WatchdogSec=30s 'ExecReload=/bin/kill -HUP $MAINPID'
  RestartPreventExitStatus=78 User=closeloop Group=closeloop StateDirectory=closeloop
  StateDirectoryMode=0750 UMask=0027 LimitNOFILE=65536 NoNewPrivileges=yes ProtectSystem=strict
  ProtectHome=yes PrivateTmp=yes PrivateDevices=yes ProtectKernelTunables=yes
  ProtectKernelModules=yes ProtectKernelLogs=yes ProtectControlGroups=yes ProtectClock=yes
  ProtectHostname=yes
  'RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6' RestrictNamespaces=yes LockPersonality=yes
  MemoryDenyWriteExecute=yes RestrictRealtime=yes RestrictSUIDSGID=yes
  SystemCallArchitectures=native SystemCallFilter=@system-service CapabilityBoundingSet=
)
for unit in "$units_dir"/closeloop*.service; do
  for line in "${required[@]}"; do
    grep -qxF -- "$line" "$unit" || fail "$(basename "$unit") lacks the line: $line"
  done
  exec_start=$(sed -n 's/^ExecStart=\([^ ]*\) .*/\1/p' "$unit")
  [[ -x $stage$exec_start ]] || fail "$(basename "$unit"): ExecStart=$exec_start is not installed"
  grep -q -- '--config /etc/closeloop/closeloop.toml$' "$unit" ||
    fail "$(basename "$unit") does not run with /etc/closeloop/closeloop.toml"
done
echo "every service unit: the ${#required[@]} required lines, its binary installed"

config=$stage/etc/closeloop/closeloop.toml
grep -qx 'data_dir = "/var/lib/closeloop"' "$config" || fail "the package's data_dir"
grep -qx 'calendar.dir = "/usr/share/closeloop/calendar"' "$config" || fail "its calendar.dir"
[[ -f $stage/usr/share/closeloop/calendar/cn-2026.csv ]] || fail "the calendar is not installed"
# The same file with its two paths under the staging root: valid, and its calendar found.
sed -e "s|^data_dir = .*|data_dir = \"$stage/data\"|" \
    -e "s|^calendar.dir = \"|calendar.dir = \"$stage|" "$config" >"$stage/test.toml"
"$stage/usr/bin/closeloopd" --init --config "$stage/test.toml" >"$stage/init.out" ||
  fail "closeloopd --init refused the package's config: $(cat "$stage/init.out")"
[[ -f $stage/data/keys/admin.key ]] || fail "closeloopd --init made no admin.key"
due=$("$stage/usr/bin/closeloop" --config "$stage/test.toml" due --from 2026-09-30 --kind station --json)
[[ $due == *'"provisional":false'* ]] || fail "the package's calendar was not read: $due"
echo "the package's config: valid, its calendar read ($due)"
