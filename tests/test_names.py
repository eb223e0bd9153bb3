#!/usr/bin/env python3
"""Fails on a Catch2 test name that ctest cannot run by name (tests/CMakeLists.txt runs this):
a ';' splits it into two tests that match nothing, and a leading '-' makes Catch2 read it
as an option ("Unrecognised token")."""
import pathlib
import re
import sys

name = re.compile(r'TEST_CASE\(\s*((?:"(?:[^"\\]|\\.)*"\s*)+)')
bad = []
for path in sorted(pathlib.Path(sys.argv[1]).rglob("*.cc")):
    for m in name.finditer(path.read_text(encoding="utf-8")):
        text = "".join(re.findall(r'"((?:[^"\\]|\\.)*)"', m.group(1)))
        if ";" in text or text.startswith("-"):
            bad.append(f"{path}: {text}")
print("\n".join(bad), file=sys.stderr)
sys.exit(1 if bad else 0)
