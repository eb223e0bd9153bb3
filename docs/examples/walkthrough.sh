#!/usr/bin/env bash
# The walkthrough of docs/supervision.md, runnable: a whole closeloop on a free port with
# a temp data_dir and a test clock (so the dates below come out the same on any day),
# a year's list imported, the timer acting, a department's day, the supervisors' views,
# and an evidence bundle checked offline. Its output is what docs/supervision.md shows.
#   docs/examples/walkthrough.sh [BUILD_DIR]
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
source "$root/docs/examples/service.sh"

# 紫港街道's clerk gets an account (the office acts with its own key, found by the config).
zgjd=$("$bin/closeloop" keygen --out "$work/zgjd.key")
"$bin/closeloop" --key "$work/data/keys/admin.key" user add 紫港街道 --role department \
  --department zgjd --key "$zgjd" >/dev/null
clerk=(--key "$work/zgjd.key")

cd "$root"
run import docs/examples/list-2026.csv
escalated 2   # the timer's scans: the two items late since 11 November
run inbox --department gaj
run overdue
id=$("$bin/closeloop" --json list --kind station --department zgjd | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["id"])')
run "${clerk[@]}" sign "$id"
run "${clerk[@]}" handle "$id" --reply "已更换12盏路灯，并排查线路。" --outcome solved
run verify "$id" --via paper --attitude satisfied --result basically-satisfied --comment "基本解决，个别路段仍偏暗"
run close "$id"
run show "$id"
run trail "$id" --verify
clock 2026-12-08T01:00:00Z   # a week later: what is late now?
sleep 1.5
run attention
run scoreboard --from 2026-09-01 --to 2026-11-30
cd "$work"
run bundle "$id" --out evidence.json
echo "\$ closeloop-verify evidence.json"; "$bin/closeloop-verify" evidence.json; echo
python3 -c 'import sys; p="evidence.json"; b=open(p,"rb").read(); i=b.index("已更换".encode()); b=b[:i+3]+bytes([b[i+3]^1])+b[i+4:]; open("altered.json","wb").write(b)'
echo "\$ closeloop-verify altered.json   # one byte of the reply changed"; "$bin/closeloop-verify" altered.json || echo "(exit $?)"; echo
cd "$root"
run due --from 2026-12-20 --kind station
