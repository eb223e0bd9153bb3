#!/usr/bin/env bash
# The dry run of docs/supervision.md ("A dry run, worked through"), runnable: a closeloop
# on a free port with a temp data_dir and a test clock, the year's list imported, then a
# draft of more rows checked with --dry-run (nothing imported), then the template.
#   docs/examples/import-dry-run.sh [BUILD_DIR]
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
source "$root/docs/examples/service.sh"
cd "$root"
run import docs/examples/list-2026.csv
run import --dry-run docs/examples/list-2026-draft.csv
run --json import --dry-run docs/examples/list-2026-draft.csv
echo "\$ closeloop import --template"; "$bin/closeloop" import --template | sed 's/^\xEF\xBB\xBF//; s/\r$//'
