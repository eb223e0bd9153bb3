#!/usr/bin/env bash
# The Debian package, built by cpack from BUILD_DIR into a temp dir (as `make deb` builds
# it into build/), checked: its files (`dpkg-deb -c`: the binaries and nothing of the
# tests or the bench, the units, the conffile, the docs), its control data (Depends from
# dpkg-shlibdeps and adduser, the maintainer scripts, the conffile), and lintian with no
# error and no warning (what is overridden, and why, is in deploy/debian/lintian-overrides).
# Usage: check-deb.sh BUILD_DIR
set -euo pipefail
build=$(cd "$1" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

cpack -G DEB --config "$build/CPackConfig.cmake" -B "$tmp" >"$tmp/cpack.log" 2>&1 ||
  fail "cpack: $(cat "$tmp/cpack.log")"
debs=("$tmp"/closeloop_*_amd64.deb)
[[ -f ${debs[0]} ]] || fail "cpack made no closeloop_*_amd64.deb: $(ls "$tmp")"
deb=${debs[0]}
echo "built $(basename "$deb")"

dpkg-deb -c "$deb" | awk '{print $6 ($7 == "->" ? " -> " $8 : "")}' | sed 's|^\./|/|' >"$tmp/files"
expected=(
  /usr/bin/closeloop /usr/bin/closeloopd /usr/bin/closeloop-broker /usr/bin/closeloop-ledger
  /usr/bin/closeloop-intake /usr/bin/closeloop-dispatch /usr/bin/closeloop-handle
  /usr/bin/closeloop-verify /usr/bin/closeloop-close /usr/bin/closeloop-timer
  /lib/systemd/system/closeloop.target /lib/systemd/system/closeloop.service
  /etc/closeloop/closeloop.toml /usr/share/closeloop/calendar/cn-2026.csv
  /usr/share/doc/closeloop/copyright /usr/share/doc/closeloop/changelog.Debian.gz
  /usr/share/doc/closeloop/README.Debian /usr/share/man/man1/closeloop.1.gz
  /usr/share/man/man8/closeloopd.8.gz /usr/share/lintian/overrides/closeloop
  /usr/share/doc/closeloop/grafana/closeloop.json
)
for worker in broker ledger intake dispatch handle verify close timer; do
  expected+=("/lib/systemd/system/closeloop-$worker.service")
done
for path in "${expected[@]}"; do
  grep -qx -- "$path" "$tmp/files" || fail "the package lacks $path"
done
if grep -E 'unit_tests|integration_tests|fuzz|bench|fsync_probe|/var/' "$tmp/files"; then
  fail "the package holds test or bench files, or ships /var (the postinst makes it)"
fi
echo "dpkg-deb -c: the ${#expected[@]} expected files, no test, bench or /var file"

depends=$(dpkg-deb -f "$deb" Depends)
for dependency in adduser libzmq5 libleveldb1d libsodium23 libssl3; do
  [[ $depends == *"$dependency"* ]] || fail "Depends lacks $dependency: $depends"
done
echo "Depends: $depends"
dpkg-deb -e "$deb" "$tmp/control"
for script in postinst prerm postrm; do
  [[ -x $tmp/control/$script ]] || fail "no executable $script"
  sh -n "$tmp/control/$script" || fail "$script is not valid sh"
done
[[ $(cat "$tmp/control/conffiles") == /etc/closeloop/closeloop.toml ]] ||
  fail "conffiles: $(cat "$tmp/control/conffiles")"
grep -q 'closeloopd --init' "$tmp/control/postinst" || fail "the postinst does not run closeloopd --init"
echo "control: postinst, prerm, postrm; conffile /etc/closeloop/closeloop.toml"

lintian --fail-on error,warning --tag-display-limit 0 "$deb" >"$tmp/lintian.log" 2>&1 ||
  fail "lintian: $(cat "$tmp/lintian.log")"
echo "lintian: no error, no warning"
sed 's/^/  /' "$tmp/lintian.log"
