#!/usr/bin/env python3
"""Counts the public types of Sources/ and the ones with a doc comment (`///` or `/** */` right above
the declaration, attributes such as `@main` or `@frozen` in between allowed). Exits 1 below 100 %.

usage: tools/check_doc_comments.py [--list]     (--list prints every type without one)
"""
import pathlib
import re
import sys

DECLARATION = re.compile(r"^\s*(?:@\w+(?:\([^)]*\))?\s+)*public\s+(?:final\s+)?(?:class|struct|enum|protocol|actor|typealias)\s+(\w+)")
root = pathlib.Path(__file__).resolve().parent.parent / "Sources"
total, missing = 0, []
for path in sorted(root.rglob("*.swift")):
    lines = path.read_text(encoding="utf-8").splitlines()
    for i, line in enumerate(lines):
        m = DECLARATION.match(line)
        if not m:
            continue
        total += 1
        j = i - 1
        while j >= 0 and re.match(r"^\s*@\w+", lines[j]):  # attributes on their own lines
            j -= 1
        if j < 0 or not re.match(r"^\s*(///|\*/|/\*\*)", lines[j]):
            missing.append(f"{path.relative_to(root.parent)}:{i + 1}: {m.group(1)}")
documented = total - len(missing)
print(f"public types: {total}, with a doc comment: {documented} ({100 * documented / max(total, 1):.1f} %)")
if "--list" in sys.argv or missing:
    for m in missing:
        print("  no doc comment:", m)
sys.exit(1 if missing else 0)
