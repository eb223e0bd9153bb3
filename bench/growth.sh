#!/usr/bin/env bash
# Bounded growth (issue 9): runs N whole lifecycles (submit → assign → handle → verify →
# close, durable acks, closeloop-bench at W = 64) through one fresh service, and after every
# tenth of them reports, per worker, its disk bytes and resident memory, in total and per
# item so far. Flat per-item figures mean the service does not grow with its history beyond
# what it must keep (the ledger's events, intake's keys).
#
#   bench/run.sh --lifecycles N [BUILD_DIR]    (the same as bench/growth.sh N [BUILD_DIR])
#
# Environment: GROWTH_STEPS=10 (how many reports), GROWTH_WINDOW=64 (lifecycles in flight).
# Prints a Markdown table and keeps it in bench/results/growth-<time>.md. Everything listens
# on 127.0.0.1; whatever this script started is stopped by its pid, its temp data deleted.
set -euo pipefail

say() { printf 'growth: %s\n' "$*" >&2; }
die() { say "$*"; exit 1; }

N=${1:?usage: bench/growth.sh N [BUILD_DIR]}
[[ $N =~ ^[0-9]+$ && $N -gt 0 ]] || die "N must be a positive number of lifecycles, got '$N'"
root=$(cd "$(dirname "$0")/.." && pwd)
build=${2:-build}
[[ $build == /* ]] || { [[ -d $build ]] && build=$(cd "$build" && pwd) || build=$root/$build; }
bin=$build/bin
for exe in closeloopd closeloop closeloop-bench; do
  [[ -x $bin/$exe ]] || die "missing $bin/$exe: build first (make build, or cmake --build $build)"
done
STEPS=${GROWTH_STEPS:-10}
WINDOW=${GROWTH_WINDOW:-64}
WORKERS="intake dispatch handle verify close ledger timer"

stamp=$(date +%Y%m%d-%H%M%S)
mkdir -p "$root/bench/results"
OUT=$root/bench/results/growth-$stamp.md
tmp=$(mktemp -d /tmp/closeloop-growth.XXXXXX)
DAEMON_PID=""
cleanup() {
  if [[ -n $DAEMON_PID ]] && kill -0 "$DAEMON_PID" 2>/dev/null; then
    kill -TERM "$DAEMON_PID" 2>/dev/null || true
    for _ in $(seq 150); do kill -0 "$DAEMON_PID" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$DAEMON_PID" 2>/dev/null || true
  fi
  rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
port=""
for _ in $(seq 200); do
  p=$((20000 + (RANDOM * 32768 + RANDOM) % 20000 * 2))
  if ! port_in_use "$p" && ! port_in_use $((p + 1)); then port=$p; break; fi
done
[[ -n $port ]] || die "no free port pair found"
CONFIG=$tmp/closeloop.toml
{
  echo "endpoint = \"tcp://127.0.0.1:$port\""
  echo "data_dir = \"$tmp/data\""
  echo "sync = true"
  grep -vE '^[[:space:]]*(endpoint|data_dir|sync|backend)[[:space:]]*=' "$root/config/closeloop.toml"
  printf '\n[calendar]\ndir = "%s"\n' "$root/config/calendar"  # the file is elsewhere
} >"$CONFIG"
"$bin/closeloopd" --config "$CONFIG" >"$tmp/closeloopd.log" 2>&1 &
DAEMON_PID=$!
cli=("$bin/closeloop" --config "$CONFIG" --timeout 10000)
for _ in $(seq 300); do
  "${cli[@]}" ping --json 2>/dev/null | grep -q '"ledger"' && break
  kill -0 "$DAEMON_PID" 2>/dev/null || { tail -20 "$tmp/closeloopd.log" >&2; die "closeloopd exited"; }
  sleep 0.1
done
# The bench acts through a gateway account (its own key) for the office and zjj's clerk.
for name in clerk-zjj bench; do "$bin/closeloop" keygen --out "$tmp/$name.key" >/dev/null; done
public() { sed -n 's/^public = "\(.*\)"$/\1/p' "$1"; }
admin=("${cli[@]}" --key "$tmp/data/keys/admin.key")
"${admin[@]}" user add clerk-zjj --role department --department zjj --key "$(public "$tmp/clerk-zjj.key")" >/dev/null
"${admin[@]}" user add bench --role office --gateway --key "$(public "$tmp/bench.key")" >/dev/null

pid_of() { # the pid of closeloop-<worker> under closeloopd (comm is cut at 15 characters)
  local p exe
  for p in $(pgrep -P "$DAEMON_PID"); do
    exe=$(tr '\0' '\n' <"/proc/$p/cmdline" 2>/dev/null | head -1)
    [[ ${exe##*/} == "closeloop-$1" ]] && { echo "$p"; return 0; }
  done
  return 0
}
rss_kib() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status" 2>/dev/null || echo 0; }

{
  echo "| lifecycles | worker | disk MiB | disk bytes/item | RSS MiB | RSS bytes/item |"
  echo "|---:|---|---:|---:|---:|---:|"
} | tee "$OUT"
done_n=0 total_s=0
step=$(( (N + STEPS - 1) / STEPS ))
while (( done_n < N )); do
  n=$(( N - done_n < step ? N - done_n : step ))
  start=$(date +%s)
  "$bin/closeloop-bench" --endpoint "tcp://127.0.0.1:$port" --config "$CONFIG" \
    --key "$tmp/bench.key" --office office --clerk clerk-zjj --items "$n" --warmup 0 \
    --window "$WINDOW" --max-seconds 86400 >"$tmp/bench.out" 2>"$tmp/bench.err" ||
    { cat "$tmp/bench.err" >&2; die "closeloop-bench failed after $done_n lifecycles"; }
  total_s=$(( total_s + $(date +%s) - start ))
  done_n=$(( done_n + n ))
  sleep 2  # the last acks' lazy deletes and the markers' pruning settle
  for w in $WORKERS; do
    disk=$(du -sb "$tmp/data/$w" | cut -f1)
    pid=$(pid_of "$w")
    rss=$(( $(rss_kib "${pid:-0}") * 1024 ))
    awk -v n="$done_n" -v w="$w" -v d="$disk" -v r="$rss" 'BEGIN {
      printf "| %d | %s | %.1f | %.0f | %.1f | %.0f |\n", n, w, d / 1048576, d / n, r / 1048576, r / n }'
  done | tee -a "$OUT"
done
{
  echo
  echo "$N lifecycles in $total_s s at W = $WINDOW, sync = true ($(nproc) CPUs, $(date -u +%Y-%m-%d))."
} | tee -a "$OUT"
say "kept in ${OUT#$root/}"
