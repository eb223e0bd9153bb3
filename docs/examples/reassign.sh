#!/usr/bin/env bash
# The 改派 and 撤销 example of docs/supervision.md, runnable like walkthrough.sh: a whole
# closeloop on a free port with a temp data_dir and a test clock, the year's list
# imported, one item reassigned to the right department, and the duplicate a corrected
# re-import made withdrawn. Its output is what docs/supervision.md shows.
#   docs/examples/reassign.sh [BUILD_DIR]
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
source "$root/docs/examples/service.sh"

cd "$root"
"$bin/closeloop" import docs/examples/list-2026.csv >/dev/null
escalated 2   # the timer's first scans: the two items late since 11 November
# 站-103 went to 县公安局; the traffic at the school gate is 县交通运输局's.
run inbox --department gaj
run assign 2026-000006 --department jtj
run reassign 2026-000006 --department jtj --reason "校门口交通组织属县交通运输局职责"
run inbox --department gaj
run inbox --department jtj
run trail 2026-000006 --verify
# A corrected copy of 站-102 was imported again: a second item beside the first.
head -1 docs/examples/list-2026.csv > "$work/corrected.csv"
grep '^站-102,' docs/examples/list-2026.csv | sed 's/影响通行。/影响通行，早晚高峰尤甚。/' >> "$work/corrected.csv"
run import "$work/corrected.csv"
escalated 3   # and the second copy
run attention
run withdraw 2026-000010 --reason "更正后重复导入" --duplicate-of 2026-000005
run attention
run list --stage withdrawn
run trail 2026-000010 --verify
run scoreboard --from 2026-09-01 --to 2026-11-30
