#!/usr/bin/env bash
# The message catalogs' upkeep (po/README.md). BIN names the built CLI (default
# build/bin/closeloop): the verb declarations' words come from `closeloop verbs --pot`.
#   po/update.sh          extract every msgid from the code into po/closeloop.pot and merge
#                         it into zh_CN.po (new entries untranslated) and en.po (msgen:
#                         the English is the msgid)
#   po/update.sh --check  fail, naming them, while a msgid of the code has no Chinese or
#                         English translation, or a translation's {placeholders} differ
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
bin=${BIN:-build/bin/closeloop}
extract() {  # the msgids of the code and of the declarations, as a template, to $1
  local code declared
  code=$(mktemp) declared=$(mktemp)
  find common services -name '*.cc' -o -name '*.h' | LC_ALL=C sort |
    xgettext --files-from=- --language=C++ --from-code=UTF-8 --no-wrap --sort-by-file --add-location=file \
      --keyword=N_ --keyword=_ --keyword=NC_:1c,2 --keyword=tr:2 \
      --package-name=closeloop --msgid-bugs-address=' ' --output="$code"
  sed -i "s/charset=CHARSET/charset=UTF-8/" "$code"
  "$bin" verbs --pot >"$declared"
  msgcat --use-first --no-wrap --add-location=file -o "$1" "$code" "$declared"
  rm -f "$code" "$declared"
}
if [[ ${1:-} == --check ]]; then
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT
  extract "$tmp/closeloop.pot"
  status=0
  for po in po/zh_CN.po po/en.po; do
    if ! msgcmp "$po" "$tmp/closeloop.pot" 2>"$tmp/missing"; then
      echo "$po lacks translations (run po/update.sh, then translate):" >&2
      grep -v '^msgcmp: found' "$tmp/missing" >&2 || true
      status=1
    fi
  done
  python3 po/placeholders.py po/zh_CN.po po/en.po || status=1
  exit $status
fi
extract po/closeloop.pot
msgmerge --quiet --update --no-wrap --add-location=file --no-fuzzy-matching --backup=none po/zh_CN.po po/closeloop.pot
msgmerge --quiet --update --no-wrap --add-location=file --no-fuzzy-matching --backup=none po/en.po po/closeloop.pot
msgen --no-wrap -o po/en.po po/en.po
for po in po/zh_CN.po po/en.po; do msgattrib --no-obsolete --no-wrap -o "$po" "$po"; done
echo "po/zh_CN.po: $(msgattrib --untranslated po/zh_CN.po | grep -c '^msgid ' || true) to translate"
