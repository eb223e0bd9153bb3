#!/usr/bin/env bash
# make bench: closeloop's lifecycle throughput and latency beside this machine's raw
# limits and the peer (BullMQ + Redis), all measured in one run on one machine.
#
#   bench/run.sh [BUILD_DIR]          (make bench runs `bench/run.sh build`)
#   bench/run.sh --lifecycles N [BUILD_DIR]   disk and RSS per item per worker (bench/growth.sh)
#
# 1. closeloop: for each round and each W in $WINDOWS, a fresh service (closeloopd,
#    the 7 processes, a temp config copied from config/closeloop.toml with a free port,
#    a temp data_dir and sync = true) driven by build/bin/closeloop-bench: W
#    lifecycles in flight, submit → assign → handle → verify → close, durable acks.
# 2. the machine's limits: ../shared/bench/run-limits.sh (LevelDB, ZeroMQ).
# 3. the peer: ../shared/bench/run-bullmq.sh always "p5.w64 p5.w64.c8"; installs
#    redis-server, nodejs, npm with apt-get if missing (npm installs bullmq itself).
#    If the peer cannot run, the summary says so and the run goes on.
# 4. lists at scale: LIST_ITEMS items imported (`closeloop import`, CSV files of 50,000
#    rows) into one fresh service; at a tenth of them and at all of them, the time and
#    the CLI's peak memory of listing them all (streamed pages), the first page with each
#    filter, and the ledger's disk and memory per item.
# Then one summary table of medians (docs/performance.md explains every number).
# Raw METRIC lines and the summary are kept in bench/results/.
#
# Environment:
#   RUNS=3              rounds of closeloop runs (medians over them); also the limits' and
#                       the peer's rounds unless LIMIT_RUNS / PEER_RUNS say otherwise
#   BENCH_QUICK=1       smoke run: small N, 1 round, the limits' LevelDB part only, no peer
#   WINDOWS="1 64 512"  lifecycles in flight, one closeloop run each per round
#   ITEMS_W1=1200 ITEMS_W64=12000 ITEMS_W512=25000   measured lifecycles per run
#                       (ITEMS_W<n> for any other W; default 20*W, at least 1000)
#   BENCH_THREADS       client threads of closeloop-bench (default: its own, min(W, 2))
#   READS=0             leave out the request-path run (--reads-only at W=64, ITEMS_READS=20000)
#   LIST_ITEMS=1000000  items of part 4 (BENCH_QUICK: 20000)
#   BENCH_SECURITY=off  the service's [security] mode (default: the config's, curve)
#   SKIP_LIMITS=1 SKIP_PEER=1 SKIP_LIST=1   leave a part out
#   LIMIT_SECTIONS="ldb zmq"    sections of run-limits.sh ("ldb zmq pipe" adds the bare
#                       five-process pipeline, several minutes more)
#   BENCH_WORK          where shared/bench is copied and run (default ~/.cache/closeloop-bench;
#                       kept between runs, so its build/ and node_modules/ are reused)
# Everything listens on 127.0.0.1 only; every step is bounded in time; whatever this
# script started is stopped by its pid on exit, and its temp data is deleted.
set -euo pipefail

# bench/run.sh --lifecycles N [BUILD_DIR]: disk and memory per item as history grows
# (bench/growth.sh; docs/performance.md, "Bounded growth").
if [[ ${1:-} == --lifecycles ]]; then
  shift
  exec "$(dirname "$0")/growth.sh" "$@"
fi

say() { printf 'bench: %s\n' "$*" >&2; }
die() { say "$*"; exit 1; }

root=$(cd "$(dirname "$0")/.." && pwd)
root=$(git -C "$root" rev-parse --show-toplevel 2>/dev/null || echo "$root")
build=${1:-build}
[[ $build == /* ]] || { [[ -d $build ]] && build=$(cd "$build" && pwd) || build=$root/$build; }
bin=$build/bin
for exe in closeloopd closeloop closeloop-bench closeloop-broker; do
  [[ -x $bin/$exe ]] || die "missing $bin/$exe: build first (make build, or cmake --build $build)"
done
shared=$root/../shared/bench
if [[ ! -f $shared/run-limits.sh || ! -f $shared/run-bullmq.sh || ! -f $shared/summarize.sh ]]; then
  die "shared benchmarks not found at $shared (expected ../shared/bench beside the repository,
       with run-limits.sh, run-bullmq.sh and summarize.sh); cannot compare without them"
fi
shared=$(cd "$shared" && pwd)

QUICK=${BENCH_QUICK:-0}
[[ $QUICK == 0 ]] && QUICK=""
if [[ -n $QUICK ]]; then
  RUNS=${RUNS:-1}
  : "${ITEMS_W1:=200}" "${ITEMS_W64:=2000}" "${ITEMS_W512:=4000}" "${ITEMS_READS:=4000}"
  : "${SKIP_PEER:=1}" "${LIMIT_SECTIONS:=ldb}" "${LIST_ITEMS:=20000}"
fi
RUNS=${RUNS:-3}
LIMIT_RUNS=${LIMIT_RUNS:-$RUNS}
PEER_RUNS=${PEER_RUNS:-$RUNS}
WINDOWS=${WINDOWS-"1 64 512"}  # empty: leave part 1's lifecycle runs out
: "${ITEMS_W1:=1200}" "${ITEMS_W64:=12000}" "${ITEMS_W512:=25000}"
LIMIT_SECTIONS=${LIMIT_SECTIONS:-"ldb zmq"}
READS=${READS:-1}
[[ $READS == 0 ]] && READS=""
: "${ITEMS_READS:=20000}"
SKIP_LIMITS=${SKIP_LIMITS:-}
SKIP_PEER=${SKIP_PEER:-}
SKIP_LIST=${SKIP_LIST:-}
: "${LIST_ITEMS:=1000000}"
[[ $SKIP_LIMITS == 0 ]] && SKIP_LIMITS=""
[[ $SKIP_PEER == 0 ]] && SKIP_PEER=""
[[ $SKIP_LIST == 0 ]] && SKIP_LIST=""
export BENCH_WORK=${BENCH_WORK:-${XDG_CACHE_HOME:-$HOME/.cache}/closeloop-bench}

# The shared scripts run in place when their folder is writable, and for root every
# folder is: so they are always run from a copy, and shared/ is never written to.
# (-p keeps the sources' times, so make does not rebuild the copy's programs each time.)
work_copy() {
  mkdir -p "$BENCH_WORK" && cp -rpT "$shared" "$BENCH_WORK" && chmod -R u+w "$BENCH_WORK"
}

stamp=$(date +%Y%m%d-%H%M%S)
results=$root/bench/results
mkdir -p "$results"
RAW=$results/closeloop-$stamp.txt        # METRIC lines of the closeloop runs
LIMITS_OUT=$results/limits-$stamp.txt    # stdout of run-limits.sh (its summary table)
PEER_OUT=$results/peer-$stamp.txt        # stdout of run-bullmq.sh (its summary table)
LIST_OUT=$results/list-$stamp.md        # part 4's table
SUMMARY=$results/summary-$stamp.md
PROBLEMS=$results/service-problems-$stamp.txt
: >"$RAW"

tmp=$(mktemp -d /tmp/closeloop-bench.XXXXXX)
DAEMON_PID=""
stop_service() {
  [[ -n $DAEMON_PID ]] || return 0
  if kill -0 "$DAEMON_PID" 2>/dev/null; then
    kill -TERM "$DAEMON_PID" 2>/dev/null || true
    for _ in $(seq 150); do kill -0 "$DAEMON_PID" 2>/dev/null || break; sleep 0.1; done
    if kill -0 "$DAEMON_PID" 2>/dev/null; then
      say "closeloopd $DAEMON_PID did not stop within 15 s: SIGKILL (its children die with it)"
      kill -KILL "$DAEMON_PID" 2>/dev/null || true
    fi
  fi
  wait "$DAEMON_PID" 2>/dev/null || true
  DAEMON_PID=""
}
# Long steps run in the background and are waited for, so that a signal stops the run at
# once (bash runs traps only between foreground commands). On a signal the step gets TERM
# (`timeout` passes it to its process group; the shared scripts then stop their Redis
# themselves), then whatever it started in other process groups (the inner `timeout` of
# run-bullmq.sh and its node processes) is stopped by pid.
CHILD=""
run_step() {  # run_step <stdout file (appended)> <stderr file> <command...>
  local out=$1 err=$2 rc=0
  shift 2
  "$@" >>"$out" 2>"$err" &
  CHILD=$!
  wait "$CHILD" || rc=$?
  CHILD=""
  return "$rc"
}
descendants() {  # the pids of every process below $1
  local p
  for p in $(pgrep -P "$1" 2>/dev/null); do echo "$p"; descendants "$p"; done
}
cleanup() {
  if [[ -n $CHILD ]]; then
    local below p
    below=$(descendants "$CHILD")
    kill -TERM "$CHILD" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$CHILD" 2>/dev/null || break; sleep 0.1; done
    sleep 1  # the step's own traps stop what it started
    for p in $below; do kill -TERM "$p" 2>/dev/null || true; done
    sleep 1
    for p in $below; do kill -KILL "$p" 2>/dev/null || true; done
    wait "$CHILD" 2>/dev/null || true
  fi
  stop_service
  rm -rf "$tmp"
  [[ -s $PROBLEMS ]] || rm -f "$PROBLEMS"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# A port p with p and p+1 free on 127.0.0.1 (closeloop's backend is endpoint port + 1).
port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
free_port_pair() {
  local p
  for _ in $(seq 200); do
    p=$((20000 + (RANDOM * 32768 + RANDOM) % 20000 * 2))
    if ! port_in_use "$p" && ! port_in_use $((p + 1)); then echo "$p"; return 0; fi
  done
  die "no free port pair found"
}

# ---- 1. closeloop ----

# The repository's config with a free endpoint, a temp data_dir and sync = true. The
# top-level keys go first (before any [table]); the file's own lines for them are dropped.
write_config() {  # write_config <file> <port> <data_dir>
  {
    echo "# generated by bench/run.sh from config/closeloop.toml"
    echo "endpoint = \"tcp://127.0.0.1:$2\""
    echo "data_dir = \"$3\""
    echo "sync = true"
    grep -vE '^[[:space:]]*(endpoint|data_dir|sync|backend)[[:space:]]*=' "$root/config/closeloop.toml"
    [[ -n ${BENCH_SECURITY:-} ]] && printf '\n[security]\nmode = "%s"\n' "$BENCH_SECURITY"
    printf '\n[calendar]\ndir = "%s"\n' "$root/config/calendar"  # the file is elsewhere
  } >"$1"
  grep -q '^code = "zjj"' "$1" || die "config/closeloop.toml has no department zjj (the bench assigns to it)"
}

# Number of live services `closeloop ping --json` lists, or 0. The CLI and the bench find
# the office's key through the run's config (its data_dir), as an operator's CLI does.
live_services() {
  local out
  out=$(timeout 5 "$bin/closeloop" --config "$CONFIG" --endpoint "$1" --timeout 1000 ping --json 2>/dev/null) || { echo 0; return; }
  out=${out#*\"services\":[}
  out=${out%%]*}
  [[ -z $out ]] && { echo 0; return; }
  echo $(( $(tr -cd ',' <<<"$out" | wc -c) + 1 ))
}

# The accounts the bench acts through (with keys): a zjj clerk to handle, and a gateway
# (the bench's own key) that acts for the office and the clerk over one connection.
BENCH_ARGS=()
add_bench_accounts() {  # add_bench_accounts <run dir>
  local dir=$1 name
  BENCH_ARGS=()
  grep -q '^mode = "off"' "$CONFIG" && return 0
  for name in clerk-zjj bench; do
    "$bin/closeloop" keygen --out "$dir/$name.key" >/dev/null || return 1
  done
  local admin=(--config "$CONFIG" --key "$dir/data/keys/admin.key" --timeout 10000)
  "$bin/closeloop" "${admin[@]}" user add clerk-zjj --role department --department zjj \
    --key "$(sed -n 's/^public = "\(.*\)"$/\1/p' "$dir/clerk-zjj.key")" >/dev/null || return 1
  "$bin/closeloop" "${admin[@]}" user add bench --role office --gateway \
    --key "$(sed -n 's/^public = "\(.*\)"$/\1/p' "$dir/bench.key")" >/dev/null || return 1
  BENCH_ARGS=(--key "$dir/bench.key" --office office --clerk clerk-zjj)
}

ENDPOINT="" CONFIG=""
start_service() {  # start_service <run dir>
  local dir=$1 port
  mkdir -p "$dir"
  port=$(free_port_pair)
  ENDPOINT="tcp://127.0.0.1:$port"
  CONFIG="$dir/closeloop.toml"
  write_config "$CONFIG" "$port" "$dir/data"
  "$bin/closeloopd" --config "$dir/closeloop.toml" >"$dir/closeloopd.log" 2>&1 &
  DAEMON_PID=$!
  for _ in $(seq 200); do  # up to ~20 s
    if [[ $(live_services "$ENDPOINT") -ge 6 ]]; then add_bench_accounts "$dir"; return $?; fi
    kill -0 "$DAEMON_PID" 2>/dev/null || break
    sleep 0.1
  done
  say "closeloop did not come up on $ENDPOINT; its log:"
  tail -20 "$dir/closeloopd.log" >&2
  return 1
}

# Lines of a service log worth reporting (warnings, errors, exits and restarts).
log_problems() {  # log_problems <log> <label>
  grep -E 'warn|error|critical|exited|killed|signal|restart' "$1" |
    grep -vE 'exited with status 0|stopping on signal|closeloopd: stopped' |
    sed "s|^|[$2] |" || true
}

items_for() {
  local var="ITEMS_W$1"
  if [[ -n ${!var:-} ]]; then echo "${!var}"; else echo $(( $1 * 20 > 1000 ? $1 * 20 : 1000 )); fi
}

closeloop_ok=0 closeloop_failed=0
# One bench run on a fresh service: closeloop_run <round> <W> <N> <label> [closeloop-bench args...]
closeloop_run() {
  local r=$1 w=$2 n=$3 label=$4 rc=0 dir pids now_pids
  shift 4
  dir=$tmp/run-$r-$label
  if ! start_service "$dir"; then
    closeloop_failed=$((closeloop_failed + 1))
    log_problems "$dir/closeloopd.log" "round $r $label start" >>"$PROBLEMS"
    stop_service; rm -rf "$dir"; return
  fi
  pids=$(pgrep -P "$DAEMON_PID" | paste -sd, - || true)
  say "round $r/$RUNS $label N=$n on $ENDPOINT (pids $pids)"
  args=(--endpoint "$ENDPOINT" --config "$CONFIG" "${BENCH_ARGS[@]}" --items "$n" --window "$w" --pids "$pids" --max-seconds 40 "$@")
  [[ -n ${BENCH_THREADS:-} ]] && args+=(--threads "$BENCH_THREADS")
  echo "## round $r $label N=$n" >>"$RAW"
  run_step "$RAW" "$dir/bench.err" timeout 150 "$bin/closeloop-bench" "${args[@]}" || rc=$?
  if [[ $rc -eq 0 ]]; then
    closeloop_ok=$((closeloop_ok + 1))
  else
    closeloop_failed=$((closeloop_failed + 1))
    echo "FAILED: round $r $label (exit $rc)" >>"$RAW"
    echo "[round $r $label] closeloop-bench exited $rc" >>"$PROBLEMS"
    say "round $r $label: closeloop-bench failed (exit $rc):"
  fi
  sed 's/^/    /' "$dir/bench.err" >&2
  # a child that died and was restarted during the run shows as a new pid
  now_pids=$(pgrep -P "$DAEMON_PID" | paste -sd, - || true)
  [[ $now_pids == "$pids" ]] || echo "[round $r $label] service processes changed during the run: $pids -> $now_pids" >>"$PROBLEMS"
  stop_service
  log_problems "$dir/closeloopd.log" "round $r $label" >>"$PROBLEMS"
  grep -E 'error:|went away|time bound' "$dir/bench.err" | sed "s|^|[round $r $label] |" >>"$PROBLEMS" || true
  rm -rf "$dir"
}

: >"$PROBLEMS"
say "closeloop: $RUNS round(s) of W in {$WINDOWS}${READS:+ and the request path alone}, sync = true (raw: ${RAW#$root/})"
for r in $(seq 1 "$RUNS"); do
  for w in $WINDOWS; do
    closeloop_run "$r" "$w" "$(items_for "$w")" "W=$w"
  done
  # The request path alone: the same clients, broker and hops, five shows of a missing
  # item per "lifecycle", nothing written but each read's audit record: what the durable work
  # of the commands is read against.
  [[ -n $READS ]] && closeloop_run "$r" 64 "$ITEMS_READS" "reads-only W=64" --reads-only --tag closeloop_reads
done

# ---- 2. the machine's limits ----

limits_status="not run (SKIP_LIMITS)"
if [[ -z $SKIP_LIMITS ]]; then
  say "limits: run-limits.sh $LIMIT_RUNS \"$LIMIT_SECTIONS\" (in $BENCH_WORK)"
  lport=$(free_port_pair)
  work_copy || die "cannot copy $shared to $BENCH_WORK"
  : >"$LIMITS_OUT"
  if PORT=$lport run_step "$LIMITS_OUT" "$tmp/limits.err" \
      timeout 2400 "$BENCH_WORK/run-limits.sh" "$LIMIT_RUNS" "$LIMIT_SECTIONS"; then
    limits_status="ok"
    limits_raw=$(sed -n 's/^raw output: //p' "$LIMITS_OUT" | tail -1)
    [[ -n $limits_raw ]] && cp "$BENCH_WORK/$limits_raw" "$results/" 2>/dev/null || true
  else
    limits_status="FAILED (exit $?; see ${LIMITS_OUT#$root/} and below)"
    tail -5 "$tmp/limits.err" >&2
  fi
  grep -q FAILED "$tmp/limits.err" 2>/dev/null && limits_status="$limits_status; some programs FAILED"
fi

# ---- 3. the peer ----

peer_status="not run (SKIP_PEER${QUICK:+, BENCH_QUICK})"
install_missing() {  # installs the Debian packages the peer needs, if missing
  local need=()
  command -v redis-server >/dev/null || need+=(redis-server)
  command -v node >/dev/null || need+=(nodejs)
  command -v npm >/dev/null || need+=(npm)
  ((${#need[@]})) || return 0
  local sudo=""
  if [[ $(id -u) -ne 0 ]]; then
    command -v sudo >/dev/null || { say "the peer needs ${need[*]} and this user cannot install them"; return 1; }
    sudo="sudo -n"
  fi
  say "installing for the peer: ${need[*]} (apt-get; output in bench/results/apt-$stamp.log)"
  export DEBIAN_FRONTEND=noninteractive
  if ! { timeout 900 $sudo apt-get update -qq &&
         timeout 1200 $sudo apt-get -o DPkg::Lock::Timeout=600 install -y -qq \
           --no-install-recommends "${need[@]}"; } >"$results/apt-$stamp.log" 2>&1; then
    tail -5 "$results/apt-$stamp.log" >&2
    return 1
  fi
}
if [[ -z $SKIP_PEER ]]; then
  if ! install_missing; then
    peer_status="could not run: redis-server / nodejs / npm missing and not installable"
  elif ! work_copy; then
    peer_status="could not run: cannot copy $shared to $BENCH_WORK"
  else
    # redis-server from apt may have started a system instance (port 6379): ours uses its own port
    rport=$(free_port_pair)
    say "peer: run-bullmq.sh $PEER_RUNS always \"p5.w64 p5.w64.c8\" (redis on 127.0.0.1:$rport; some minutes)"
    : >"$PEER_OUT"
    if REDIS_PORT=$rport run_step "$PEER_OUT" "$tmp/peer.err" \
        timeout 3600 "$BENCH_WORK/run-bullmq.sh" "$PEER_RUNS" always "p5.w64 p5.w64.c8"; then
      peer_status="ok"
    else
      peer_status="could not run (exit $?): $(tail -1 "$tmp/peer.err")"
      tail -10 "$tmp/peer.err" >&2
    fi
    grep -q FAILED "$tmp/peer.err" 2>/dev/null && peer_status="$peer_status; some runs FAILED"
    # the peer's driver stops at 120 s per run and says so on stderr
    peer_raw=$(sed -n 's/^raw output: //p' "$PEER_OUT" 2>/dev/null | tail -1)
    if [[ -n $peer_raw && -f $BENCH_WORK/$peer_raw.stderr ]]; then
      cp "$BENCH_WORK/$peer_raw" "$BENCH_WORK/$peer_raw.stderr" "$results/" 2>/dev/null || true
      bound=$(grep -c 'time bound' "$BENCH_WORK/$peer_raw.stderr" || true)
      [[ $bound -gt 0 ]] && peer_status="$peer_status; $bound run(s) hit the peer's 120 s bound (measured fewer than N)"
    fi
  fi
fi

# ---- 4. lists at scale ----

list_status="not run (SKIP_LIST)"
# Seconds (3 decimals) and the peak RSS in KiB of one command; its stdout goes to $1.
measure() {  # measure <stdout file> <command...>  → "seconds kib"
  python3 -c 'import resource, subprocess, sys, time
start = time.monotonic()
subprocess.run(sys.argv[2:], stdout=open(sys.argv[1], "w"), check=True)
print("%.3f %d" % (time.monotonic() - start, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss))' "$@"
}
department_codes() {  # the codes of config/closeloop.toml's [[department]] tables
  awk '/^\[/ { table = $0 } table == "[[department]]" && /^code = / { gsub(/"/, "", $3); print $3 }' \
    "$root/config/closeloop.toml"
}
# CSV files of 50,000 station items each, over the config's departments, into $1/.
make_lists() {  # make_lists <dir> <first row> <rows>
  python3 - "$@" $(department_codes) <<'PY'
import os, sys
out, first, count, departments = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4:]
for start in range(first, first + count, 50000):
    with open(os.path.join(out, "list-%08d.csv" % start), "w", encoding="utf-8") as f:
        f.write("key,kind,title,body,department\n")
        for i in range(start, min(start + 50000, first + count)):
            f.write("b%d,station,路灯不亮 %d 号,第 %d 号诉求：小区门口路灯损坏多日，夜间出行不便。,%s\n"
                    % (i, i, i, departments[i % len(departments)]))
PY
}
import_lists() {  # import_lists <dir>: every CSV there, then deletes them
  local f
  for f in "$1"/list-*.csv; do
    if ! "$bin/closeloop" --config "$CONFIG" --endpoint "$ENDPOINT" --timeout 60000 import "$f" >"$tmp/import.out" 2>&1; then
      say "import of $(basename "$f") failed:"; head -5 "$tmp/import.out" >&2; return 1
    fi
    rm -f "$f"
  done
}
list_row() {  # list_row <label> <items> <list args...>: one table row
  local label=$1 items=$2 t
  shift 2
  t=$(measure "$tmp/list.out" "$bin/closeloop" --config "$CONFIG" --endpoint "$ENDPOINT" --timeout 600000 list --json "$@") || {
    echo "| $items | $label | failed | | |"; return; }
  # every item has one "id" key, and nothing inside an item has one
  echo "| $items | $label | ${t%% *} | $(( ${t##* } / 1024 )) | $(grep -o '"id":"' "$tmp/list.out" | wc -l) |"
}
kib_of() {  # kib_of <VmRSS|VmHWM> <pid>: that figure of the process, in MiB
  echo $(( $(sed -n "s/^$1:[[:space:]]*\([0-9]*\) kB/\1/p" "/proc/$2/status") / 1024 ))
}
list_figures() {  # list_figures <items> <ledger pid> <data dir>: the rows at this size
  local n=$1 pid=$2 data=$3 dept
  dept=$(department_codes | head -1)
  list_row "all, streamed" "$n"
  list_row "first page (--limit 50)" "$n" --limit 50
  list_row "--department $dept --limit 50" "$n" --department "$dept" --limit 50
  list_row "--text 诉求 --limit 50" "$n" --text 诉求 --limit 50
  list_row "--text (no match) --limit 50" "$n" --text 无此文字 --limit 50
  list_row "--overdue --limit 50" "$n" --overdue --limit 50
  echo "| $n | ledger: disk B/item; RSS MiB now (peak): heap + mapped files | $(( $(du -sb "$data/ledger" | cut -f1) / n )) | $(kib_of VmRSS "$pid") ($(kib_of VmHWM "$pid")): $(kib_of RssAnon "$pid") + $(kib_of RssFile "$pid") | |"
}
if [[ -z $SKIP_LIST ]]; then
  dir=$tmp/list
  tenth=$(( LIST_ITEMS / 10 ))
  say "lists: importing $LIST_ITEMS items, listing at $tenth and at $LIST_ITEMS"
  if start_service "$dir"; then
    ledger_pid=$(pgrep -P "$DAEMON_PID" -f closeloop-ledger | head -1)
    {
      echo "| items | query (closeloop list --json …) | seconds | CLI peak RSS MiB | items printed |"
      echo "|---|---|---|---|---|"
    } >"$LIST_OUT"
    start_s=$(date +%s.%N) list_status="ok"
    for part in first rest; do
      if [[ $part == first ]]; then from=0 count=$tenth; else from=$tenth count=$(( LIST_ITEMS - tenth )); fi
      make_lists "$dir" "$from" "$count" && import_lists "$dir" || { list_status="FAILED importing"; break; }
      [[ $part == first ]] && import_s=$(echo "$(date +%s.%N) - $start_s" | bc)
      list_figures $(( from + count )) "$ledger_pid" "$dir/data" >>"$LIST_OUT"
    done
    echo >>"$LIST_OUT"
    awk -v n="$tenth" -v s="$import_s" 'BEGIN { printf "Import of the first %d items: %.1f s (%.0f items/s).\n", n, s, n / s }' >>"$LIST_OUT"
  else
    list_status="FAILED: the service did not start"
  fi
  stop_service
  log_problems "$dir/closeloopd.log" "lists" >>"$PROBLEMS"
  rm -rf "$dir"
fi

# ---- summary ----

declare -A MED MIN MAX
load_table() {  # rows "| name | median | min - max | runs | unit |" into MED/MIN/MAX
  local name med range
  while IFS='|' read -r _ name med range _; do
    name=$(echo $name); med=$(echo $med); range=$(echo $range)
    [[ -n $name && $name != metric && $name != ---* ]] || continue
    MED[$name]=$med; MIN[$name]=${range%% - *}; MAX[$name]=${range##* - }
  done
}
[[ -s $RAW ]] && load_table < <(bash "$shared/summarize.sh" "$RAW" 2>/dev/null || true)
[[ -f $LIMITS_OUT ]] && load_table < <(grep '^| ' "$LIMITS_OUT" || true)
[[ -f $PEER_OUT ]] && load_table < <(grep '^| ' "$PEER_OUT" || true)

v() { echo "${MED[$1]:-—}"; }
range() { [[ -n ${MED[$1]:-} ]] && echo "${MIN[$1]}–${MAX[$1]}" || echo "—"; }
ms() {  # µs → ms, 3 significant digits
  [[ -n ${MED[$1]:-} ]] || { echo "—"; return; }
  awk -v x="${MED[$1]}" 'BEGIN { m = x / 1000; if (m >= 100) printf "%.0f", m; else if (m >= 10) printf "%.1f", m; else printf "%.2f", m }'
}
ratio() {  # ratio a/b of two medians
  awk -v a="$1" -v b="$2" 'BEGIN { if (a == "" || b == "" || b == 0) print "—"; else printf "%.2f×", a / b }'
}

peer_c1=bullmq.aof_always.p5.c1.w64
peer_c8=bullmq.aof_always.p5.c8.w64
best_peer="" best_peer_name=""
for p in $peer_c1 $peer_c8; do
  x=${MED[$p.lifecycles_per_s]:-}
  [[ -n $x ]] || continue
  if [[ -z $best_peer ]] || awk -v a="$x" -v b="$best_peer" 'BEGIN { exit !(a > b) }'; then
    best_peer=$x; best_peer_name=$p
  fi
done

{
  echo "## closeloop benchmark — $(date '+%Y-%m-%d %H:%M') on $(hostname), $(nproc) cores, load avg $(cut -d' ' -f1-3 /proc/loadavg)"
  echo
  echo "Medians over $RUNS round(s) (min–max beside lc/s); sync = true (every ack is on disk); closed loop, W lifecycles in flight."
  [[ -n $QUICK ]] && echo "**BENCH_QUICK: a smoke run (small N, one round); not for comparison.**"
  echo
  echo "| system | W | lifecycles/s | (min–max) | lifecycle p50 ms | p99 ms | service CPU µs/lifecycle |"
  echo "|---|---|---|---|---|---|---|"
  for w in $WINDOWS; do
    k=closeloop.w$w
    echo "| closeloop | $w | $(v $k.lifecycles_per_s) | $(range $k.lifecycles_per_s) | $(ms $k.lat_p50) | $(ms $k.lat_p99) | $(v $k.service_cpu_us_per_lifecycle) |"
  done
  k=closeloop_reads.w64
  [[ -n ${MED[$k.lifecycles_per_s]:-} ]] &&
    echo "| closeloop request path alone (5 shows of a missing item; each writes only its read-audit record) | 64 | $(v $k.lifecycles_per_s) | $(range $k.lifecycles_per_s) | $(ms $k.lat_p50) | $(ms $k.lat_p99) | $(v $k.service_cpu_us_per_lifecycle) |"
  for p in $peer_c1 $peer_c8; do
    label="BullMQ+Redis fsync always, 1 job/worker (p5.w64)"
    [[ $p == "$peer_c8" ]] && label="BullMQ+Redis fsync always, 8 jobs/worker (p5.w64.c8)"
    echo "| $label | 64 | $(v $p.lifecycles_per_s) | $(range $p.lifecycles_per_s) | $(ms $p.lat_p50) | $(ms $p.lat_p99) | redis only: $(v $p.redis_cpu_us_per_lifecycle) |"
  done
  echo
  if [[ -n $best_peer ]]; then
    echo "**closeloop W=64 / peer best (${best_peer_name#bullmq.aof_always.}): $(ratio "${MED[closeloop.w64.lifecycles_per_s]:-}" "$best_peer") lifecycles/s** (target: ≥ 10×)"
  else
    echo "**closeloop W=64 / peer best: — (the peer: $peer_status)**"
  fi
  echo
  echo "Per command, ms from send to durable ack (p50 / p99):"
  echo
  echo "| W | submit | assign | handle | verify | close | commands/s | client CPU µs/lifecycle | retries | errors |"
  echo "|---|---|---|---|---|---|---|---|---|---|"
  for w in $WINDOWS; do
    k=closeloop.w$w
    row="| $w "
    for verb in submit assign handle verify close; do row+="| $(ms $k.${verb}_p50) / $(ms $k.${verb}_p99) "; done
    row+="| $(v $k.commands_per_s) | $(v $k.client_cpu_us_per_lifecycle) | $(v $k.retries) | $(v $k.errors) |"
    echo "$row"
  done
  echo
  split=""
  for w in 64 $WINDOWS; do
    for proc in broker ledger intake dispatch handle verify close; do
      x=${MED[closeloop.w$w.cpu_us_per_lifecycle.$proc]:-}
      [[ -n $x ]] && split+="$proc $x, "
    done
    [[ -n $split ]] && { echo "Service CPU µs per lifecycle by process at W=$w: ${split%, }"; echo; break; }
  done
  echo "This machine's limits (shared/bench/run-limits.sh, same session; $limits_status):"
  echo
  echo "| limit | value |"
  echo "|---|---|"
  echo "| LevelDB synced WriteBatch of 100 records: commits/s | $(v ldb.batch100_sync.commits_per_s) (commit p50 $(v ldb.batch100_sync.commit_p50) µs; $(v ldb.batch100_sync.records_per_s) records/s) |"
  echo "| LevelDB synced single put/s | $(v ldb.put_sync.ops_per_s) (p50 $(v ldb.put_sync.p50) µs) |"
  echo "| fdatasync of 300 B | p50 $(v ldb.fdatasync.p50) µs ($(v ldb.fdatasync.ops_per_s)/s) |"
  echo "| ZeroMQ tcp DEALER/ROUTER round trip, 1 in flight | p50 $(v zmq.tcp.dealer_router.w1.rtt_p50) µs ($(v zmq.tcp.dealer_router.w1.req_per_s) req/s) |"
  echo "| ZeroMQ tcp DEALER/ROUTER, 64 in flight | $(v zmq.tcp.dealer_router.w64.req_per_s) req/s |"
  echo "| ZeroMQ tcp PUSH/PULL, 300 B msgpack | $(v zmq.tcp.pushpull_msgpack.msgs_per_s) msg/s |"
  if [[ -n ${MED[pipe5.adaptive.w64.lifecycles_per_s]:-} ]]; then
    echo "| bare 5-process pipeline, group commit (pipe5.adaptive), W=64 | $(v pipe5.adaptive.w64.lifecycles_per_s) lc/s |"
  fi
  echo
  echo "The peer: $peer_status"
  echo
  echo "Lists at scale ($list_status):"
  echo
  [[ -s $LIST_OUT ]] && cat "$LIST_OUT" && echo
  if [[ -s $PROBLEMS ]]; then
    echo "Service problems seen ($(wc -l <"$PROBLEMS") lines, all in ${PROBLEMS#$root/}):"
    echo '```'
    head -15 "$PROBLEMS"
    echo '```'
  else
    echo "Service problems seen: none (no warnings, errors or restarts in the service logs)."
  fi
  echo
  raw=${RAW#$root/}
  for f in "$LIMITS_OUT" "$PEER_OUT"; do [[ -f $f ]] && raw+=", ${f#$root/}"; done
  echo "closeloop runs: $closeloop_ok ok, $closeloop_failed failed. Raw output: $raw"
} >"$SUMMARY"
echo
cat "$SUMMARY"
echo
say "summary saved as ${SUMMARY#$root/}"
[[ $closeloop_failed -eq 0 ]]
