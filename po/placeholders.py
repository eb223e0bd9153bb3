#!/usr/bin/env python3
"""Fails when a translation's {placeholders} are not its msgid's (po/update.sh --check)."""
import re
import sys


def entries(path):
    """Each entry of a .po file as {msgctxt, msgid, msgstr}; comments and obsolete ones left out."""
    for block in open(path, encoding="utf-8").read().split("\n\n"):
        entry, key = {}, None
        for line in block.splitlines():
            m = re.match(r'^(msgctxt|msgid|msgstr)\s+"(.*)"$', line)
            if m:
                key = m.group(1)
                entry[key] = m.group(2)
            elif line.startswith('"') and key:
                entry[key] += line[1:-1]
        if entry.get("msgid"):
            yield entry


def placeholders(text):
    return sorted(re.findall(r"\{\w+\}", text))


status = 0
for path in sys.argv[1:]:
    for e in entries(path):
        msgstr = e.get("msgstr", "")
        if msgstr and placeholders(msgstr) != placeholders(e["msgid"]):
            print(f"{path}: {e['msgid']!r}: the translation has {placeholders(msgstr)}, "
                  f"the msgid {placeholders(e['msgid'])}", file=sys.stderr)
            status = 1
sys.exit(status)
