# Sourced by the examples of docs/supervision.md (walkthrough.sh, reassign.sh,
# import-dry-run.sh): a whole
# closeloop on a free port with a temp data_dir and a test clock set to Monday 30 November
# 2026, 09:00 in Shanghai (so the dates come out the same on any day), and run(), which
# prints a command as the docs show it and then its output. Expects `root` and BUILD_DIR
# as the example's first argument.
bin=$(realpath -m "${1:-$root/build}")/bin  # absolute: the examples cd
work=$(mktemp -d)
trap 'kill $(cat "$work/pid" 2>/dev/null) 2>/dev/null || true; rm -rf "$work"' EXIT
port=$((30000 + RANDOM % 20000))
{
  echo "endpoint = \"tcp://127.0.0.1:$port\""
  echo "data_dir = \"$work/data\""
  grep -vE '^[[:space:]]*(endpoint|data_dir)[[:space:]]*=' "$root/config/closeloop.toml"
  echo "[calendar]"; echo "dir = \"$root/config/calendar\""
  echo "[timer]"; echo "scan_ms = 500"
  echo "[testing]"; echo "clock_file = \"$work/clock\""
} > "$work/closeloop.toml"
clock() { echo "$1" > "$work/clock.new" && mv "$work/clock.new" "$work/clock"; }
clock 2026-11-30T01:00:00Z   # Monday 30 November 2026, 09:00 in Shanghai
"$bin/closeloopd" --config "$work/closeloop.toml" 2>"$work/log" & echo $! > "$work/pid"
export CLOSELOOP_CONFIG=$work/closeloop.toml
run() { local shown="$*"; echo "\$ closeloop ${shown//$work\//}"; "$bin/closeloop" "$@" || echo "(exit $?)"; echo; }
until "$bin/closeloop" ping >/dev/null 2>&1; do sleep 0.2; done
sleep 1
# Waits until the timer has escalated N items (its scans every 500 ms on a busy machine).
escalated() {
  until [ "$("$bin/closeloop" --json attention | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')" -ge "$1" ]; do
    sleep 0.3
  done
}
