#!/usr/bin/env bash
# The dry run of docs/supervision.md ("A dry run, worked through"), runnable: a closeloop
# on a free port with a temp data_dir and a test clock, the year's list imported, then a
# draft of more rows checked with --dry-run (nothing imported), then the template.
#   docs/examples/import-dry-run.sh [BUILD_DIR]
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
bin=${1:-$root/build}/bin
work=$(mktemp -d)
trap 'kill $(cat "$work/pid" 2>/dev/null) 2>/dev/null || true; rm -rf "$work"' EXIT
port=$((30000 + RANDOM % 20000))
{
  echo "endpoint = \"tcp://127.0.0.1:$port\""
  echo "data_dir = \"$work/data\""
  grep -vE '^[[:space:]]*(endpoint|data_dir)[[:space:]]*=' "$root/config/closeloop.toml"
  echo "[calendar]"; echo "dir = \"$root/config/calendar\""
  echo "[testing]"; echo "clock_file = \"$work/clock\""
} > "$work/closeloop.toml"
echo 2026-11-30T01:00:00Z > "$work/clock"   # Monday 30 November 2026, 09:00 in Shanghai
"$bin/closeloopd" --config "$work/closeloop.toml" 2>"$work/log" & echo $! > "$work/pid"
export CLOSELOOP_CONFIG=$work/closeloop.toml
run() { echo "\$ closeloop $*"; "$bin/closeloop" "$@" || echo "(exit $?)"; echo; }
until "$bin/closeloop" ping >/dev/null 2>&1; do sleep 0.2; done
cd "$root"
run import docs/examples/list-2026.csv
run import --dry-run docs/examples/list-2026-draft.csv
run --json import --dry-run docs/examples/list-2026-draft.csv
echo "\$ closeloop import --template"; "$bin/closeloop" import --template | sed 's/^\xEF\xBB\xBF//; s/\r$//'
