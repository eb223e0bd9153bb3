#!/usr/bin/env bash
# Installs the Debian 12 packages closeloop builds and tests with, but only those missing,
# so `make` stays quick on a machine that already has them. Needs root (or sudo) to install.
set -euo pipefail
packages=(
  build-essential cmake pkgconf
  libzmq3-dev cppzmq-dev libmsgpack-cxx-dev libleveldb-dev libsnappy-dev libspdlog-dev
  libssl-dev libcli11-dev libtomlplusplus-dev nlohmann-json3-dev catch2
  libsodium-dev                       # Ed25519 checkpoint signatures
  gettext                             # the message catalogs (po/): xgettext, msgfmt
  tzdata                              # the office's time zone (config `timezone`)
  clang libclang-rt-14-dev            # the libFuzzer target
  python3 python3-zmq python3-msgpack # the independent client used by the bad-input tests
  libsystemd-dev systemd              # sd_notify (readiness, watchdog); systemd-analyze verify
  libcpp-httplib-dev                  # the broker's Prometheus /metrics endpoint
  dpkg-dev lintian fakeroot           # make deb (CPack) and the package's checks
)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
((${#missing[@]})) || exit 0
echo "installing: ${missing[*]}"
sudo=""
[[ $(id -u) -eq 0 ]] || sudo=sudo
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends "${missing[@]}"
